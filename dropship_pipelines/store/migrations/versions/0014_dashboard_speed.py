"""Dashboard speed: the ad metrics summed per day and platform, kept by the database.

- `ad_metrics_day_totals` (store/dashboard_tables.py): spend, clicks, purchases and revenue of
  `ad_metrics_daily` per (day, platform), and how many metrics rows each total is made of. The KPI cards'
  attributed purchases summed every campaign's row of the period (120k rows for a year of 400 campaigns,
  35-40 ms a request); /api/ads/daily summed a month of them. Both now read one row per day and platform.
  Kept by triggers on ad_metrics_daily (SQLite: per row; PostgreSQL: per statement, from its transition
  tables, so a re-pull's delete and insert of a day's rows adds one aggregated upsert each); a total
  whose rows are all gone is removed. Backfilled here.

The trigger bodies are literal statements, one per dialect, as in 0010.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)

# --- SQLite: per row. An update moves the old row's share out and the new row's in. -------------------
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER ad_metrics_totals_insert AFTER INSERT ON ad_metrics_daily
    BEGIN
        INSERT INTO ad_metrics_day_totals (day, platform, spend, clicks, purchases, revenue, campaigns)
        VALUES (NEW.day, NEW.platform, NEW.spend, NEW.clicks, NEW.purchases, NEW.revenue, 1)
        ON CONFLICT (day, platform) DO UPDATE SET
            spend = spend + excluded.spend,
            clicks = clicks + excluded.clicks,
            purchases = purchases + excluded.purchases,
            revenue = revenue + excluded.revenue,
            campaigns = campaigns + 1;
    END
    """,
    """
    CREATE TRIGGER ad_metrics_totals_update
    AFTER UPDATE OF day, platform, spend, clicks, purchases, revenue ON ad_metrics_daily
    BEGIN
        UPDATE ad_metrics_day_totals SET
            spend = spend - OLD.spend,
            clicks = clicks - OLD.clicks,
            purchases = purchases - OLD.purchases,
            revenue = revenue - OLD.revenue,
            campaigns = campaigns - 1
        WHERE day = OLD.day AND platform = OLD.platform;
        DELETE FROM ad_metrics_day_totals
        WHERE day = OLD.day AND platform = OLD.platform AND campaigns <= 0;
        INSERT INTO ad_metrics_day_totals (day, platform, spend, clicks, purchases, revenue, campaigns)
        VALUES (NEW.day, NEW.platform, NEW.spend, NEW.clicks, NEW.purchases, NEW.revenue, 1)
        ON CONFLICT (day, platform) DO UPDATE SET
            spend = spend + excluded.spend,
            clicks = clicks + excluded.clicks,
            purchases = purchases + excluded.purchases,
            revenue = revenue + excluded.revenue,
            campaigns = campaigns + 1;
    END
    """,
    """
    CREATE TRIGGER ad_metrics_totals_delete AFTER DELETE ON ad_metrics_daily
    BEGIN
        UPDATE ad_metrics_day_totals SET
            spend = spend - OLD.spend,
            clicks = clicks - OLD.clicks,
            purchases = purchases - OLD.purchases,
            revenue = revenue - OLD.revenue,
            campaigns = campaigns - 1
        WHERE day = OLD.day AND platform = OLD.platform;
        DELETE FROM ad_metrics_day_totals
        WHERE day = OLD.day AND platform = OLD.platform AND campaigns <= 0;
    END
    """,
)
SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS ad_metrics_totals_insert",
    "DROP TRIGGER IF EXISTS ad_metrics_totals_update",
    "DROP TRIGGER IF EXISTS ad_metrics_totals_delete",
)

# --- PostgreSQL: per statement, the statement's rows (new in, old out) summed per day and platform -----
# One function for the three statements; plpgsql plans a statement when it first runs it, so the branch
# that reads a transition table the trigger does not have is never planned. Keys are upserted in order,
# so two writers of overlapping days lock the totals in the same order (no deadlock).
POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION total_ad_metric_days() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO ad_metrics_day_totals AS t
                (day, platform, spend, clicks, purchases, revenue, campaigns)
            SELECT day, platform, sum(spend), sum(clicks), sum(purchases), sum(revenue), count(*)
            FROM new_rows GROUP BY day, platform ORDER BY day, platform
            ON CONFLICT (day, platform) DO UPDATE SET
                spend = t.spend + EXCLUDED.spend,
                clicks = t.clicks + EXCLUDED.clicks,
                purchases = t.purchases + EXCLUDED.purchases,
                revenue = t.revenue + EXCLUDED.revenue,
                campaigns = t.campaigns + EXCLUDED.campaigns;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO ad_metrics_day_totals AS t
                (day, platform, spend, clicks, purchases, revenue, campaigns)
            SELECT day, platform, sum(spend), sum(clicks), sum(purchases), sum(revenue), sum(n)
            FROM (
                SELECT day, platform, spend, clicks, purchases, revenue, 1 AS n FROM new_rows
                UNION ALL
                SELECT day, platform, -spend, -clicks, -purchases, -revenue, -1 FROM old_rows
            ) AS changes
            GROUP BY day, platform ORDER BY day, platform
            ON CONFLICT (day, platform) DO UPDATE SET
                spend = t.spend + EXCLUDED.spend,
                clicks = t.clicks + EXCLUDED.clicks,
                purchases = t.purchases + EXCLUDED.purchases,
                revenue = t.revenue + EXCLUDED.revenue,
                campaigns = t.campaigns + EXCLUDED.campaigns;
            DELETE FROM ad_metrics_day_totals t USING old_rows o
            WHERE t.day = o.day AND t.platform = o.platform AND t.campaigns <= 0;
        ELSE
            UPDATE ad_metrics_day_totals t SET
                spend = t.spend - o.spend,
                clicks = t.clicks - o.clicks,
                purchases = t.purchases - o.purchases,
                revenue = t.revenue - o.revenue,
                campaigns = t.campaigns - o.n
            FROM (
                SELECT day, platform, sum(spend) AS spend, sum(clicks) AS clicks,
                       sum(purchases) AS purchases, sum(revenue) AS revenue, count(*) AS n
                FROM old_rows GROUP BY day, platform
            ) AS o
            WHERE t.day = o.day AND t.platform = o.platform;
            DELETE FROM ad_metrics_day_totals t USING old_rows o
            WHERE t.day = o.day AND t.platform = o.platform AND t.campaigns <= 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER ad_metrics_totals_insert AFTER INSERT ON ad_metrics_daily
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION total_ad_metric_days()
    """,
    """
    CREATE TRIGGER ad_metrics_totals_update AFTER UPDATE ON ad_metrics_daily
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION total_ad_metric_days()
    """,
    """
    CREATE TRIGGER ad_metrics_totals_delete AFTER DELETE ON ad_metrics_daily
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION total_ad_metric_days()
    """,
)
POSTGRESQL_DROPS = (
    "DROP TRIGGER IF EXISTS ad_metrics_totals_delete ON ad_metrics_daily",
    "DROP TRIGGER IF EXISTS ad_metrics_totals_update ON ad_metrics_daily",
    "DROP TRIGGER IF EXISTS ad_metrics_totals_insert ON ad_metrics_daily",
    "DROP FUNCTION IF EXISTS total_ad_metric_days()",
)
BACKFILL = """
    INSERT INTO ad_metrics_day_totals (day, platform, spend, clicks, purchases, revenue, campaigns)
    SELECT day, platform, sum(spend), sum(clicks), sum(purchases), sum(revenue), count(*)
    FROM ad_metrics_daily GROUP BY day, platform
"""


def upgrade() -> None:
    op.create_table(
        "ad_metrics_day_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("spend", MONEY, nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("revenue", MONEY, nullable=False),
        sa.Column("campaigns", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DROPS if postgresql else SQLITE_DROPS:
        op.execute(statement)
    op.drop_table("ad_metrics_day_totals")
