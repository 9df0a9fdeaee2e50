"""Dashboard speed: the ad metrics summed per day and platform, kept by the database.

- `ad_metrics_day_totals` (store/dashboard_tables.py): spend, clicks, purchases and revenue of
  `ad_metrics_daily` per (day, platform), and how many metrics rows each total is made of. The KPI cards'
  attributed purchases summed every campaign's row of the period (120k rows for a year of 400 campaigns,
  35-40 ms a request); /api/ads/daily summed a month of them. Both now read one row per day and platform.
  Kept by triggers on ad_metrics_daily (SQLite: per row; PostgreSQL: per statement, from its transition
  tables, so a re-pull's delete and insert of a day's rows adds one aggregated upsert each); a total
  whose rows are all gone is removed. Backfilled here.

- `dashboard_table_versions` (store/dashboard_tables.py): a version per cached summary, bumped by
  triggers on every insert, update and delete of analytics_daily_profit and analytics_daily_sales
  (`daily`), so the dashboard serves /api/metrics/daily (300 days, 87 kB of JSON at a year of trading)
  from its cache until either table changes, whoever writes it.

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


# analytics_daily_profit and analytics_daily_sales both make the `daily` version.
SQLITE_VERSION_TRIGGERS = (
    """
    CREATE TRIGGER analytics_daily_profit_version_insert AFTER INSERT ON analytics_daily_profit
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'daily';
    END
    """,
    """
    CREATE TRIGGER analytics_daily_profit_version_update AFTER UPDATE ON analytics_daily_profit
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'daily';
    END
    """,
    """
    CREATE TRIGGER analytics_daily_profit_version_delete AFTER DELETE ON analytics_daily_profit
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'daily';
    END
    """,
    """
    CREATE TRIGGER analytics_daily_sales_version_insert AFTER INSERT ON analytics_daily_sales
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'daily';
    END
    """,
    """
    CREATE TRIGGER analytics_daily_sales_version_update AFTER UPDATE ON analytics_daily_sales
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'daily';
    END
    """,
    """
    CREATE TRIGGER analytics_daily_sales_version_delete AFTER DELETE ON analytics_daily_sales
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'daily';
    END
    """,
)
SQLITE_VERSION_DROPS = (
    "DROP TRIGGER IF EXISTS analytics_daily_profit_version_insert",
    "DROP TRIGGER IF EXISTS analytics_daily_profit_version_update",
    "DROP TRIGGER IF EXISTS analytics_daily_profit_version_delete",
    "DROP TRIGGER IF EXISTS analytics_daily_sales_version_insert",
    "DROP TRIGGER IF EXISTS analytics_daily_sales_version_update",
    "DROP TRIGGER IF EXISTS analytics_daily_sales_version_delete",
)
POSTGRESQL_VERSION_TRIGGERS = (
    """
    CREATE FUNCTION bump_daily_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'daily';
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER analytics_daily_profit_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analytics_daily_profit
    FOR EACH STATEMENT EXECUTE FUNCTION bump_daily_version()
    """,
    """
    CREATE TRIGGER analytics_daily_sales_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analytics_daily_sales
    FOR EACH STATEMENT EXECUTE FUNCTION bump_daily_version()
    """,
)
POSTGRESQL_VERSION_DROPS = (
    "DROP TRIGGER IF EXISTS analytics_daily_profit_version ON analytics_daily_profit",
    "DROP TRIGGER IF EXISTS analytics_daily_sales_version ON analytics_daily_sales",
    "DROP FUNCTION IF EXISTS bump_daily_version()",
)


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
    op.create_table(
        "dashboard_table_versions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute("INSERT INTO dashboard_table_versions (name, version) VALUES ('daily', 1)")
    for statement in POSTGRESQL_VERSION_TRIGGERS if postgresql else SQLITE_VERSION_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_VERSION_DROPS if postgresql else SQLITE_VERSION_DROPS:
        op.execute(statement)
    op.drop_table("dashboard_table_versions")
    for statement in POSTGRESQL_DROPS if postgresql else SQLITE_DROPS:
        op.execute(statement)
    op.drop_table("ad_metrics_day_totals")
