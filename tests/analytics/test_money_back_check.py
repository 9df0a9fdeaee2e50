"""Refunds, chargebacks and supplier refunds reach the daily profit once and the reconciliation covers
them: the check recomputes each day from the ledger's raw rows and catches a table a cent off."""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from dropship_pipelines.assets.analytics.profit_checks import daily_profit_money_back_reconciles
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.store.analytics_tables import analytics_daily_profit
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_pipelines.store.profit_tables import order_payments
from dropship_pipelines.store.refund_tables import order_refunds
from dropship_testkit.ledger_seed import table_rows
from tests.analytics.test_analytics_assets import materialize_all, store_url  # noqa: F401  (fixture)

AT = datetime(2026, 11, 21, 12, tzinfo=UTC)


def _money_back(kind: str, key: str, amount: str, status: str | None = None, fee: str | None = None) -> dict:
    return {
        "refund_key": f"{kind}:{key}", "order_id": "O4", "kind": kind, "remote_id": key, "status": status,
        "amount": Decimal(amount), "currency": "USD", "fee": Decimal(fee) if fee else None, "occurred_at": AT,
    }  # fmt: skip


def test_money_back_counted_once_and_reconciled(store_url: str) -> None:  # noqa: F811
    engine = get_engine(store_url)
    materialize_all(store_url)
    before = {r["day"]: r for r in table_rows(engine, analytics_daily_profit)}
    with engine.begin() as conn:
        # the same 7.50 refund as the support action made it, as the refunds ledger recorded it, and as
        # the store's transactions report it: counted once
        conn.execute(
            sa.insert(order_actions).values(
                action_key="support-ticket:T1:refund", origin="support-ticket:T1", kind="refund",
                order_id="O4", state="done", amount=Decimal("7.50"), currency="USD",
            )
        )  # fmt: skip
        conn.execute(
            sa.insert(order_payments).values(
                order_id="O4", gateway="shopify_payments", paid=Decimal(0), fees=None,
                refunded=Decimal("7.50"), shop_currency="USD",
            )
        )  # fmt: skip
        conn.execute(
            sa.insert(order_refunds),
            [
                _money_back("refund", "R1", "7.50"),
                _money_back("chargeback", "D1", "20.00", status="LOST"),  # + Shopify's 15.00 fee
                _money_back("chargeback", "D2", "20.00", status="WON", fee="15.00"),  # the fee only
                _money_back("supplier_refund", "S1", "4.25"),
            ],
        )
    materialize_all(store_url)
    after = {r["day"]: r for r in table_rows(engine, analytics_daily_profit)}
    day = max(after)
    row = after[day]
    assert (
        Decimal(str(row["refunds"])),
        Decimal(str(row["chargebacks"])),
        Decimal(str(row["supplier_refunds"])),
    ) == (
        Decimal("7.50"),
        Decimal("50.00"),
        Decimal("4.25"),
    )
    drop = Decimal(str(before[day]["profit"])) - Decimal(str(row["profit"]))
    fee_change = Decimal(str(row["payment_fees"])) - Decimal(str(before[day]["payment_fees"]))
    assert drop == Decimal("7.50") + Decimal("50.00") - Decimal("4.25") + fee_change
    store_db = StoreDatabase(url=store_url)
    assert daily_profit_money_back_reconciles(store_db=store_db).passed
    with engine.begin() as conn:  # a table a cent off is caught
        conn.execute(
            sa.update(analytics_daily_profit)
            .where(analytics_daily_profit.c.day == day)
            .values(chargebacks=Decimal("49.99"))
        )
    result = daily_profit_money_back_reconciles(store_db=store_db)
    assert not result.passed and result.metadata["mismatches"].value == 1
