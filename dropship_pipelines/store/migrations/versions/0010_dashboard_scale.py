"""Dashboard at scale: stored flags, indexes.

- `store_orders.needs_attention`: the order needs a human (held, its supplier order refused or failing,
  or its fulfillment failed). Derived by triggers on store_orders, supplier_orders and fulfillments, so
  it follows every write to the states it is made of, whoever makes it; backfilled here.
- `ix_store_orders_needs_attention`: a partial index of just those orders, in page order.
- `ix_store_orders_placed_at_order_id`: keyset pages of all orders, newest first.
- `ix_ad_metrics_daily_day_totals`: the daily totals per platform, summed from the index alone.
- `ix_support_replies_ticket_state`, `ix_support_replies_state_received_at`: a ticket's status and the
  escalations page read from an index in the order they need.
- `order_counts_daily`: orders not cancelled per UTC day and source, kept by triggers on store_orders
  (SQLite: per row; PostgreSQL: per statement, from its transition tables, so a bulk load or a COPY adds
  one aggregated upsert, not one per order); backfilled here.

The trigger bodies are literal statements, one per dialect (no SQL is built from strings): the rule
they repeat is `fulfillment_tables.NEEDS_ATTENTION`'s definition,

    state = 'problem'
    OR its supplier order is failed or has a last error (SUPPLIER_TROUBLE)
    OR its fulfillment is failed (FULFILLMENT_FAILED)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ATTENTION_WHERE = sa.text("needs_attention = true")

# --- SQLite: AFTER triggers that recompute the flag of the order a row belongs to --------------------
# Each UPDATE writes only when the flag changes (`IS NOT`), and fires only when a part of the rule may
# have changed (WHEN), so a bulk load of orders that need nothing costs one check per row.
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER store_orders_attention_insert AFTER INSERT ON store_orders
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'))
        WHERE order_id = NEW.order_id AND needs_attention IS NOT (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'));
    END
    """,
    """
    CREATE TRIGGER store_orders_attention_update AFTER UPDATE OF state, needs_attention ON store_orders
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'))
        WHERE order_id = NEW.order_id AND needs_attention IS NOT (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'));
    END
    """,
    """
    CREATE TRIGGER supplier_orders_attention_insert AFTER INSERT ON supplier_orders
    WHEN NEW.state = 'failed' OR NEW.last_error IS NOT NULL
    BEGIN
        UPDATE store_orders SET needs_attention = 1
        WHERE order_id = NEW.order_id AND needs_attention IS NOT 1;
    END
    """,
    """
    CREATE TRIGGER supplier_orders_attention_update AFTER UPDATE OF state, last_error, order_id
    ON supplier_orders
    WHEN (OLD.state = 'failed' OR OLD.last_error IS NOT NULL)
         IS NOT (NEW.state = 'failed' OR NEW.last_error IS NOT NULL)
        OR OLD.order_id IS NOT NEW.order_id
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'))
        WHERE order_id IN (OLD.order_id, NEW.order_id);
    END
    """,
    """
    CREATE TRIGGER supplier_orders_attention_delete AFTER DELETE ON supplier_orders
    WHEN OLD.state = 'failed' OR OLD.last_error IS NOT NULL
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'))
        WHERE order_id = OLD.order_id;
    END
    """,
    """
    CREATE TRIGGER fulfillments_attention_insert AFTER INSERT ON fulfillments
    WHEN NEW.state = 'failed'
    BEGIN
        UPDATE store_orders SET needs_attention = 1
        WHERE order_id = NEW.order_id AND needs_attention IS NOT 1;
    END
    """,
    """
    CREATE TRIGGER fulfillments_attention_update AFTER UPDATE OF state, order_id ON fulfillments
    WHEN (OLD.state = 'failed') IS NOT (NEW.state = 'failed') OR OLD.order_id IS NOT NEW.order_id
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'))
        WHERE order_id IN (OLD.order_id, NEW.order_id);
    END
    """,
    """
    CREATE TRIGGER fulfillments_attention_delete AFTER DELETE ON fulfillments
    WHEN OLD.state = 'failed'
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed'))
        WHERE order_id = OLD.order_id;
    END
    """,
)
SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS store_orders_attention_insert",
    "DROP TRIGGER IF EXISTS store_orders_attention_update",
    "DROP TRIGGER IF EXISTS supplier_orders_attention_insert",
    "DROP TRIGGER IF EXISTS supplier_orders_attention_update",
    "DROP TRIGGER IF EXISTS supplier_orders_attention_delete",
    "DROP TRIGGER IF EXISTS fulfillments_attention_insert",
    "DROP TRIGGER IF EXISTS fulfillments_attention_update",
    "DROP TRIGGER IF EXISTS fulfillments_attention_delete",
)

# --- PostgreSQL: the order's own row sets its flag before it is written; the other two tables refresh
# the order they belong to after theirs ------------------------------------------------------------------
POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION store_order_needs_attention() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.needs_attention := NEW.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = NEW.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = NEW.order_id AND f.state = 'failed');
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER store_orders_attention BEFORE INSERT OR UPDATE OF state, needs_attention ON store_orders
    FOR EACH ROW EXECUTE FUNCTION store_order_needs_attention()
    """,
    # Touching the order's flag re-runs the BEFORE trigger above, which recomputes it from all three.
    """
    CREATE FUNCTION refresh_order_needs_attention() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE store_orders SET needs_attention = NOT needs_attention WHERE order_id = OLD.order_id;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.order_id IS DISTINCT FROM OLD.order_id) THEN
            UPDATE store_orders SET needs_attention = NOT needs_attention WHERE order_id = NEW.order_id;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER supplier_orders_attention_insert AFTER INSERT ON supplier_orders
    FOR EACH ROW WHEN (NEW.state = 'failed' OR NEW.last_error IS NOT NULL)
    EXECUTE FUNCTION refresh_order_needs_attention()
    """,
    """
    CREATE TRIGGER supplier_orders_attention_update AFTER UPDATE OF state, last_error, order_id
    ON supplier_orders FOR EACH ROW
    WHEN ((OLD.state = 'failed' OR OLD.last_error IS NOT NULL)
          IS DISTINCT FROM (NEW.state = 'failed' OR NEW.last_error IS NOT NULL)
          OR OLD.order_id IS DISTINCT FROM NEW.order_id)
    EXECUTE FUNCTION refresh_order_needs_attention()
    """,
    """
    CREATE TRIGGER supplier_orders_attention_delete AFTER DELETE ON supplier_orders
    FOR EACH ROW WHEN (OLD.state = 'failed' OR OLD.last_error IS NOT NULL)
    EXECUTE FUNCTION refresh_order_needs_attention()
    """,
    """
    CREATE TRIGGER fulfillments_attention_insert AFTER INSERT ON fulfillments
    FOR EACH ROW WHEN (NEW.state = 'failed')
    EXECUTE FUNCTION refresh_order_needs_attention()
    """,
    """
    CREATE TRIGGER fulfillments_attention_update AFTER UPDATE OF state, order_id ON fulfillments
    FOR EACH ROW
    WHEN ((OLD.state = 'failed') IS DISTINCT FROM (NEW.state = 'failed')
          OR OLD.order_id IS DISTINCT FROM NEW.order_id)
    EXECUTE FUNCTION refresh_order_needs_attention()
    """,
    """
    CREATE TRIGGER fulfillments_attention_delete AFTER DELETE ON fulfillments
    FOR EACH ROW WHEN (OLD.state = 'failed')
    EXECUTE FUNCTION refresh_order_needs_attention()
    """,
)
POSTGRESQL_DROPS = (
    "DROP TRIGGER IF EXISTS fulfillments_attention_delete ON fulfillments",
    "DROP TRIGGER IF EXISTS fulfillments_attention_update ON fulfillments",
    "DROP TRIGGER IF EXISTS fulfillments_attention_insert ON fulfillments",
    "DROP TRIGGER IF EXISTS supplier_orders_attention_delete ON supplier_orders",
    "DROP TRIGGER IF EXISTS supplier_orders_attention_update ON supplier_orders",
    "DROP TRIGGER IF EXISTS supplier_orders_attention_insert ON supplier_orders",
    "DROP FUNCTION IF EXISTS refresh_order_needs_attention()",
    "DROP TRIGGER IF EXISTS store_orders_attention ON store_orders",
    "DROP FUNCTION IF EXISTS store_order_needs_attention()",
)

SQLITE_COUNT_TRIGGERS = (
    """
    CREATE TRIGGER store_orders_counts_insert AFTER INSERT ON store_orders
    WHEN NEW.state != 'cancelled'
    BEGIN
        INSERT INTO order_counts_daily (day, source, orders)
        VALUES (substr(NEW.placed_at, 1, 10), NEW.source, 1)
        ON CONFLICT (day, source) DO UPDATE SET orders = orders + 1;
    END
    """,
    """
    CREATE TRIGGER store_orders_counts_update AFTER UPDATE OF state, source, placed_at ON store_orders
    WHEN (OLD.state != 'cancelled') IS NOT (NEW.state != 'cancelled') OR OLD.source IS NOT NEW.source
        OR substr(OLD.placed_at, 1, 10) IS NOT substr(NEW.placed_at, 1, 10)
    BEGIN
        UPDATE order_counts_daily SET orders = orders - 1
        WHERE OLD.state != 'cancelled' AND day = substr(OLD.placed_at, 1, 10) AND source = OLD.source;
        INSERT INTO order_counts_daily (day, source, orders)
        SELECT substr(NEW.placed_at, 1, 10), NEW.source, 1 WHERE NEW.state != 'cancelled'
        ON CONFLICT (day, source) DO UPDATE SET orders = orders + 1;
    END
    """,
    """
    CREATE TRIGGER store_orders_counts_delete AFTER DELETE ON store_orders
    WHEN OLD.state != 'cancelled'
    BEGIN
        UPDATE order_counts_daily SET orders = orders - 1
        WHERE day = substr(OLD.placed_at, 1, 10) AND source = OLD.source;
    END
    """,
)
SQLITE_COUNT_DROPS = (
    "DROP TRIGGER IF EXISTS store_orders_counts_insert",
    "DROP TRIGGER IF EXISTS store_orders_counts_update",
    "DROP TRIGGER IF EXISTS store_orders_counts_delete",
)
POSTGRESQL_COUNT_TRIGGERS = (
    # One function for the three statements; plpgsql plans a statement when it first runs it, so the
    # branch that reads a transition table the trigger does not have is never planned.
    """
    CREATE FUNCTION count_order_days() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO order_counts_daily (day, source, orders)
            SELECT (placed_at AT TIME ZONE 'UTC')::date, source, count(*)
            FROM new_rows WHERE state <> 'cancelled' GROUP BY 1, 2
            ON CONFLICT (day, source) DO UPDATE SET orders = order_counts_daily.orders + EXCLUDED.orders;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO order_counts_daily (day, source, orders)
            SELECT (placed_at AT TIME ZONE 'UTC')::date, source, -count(*)
            FROM old_rows WHERE state <> 'cancelled' GROUP BY 1, 2
            ON CONFLICT (day, source) DO UPDATE SET orders = order_counts_daily.orders + EXCLUDED.orders;
        ELSE
            INSERT INTO order_counts_daily (day, source, orders)
            SELECT day, source, sum(n) FROM (
                SELECT (placed_at AT TIME ZONE 'UTC')::date AS day, source, 1 AS n
                FROM new_rows WHERE state <> 'cancelled'
                UNION ALL
                SELECT (placed_at AT TIME ZONE 'UTC')::date, source, -1
                FROM old_rows WHERE state <> 'cancelled'
            ) AS changes
            GROUP BY day, source HAVING sum(n) <> 0
            ON CONFLICT (day, source) DO UPDATE SET orders = order_counts_daily.orders + EXCLUDED.orders;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER store_orders_counts_insert AFTER INSERT ON store_orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_order_days()
    """,
    """
    CREATE TRIGGER store_orders_counts_update AFTER UPDATE ON store_orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_order_days()
    """,
    """
    CREATE TRIGGER store_orders_counts_delete AFTER DELETE ON store_orders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_order_days()
    """,
)
POSTGRESQL_COUNT_DROPS = (
    "DROP TRIGGER IF EXISTS store_orders_counts_delete ON store_orders",
    "DROP TRIGGER IF EXISTS store_orders_counts_update ON store_orders",
    "DROP TRIGGER IF EXISTS store_orders_counts_insert ON store_orders",
    "DROP FUNCTION IF EXISTS count_order_days()",
)
SQLITE_COUNT_BACKFILL = """
    INSERT INTO order_counts_daily (day, source, orders)
    SELECT substr(placed_at, 1, 10), source, count(*) FROM store_orders WHERE state != 'cancelled'
    GROUP BY 1, 2
"""
POSTGRESQL_COUNT_BACKFILL = """
    INSERT INTO order_counts_daily (day, source, orders)
    SELECT (placed_at AT TIME ZONE 'UTC')::date, source, count(*) FROM store_orders WHERE state <> 'cancelled'
    GROUP BY 1, 2
"""

BACKFILL = """
    UPDATE store_orders SET needs_attention = true
    WHERE state = 'problem'
       OR order_id IN (SELECT order_id FROM supplier_orders WHERE state = 'failed' OR last_error IS NOT NULL)
       OR order_id IN (SELECT order_id FROM fulfillments WHERE state = 'failed')
"""


def upgrade() -> None:
    op.add_column(
        "store_orders", sa.Column("needs_attention", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_index(
        "ix_store_orders_placed_at_order_id", "store_orders", ["placed_at", "order_id"], unique=False
    )
    op.create_index(
        "ix_store_orders_needs_attention",
        "store_orders",
        ["placed_at", "order_id"],
        unique=False,
        sqlite_where=ATTENTION_WHERE,
        postgresql_where=ATTENTION_WHERE,
    )
    op.create_index(
        "ix_ad_metrics_daily_day_totals",
        "ad_metrics_daily",
        ["day", "platform", "spend", "clicks", "purchases", "revenue"],
        unique=False,
    )
    op.create_index(
        "ix_support_replies_ticket_state",
        "support_replies",
        ["ticket_id", "state", "received_at"],
        unique=False,
    )
    op.create_index(
        "ix_support_replies_state_received_at", "support_replies", ["state", "received_at"], unique=False
    )
    op.create_table(
        "order_counts_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "source"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(BACKFILL)
    for statement in POSTGRESQL_COUNT_TRIGGERS if postgresql else SQLITE_COUNT_TRIGGERS:
        op.execute(statement)
    op.execute(POSTGRESQL_COUNT_BACKFILL if postgresql else SQLITE_COUNT_BACKFILL)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DROPS if postgresql else SQLITE_DROPS:
        op.execute(statement)
    for statement in POSTGRESQL_COUNT_DROPS if postgresql else SQLITE_COUNT_DROPS:
        op.execute(statement)
    op.drop_table("order_counts_daily")
    op.drop_index("ix_support_replies_state_received_at", table_name="support_replies")
    op.drop_index("ix_support_replies_ticket_state", table_name="support_replies")
    op.drop_index("ix_ad_metrics_daily_day_totals", table_name="ad_metrics_daily")
    op.drop_index("ix_store_orders_needs_attention", table_name="store_orders")
    op.drop_index("ix_store_orders_placed_at_order_id", table_name="store_orders")
    with op.batch_alter_table("store_orders") as batch:
        batch.drop_column("needs_attention")
