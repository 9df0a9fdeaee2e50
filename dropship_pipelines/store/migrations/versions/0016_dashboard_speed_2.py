"""Dashboard speed 2: a version per table the dashboard pages read, bumped by the database on every write.

`dashboard_table_versions` (0014) gains a counter per table below, so the dashboard answers a repeated
read from its serialized answer after one small read of the versions of the tables that answer is made
of (dashboard/api/cache.py), and reads the ledger again after any write to them, whoever makes it.

- SQLite: one row per table (`name` = the table, made here), bumped per row written. SQLite has one
  writer at a time, so the row adds no waiting; it costs one keyed update per row written.
- PostgreSQL: per statement (a COPY of a million orders bumps once). The row bumped is the table's shard
  for the writing backend (`<table>#<backend pid mod 8>`): the row is locked until the writer commits, and
  one row per table would make every two transactions writing the same table wait on each other (and
  could deadlock two that write two tables in opposite orders). The reader sums a table's rows.

The trigger bodies are literal statements, one per dialect, as in 0010 and 0014.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BUMP_FUNCTION = """
    CREATE FUNCTION bump_dashboard_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO dashboard_table_versions AS v (name, version)
        VALUES (TG_TABLE_NAME || '#' || (pg_backend_pid() % 8), 1)
        ON CONFLICT (name) DO UPDATE SET version = v.version + 1;
        RETURN NULL;
    END $$
"""

VERSIONED = (
    "store_orders",
    "supplier_orders",
    "fulfillments",
    "product_candidates",
    "listings",
    "ad_campaigns",
    "ad_creatives",
    "ad_actions",
    "creative_tests",
    "ad_variant_ads",
    "analytics_kpis",
    "analytics_top_products",
    "analytics_ad_performance",
    "ad_metrics_day_totals",
    "order_counts_daily",
    "support_tickets",
    "support_replies",
    "support_messages",
)
# --- SQLite: one row per table (made here), bumped per row written: SQLite has no statement triggers,
# and one writer at a time, so the row is never contended. A plain keyed update, not an upsert: it is paid
# on every row of a bulk load.
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER store_orders_version_insert AFTER INSERT ON store_orders
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'store_orders';
    END
    """,
    """
    CREATE TRIGGER store_orders_version_update AFTER UPDATE ON store_orders
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'store_orders';
    END
    """,
    """
    CREATE TRIGGER store_orders_version_delete AFTER DELETE ON store_orders
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'store_orders';
    END
    """,
    """
    CREATE TRIGGER supplier_orders_version_insert AFTER INSERT ON supplier_orders
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'supplier_orders';
    END
    """,
    """
    CREATE TRIGGER supplier_orders_version_update AFTER UPDATE ON supplier_orders
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'supplier_orders';
    END
    """,
    """
    CREATE TRIGGER supplier_orders_version_delete AFTER DELETE ON supplier_orders
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'supplier_orders';
    END
    """,
    """
    CREATE TRIGGER fulfillments_version_insert AFTER INSERT ON fulfillments
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'fulfillments';
    END
    """,
    """
    CREATE TRIGGER fulfillments_version_update AFTER UPDATE ON fulfillments
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'fulfillments';
    END
    """,
    """
    CREATE TRIGGER fulfillments_version_delete AFTER DELETE ON fulfillments
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'fulfillments';
    END
    """,
    """
    CREATE TRIGGER product_candidates_version_insert AFTER INSERT ON product_candidates
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'product_candidates';
    END
    """,
    """
    CREATE TRIGGER product_candidates_version_update AFTER UPDATE ON product_candidates
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'product_candidates';
    END
    """,
    """
    CREATE TRIGGER product_candidates_version_delete AFTER DELETE ON product_candidates
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'product_candidates';
    END
    """,
    """
    CREATE TRIGGER listings_version_insert AFTER INSERT ON listings
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'listings';
    END
    """,
    """
    CREATE TRIGGER listings_version_update AFTER UPDATE ON listings
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'listings';
    END
    """,
    """
    CREATE TRIGGER listings_version_delete AFTER DELETE ON listings
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'listings';
    END
    """,
    """
    CREATE TRIGGER ad_campaigns_version_insert AFTER INSERT ON ad_campaigns
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_campaigns';
    END
    """,
    """
    CREATE TRIGGER ad_campaigns_version_update AFTER UPDATE ON ad_campaigns
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_campaigns';
    END
    """,
    """
    CREATE TRIGGER ad_campaigns_version_delete AFTER DELETE ON ad_campaigns
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_campaigns';
    END
    """,
    """
    CREATE TRIGGER ad_creatives_version_insert AFTER INSERT ON ad_creatives
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_creatives';
    END
    """,
    """
    CREATE TRIGGER ad_creatives_version_update AFTER UPDATE ON ad_creatives
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_creatives';
    END
    """,
    """
    CREATE TRIGGER ad_creatives_version_delete AFTER DELETE ON ad_creatives
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_creatives';
    END
    """,
    """
    CREATE TRIGGER ad_actions_version_insert AFTER INSERT ON ad_actions
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_actions';
    END
    """,
    """
    CREATE TRIGGER ad_actions_version_update AFTER UPDATE ON ad_actions
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_actions';
    END
    """,
    """
    CREATE TRIGGER ad_actions_version_delete AFTER DELETE ON ad_actions
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_actions';
    END
    """,
    """
    CREATE TRIGGER creative_tests_version_insert AFTER INSERT ON creative_tests
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'creative_tests';
    END
    """,
    """
    CREATE TRIGGER creative_tests_version_update AFTER UPDATE ON creative_tests
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'creative_tests';
    END
    """,
    """
    CREATE TRIGGER creative_tests_version_delete AFTER DELETE ON creative_tests
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'creative_tests';
    END
    """,
    """
    CREATE TRIGGER ad_variant_ads_version_insert AFTER INSERT ON ad_variant_ads
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_variant_ads';
    END
    """,
    """
    CREATE TRIGGER ad_variant_ads_version_update AFTER UPDATE ON ad_variant_ads
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_variant_ads';
    END
    """,
    """
    CREATE TRIGGER ad_variant_ads_version_delete AFTER DELETE ON ad_variant_ads
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_variant_ads';
    END
    """,
    """
    CREATE TRIGGER analytics_kpis_version_insert AFTER INSERT ON analytics_kpis
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_kpis';
    END
    """,
    """
    CREATE TRIGGER analytics_kpis_version_update AFTER UPDATE ON analytics_kpis
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_kpis';
    END
    """,
    """
    CREATE TRIGGER analytics_kpis_version_delete AFTER DELETE ON analytics_kpis
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_kpis';
    END
    """,
    """
    CREATE TRIGGER analytics_top_products_version_insert AFTER INSERT ON analytics_top_products
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_top_products';
    END
    """,
    """
    CREATE TRIGGER analytics_top_products_version_update AFTER UPDATE ON analytics_top_products
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_top_products';
    END
    """,
    """
    CREATE TRIGGER analytics_top_products_version_delete AFTER DELETE ON analytics_top_products
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_top_products';
    END
    """,
    """
    CREATE TRIGGER analytics_ad_performance_version_insert AFTER INSERT ON analytics_ad_performance
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_ad_performance';
    END
    """,
    """
    CREATE TRIGGER analytics_ad_performance_version_update AFTER UPDATE ON analytics_ad_performance
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_ad_performance';
    END
    """,
    """
    CREATE TRIGGER analytics_ad_performance_version_delete AFTER DELETE ON analytics_ad_performance
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'analytics_ad_performance';
    END
    """,
    """
    CREATE TRIGGER ad_metrics_day_totals_version_insert AFTER INSERT ON ad_metrics_day_totals
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_metrics_day_totals';
    END
    """,
    """
    CREATE TRIGGER ad_metrics_day_totals_version_update AFTER UPDATE ON ad_metrics_day_totals
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_metrics_day_totals';
    END
    """,
    """
    CREATE TRIGGER ad_metrics_day_totals_version_delete AFTER DELETE ON ad_metrics_day_totals
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'ad_metrics_day_totals';
    END
    """,
    """
    CREATE TRIGGER order_counts_daily_version_insert AFTER INSERT ON order_counts_daily
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'order_counts_daily';
    END
    """,
    """
    CREATE TRIGGER order_counts_daily_version_update AFTER UPDATE ON order_counts_daily
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'order_counts_daily';
    END
    """,
    """
    CREATE TRIGGER order_counts_daily_version_delete AFTER DELETE ON order_counts_daily
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'order_counts_daily';
    END
    """,
    """
    CREATE TRIGGER support_tickets_version_insert AFTER INSERT ON support_tickets
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_tickets';
    END
    """,
    """
    CREATE TRIGGER support_tickets_version_update AFTER UPDATE ON support_tickets
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_tickets';
    END
    """,
    """
    CREATE TRIGGER support_tickets_version_delete AFTER DELETE ON support_tickets
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_tickets';
    END
    """,
    """
    CREATE TRIGGER support_replies_version_insert AFTER INSERT ON support_replies
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_replies';
    END
    """,
    """
    CREATE TRIGGER support_replies_version_update AFTER UPDATE ON support_replies
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_replies';
    END
    """,
    """
    CREATE TRIGGER support_replies_version_delete AFTER DELETE ON support_replies
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_replies';
    END
    """,
    """
    CREATE TRIGGER support_messages_version_insert AFTER INSERT ON support_messages
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_messages';
    END
    """,
    """
    CREATE TRIGGER support_messages_version_update AFTER UPDATE ON support_messages
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_messages';
    END
    """,
    """
    CREATE TRIGGER support_messages_version_delete AFTER DELETE ON support_messages
    BEGIN
        UPDATE dashboard_table_versions SET version = version + 1 WHERE name = 'support_messages';
    END
    """,
)
SQLITE_COUNTERS = """
    INSERT INTO dashboard_table_versions (name, version) VALUES
        ('store_orders', 1),
        ('supplier_orders', 1),
        ('fulfillments', 1),
        ('product_candidates', 1),
        ('listings', 1),
        ('ad_campaigns', 1),
        ('ad_creatives', 1),
        ('ad_actions', 1),
        ('creative_tests', 1),
        ('ad_variant_ads', 1),
        ('analytics_kpis', 1),
        ('analytics_top_products', 1),
        ('analytics_ad_performance', 1),
        ('ad_metrics_day_totals', 1),
        ('order_counts_daily', 1),
        ('support_tickets', 1),
        ('support_replies', 1),
        ('support_messages', 1)
    ON CONFLICT (name) DO NOTHING
"""
SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS store_orders_version_insert",
    "DROP TRIGGER IF EXISTS store_orders_version_update",
    "DROP TRIGGER IF EXISTS store_orders_version_delete",
    "DROP TRIGGER IF EXISTS supplier_orders_version_insert",
    "DROP TRIGGER IF EXISTS supplier_orders_version_update",
    "DROP TRIGGER IF EXISTS supplier_orders_version_delete",
    "DROP TRIGGER IF EXISTS fulfillments_version_insert",
    "DROP TRIGGER IF EXISTS fulfillments_version_update",
    "DROP TRIGGER IF EXISTS fulfillments_version_delete",
    "DROP TRIGGER IF EXISTS product_candidates_version_insert",
    "DROP TRIGGER IF EXISTS product_candidates_version_update",
    "DROP TRIGGER IF EXISTS product_candidates_version_delete",
    "DROP TRIGGER IF EXISTS listings_version_insert",
    "DROP TRIGGER IF EXISTS listings_version_update",
    "DROP TRIGGER IF EXISTS listings_version_delete",
    "DROP TRIGGER IF EXISTS ad_campaigns_version_insert",
    "DROP TRIGGER IF EXISTS ad_campaigns_version_update",
    "DROP TRIGGER IF EXISTS ad_campaigns_version_delete",
    "DROP TRIGGER IF EXISTS ad_creatives_version_insert",
    "DROP TRIGGER IF EXISTS ad_creatives_version_update",
    "DROP TRIGGER IF EXISTS ad_creatives_version_delete",
    "DROP TRIGGER IF EXISTS ad_actions_version_insert",
    "DROP TRIGGER IF EXISTS ad_actions_version_update",
    "DROP TRIGGER IF EXISTS ad_actions_version_delete",
    "DROP TRIGGER IF EXISTS creative_tests_version_insert",
    "DROP TRIGGER IF EXISTS creative_tests_version_update",
    "DROP TRIGGER IF EXISTS creative_tests_version_delete",
    "DROP TRIGGER IF EXISTS ad_variant_ads_version_insert",
    "DROP TRIGGER IF EXISTS ad_variant_ads_version_update",
    "DROP TRIGGER IF EXISTS ad_variant_ads_version_delete",
    "DROP TRIGGER IF EXISTS analytics_kpis_version_insert",
    "DROP TRIGGER IF EXISTS analytics_kpis_version_update",
    "DROP TRIGGER IF EXISTS analytics_kpis_version_delete",
    "DROP TRIGGER IF EXISTS analytics_top_products_version_insert",
    "DROP TRIGGER IF EXISTS analytics_top_products_version_update",
    "DROP TRIGGER IF EXISTS analytics_top_products_version_delete",
    "DROP TRIGGER IF EXISTS analytics_ad_performance_version_insert",
    "DROP TRIGGER IF EXISTS analytics_ad_performance_version_update",
    "DROP TRIGGER IF EXISTS analytics_ad_performance_version_delete",
    "DROP TRIGGER IF EXISTS ad_metrics_day_totals_version_insert",
    "DROP TRIGGER IF EXISTS ad_metrics_day_totals_version_update",
    "DROP TRIGGER IF EXISTS ad_metrics_day_totals_version_delete",
    "DROP TRIGGER IF EXISTS order_counts_daily_version_insert",
    "DROP TRIGGER IF EXISTS order_counts_daily_version_update",
    "DROP TRIGGER IF EXISTS order_counts_daily_version_delete",
    "DROP TRIGGER IF EXISTS support_tickets_version_insert",
    "DROP TRIGGER IF EXISTS support_tickets_version_update",
    "DROP TRIGGER IF EXISTS support_tickets_version_delete",
    "DROP TRIGGER IF EXISTS support_replies_version_insert",
    "DROP TRIGGER IF EXISTS support_replies_version_update",
    "DROP TRIGGER IF EXISTS support_replies_version_delete",
    "DROP TRIGGER IF EXISTS support_messages_version_insert",
    "DROP TRIGGER IF EXISTS support_messages_version_update",
    "DROP TRIGGER IF EXISTS support_messages_version_delete",
)
POSTGRESQL_TRIGGERS = (
    BUMP_FUNCTION,
    """
    CREATE TRIGGER store_orders_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON store_orders
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER supplier_orders_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON supplier_orders
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER fulfillments_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fulfillments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER product_candidates_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_candidates
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER listings_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON listings
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER ad_campaigns_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ad_campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER ad_creatives_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ad_creatives
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER ad_actions_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ad_actions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER creative_tests_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON creative_tests
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER ad_variant_ads_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ad_variant_ads
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER analytics_kpis_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analytics_kpis
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER analytics_top_products_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analytics_top_products
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER analytics_ad_performance_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analytics_ad_performance
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER ad_metrics_day_totals_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ad_metrics_day_totals
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER order_counts_daily_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON order_counts_daily
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER support_tickets_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON support_tickets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER support_replies_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON support_replies
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
    """
    CREATE TRIGGER support_messages_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON support_messages
    FOR EACH STATEMENT EXECUTE FUNCTION bump_dashboard_version()
    """,
)
POSTGRESQL_DROPS = (
    "DROP TRIGGER IF EXISTS store_orders_version ON store_orders",
    "DROP TRIGGER IF EXISTS supplier_orders_version ON supplier_orders",
    "DROP TRIGGER IF EXISTS fulfillments_version ON fulfillments",
    "DROP TRIGGER IF EXISTS product_candidates_version ON product_candidates",
    "DROP TRIGGER IF EXISTS listings_version ON listings",
    "DROP TRIGGER IF EXISTS ad_campaigns_version ON ad_campaigns",
    "DROP TRIGGER IF EXISTS ad_creatives_version ON ad_creatives",
    "DROP TRIGGER IF EXISTS ad_actions_version ON ad_actions",
    "DROP TRIGGER IF EXISTS creative_tests_version ON creative_tests",
    "DROP TRIGGER IF EXISTS ad_variant_ads_version ON ad_variant_ads",
    "DROP TRIGGER IF EXISTS analytics_kpis_version ON analytics_kpis",
    "DROP TRIGGER IF EXISTS analytics_top_products_version ON analytics_top_products",
    "DROP TRIGGER IF EXISTS analytics_ad_performance_version ON analytics_ad_performance",
    "DROP TRIGGER IF EXISTS ad_metrics_day_totals_version ON ad_metrics_day_totals",
    "DROP TRIGGER IF EXISTS order_counts_daily_version ON order_counts_daily",
    "DROP TRIGGER IF EXISTS support_tickets_version ON support_tickets",
    "DROP TRIGGER IF EXISTS support_replies_version ON support_replies",
    "DROP TRIGGER IF EXISTS support_messages_version ON support_messages",
    "DROP FUNCTION IF EXISTS bump_dashboard_version()",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not postgresql:
        op.execute(SQLITE_COUNTERS)
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DROPS if postgresql else SQLITE_DROPS:
        op.execute(statement)
    op.execute("DELETE FROM dashboard_table_versions WHERE name <> 'daily'")
