"""Order aftermath: a cancelled order needs no human.

The needs-attention rule of migration 0010 counted a cancelled order whose supplier order was withdrawn
(CJ's deleteOrder of an unpaid order, or CJ's cancellation of a paid one: `mark_supplier_order_withdrawn`
leaves it 'failed' with the reason as its last error) as supplier trouble, so every cancellation before
shipping put the order on the dashboard's needs-attention list, with nothing left to do. The rule becomes

    state != 'cancelled' AND (
        state = 'problem'
        OR its supplier order is failed or has a last error (SUPPLIER_TROUBLE)
        OR its fulfillment is failed (FULFILLMENT_FAILED))

(what is left of a cancelled order's money, a refund or dispute a human must decide, is an escalated case
on the Refunds page and in the customer-service inbox, not an order to act on). SQLite: the eight triggers
are recreated with it (literal statements, as in 0010); PostgreSQL: the function every trigger ends in is
replaced. Cancelled orders flagged today are put right; downgrade restores 0010's rule.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER store_orders_attention_insert AFTER INSERT ON store_orders
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')))
        WHERE order_id = NEW.order_id AND needs_attention IS NOT (
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')));
    END
    """,
    """
    CREATE TRIGGER store_orders_attention_update AFTER UPDATE OF state, needs_attention ON store_orders
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')))
        WHERE order_id = NEW.order_id AND needs_attention IS NOT (
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')));
    END
    """,
    """
    CREATE TRIGGER supplier_orders_attention_insert AFTER INSERT ON supplier_orders
    WHEN NEW.state = 'failed' OR NEW.last_error IS NOT NULL
    BEGIN
        UPDATE store_orders SET needs_attention = 1
        WHERE order_id = NEW.order_id AND needs_attention IS NOT 1 AND state != 'cancelled';
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
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')))
        WHERE order_id IN (OLD.order_id, NEW.order_id);
    END
    """,
    """
    CREATE TRIGGER supplier_orders_attention_delete AFTER DELETE ON supplier_orders
    WHEN OLD.state = 'failed' OR OLD.last_error IS NOT NULL
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')))
        WHERE order_id = OLD.order_id;
    END
    """,
    """
    CREATE TRIGGER fulfillments_attention_insert AFTER INSERT ON fulfillments
    WHEN NEW.state = 'failed'
    BEGIN
        UPDATE store_orders SET needs_attention = 1
        WHERE order_id = NEW.order_id AND needs_attention IS NOT 1 AND state != 'cancelled';
    END
    """,
    """
    CREATE TRIGGER fulfillments_attention_update AFTER UPDATE OF state, order_id ON fulfillments
    WHEN (OLD.state = 'failed') IS NOT (NEW.state = 'failed') OR OLD.order_id IS NOT NEW.order_id
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')))
        WHERE order_id IN (OLD.order_id, NEW.order_id);
    END
    """,
    """
    CREATE TRIGGER fulfillments_attention_delete AFTER DELETE ON fulfillments
    WHEN OLD.state = 'failed'
    BEGIN
        UPDATE store_orders SET needs_attention = (
            store_orders.state != 'cancelled' AND (store_orders.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = store_orders.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = store_orders.order_id
                       AND f.state = 'failed')))
        WHERE order_id = OLD.order_id;
    END
    """,
)

POSTGRESQL_FUNCTION = """
    CREATE OR REPLACE FUNCTION store_order_needs_attention() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.needs_attention := NEW.state <> 'cancelled' AND (NEW.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = NEW.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = NEW.order_id AND f.state = 'failed'));
        RETURN NEW;
    END $$
"""
POSTGRESQL_FUNCTION_0010 = """
    CREATE OR REPLACE FUNCTION store_order_needs_attention() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.needs_attention := NEW.state = 'problem'
            OR EXISTS (SELECT 1 FROM supplier_orders s WHERE s.order_id = NEW.order_id
                       AND (s.state = 'failed' OR s.last_error IS NOT NULL))
            OR EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = NEW.order_id AND f.state = 'failed');
        RETURN NEW;
    END $$
"""
# Recomputed for every order: the BEFORE trigger (PostgreSQL) or the update trigger (SQLite) applies the
# rule in force when this runs.
RECOMPUTE = "UPDATE store_orders SET needs_attention = NOT needs_attention WHERE state = 'cancelled'"


def _revision_0010() -> ModuleType:
    """Migration 0010, for its trigger statements and backfill (a file name alembic loads, not a module)."""
    path = Path(__file__).with_name("0010_dashboard_scale.py")
    spec = importlib.util.spec_from_file_location("dropship_migration_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(RECOMPUTE)
        return
    for statement in _revision_0010().SQLITE_DROPS:
        op.execute(statement)
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(RECOMPUTE)


def downgrade() -> None:
    old = _revision_0010()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION_0010)
        op.execute(old.BACKFILL)
        return
    for statement in old.SQLITE_DROPS:
        op.execute(statement)
    for statement in old.SQLITE_TRIGGERS:
        op.execute(statement)
    op.execute(old.BACKFILL)
