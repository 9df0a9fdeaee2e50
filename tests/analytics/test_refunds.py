"""A refund made at the store lowers the day's profit by what was refunded, once."""

from decimal import Decimal

import sqlalchemy as sa

from dropship_pipelines.store.analytics_tables import analytics_daily_profit
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_testkit.ledger_seed import table_rows
from tests.analytics.test_analytics_assets import materialize_all, store_url  # noqa: F401  (fixture)


def refund(engine: sa.Engine, key: str, order_id: str, amount: str, state: str = "done") -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(order_actions).values(
                action_key=f"support-ticket:{key}:refund",
                origin=f"support-ticket:{key}",
                kind="refund",
                order_id=order_id,
                state=state,
                amount=Decimal(amount),
                currency="USD",
            )
        )


def test_profit_drops_by_the_refunds_made(store_url: str) -> None:  # noqa: F811
    materialize_all(store_url)
    engine = get_engine(store_url)
    before = {r["day"]: r for r in table_rows(engine, analytics_daily_profit)}
    refund(engine, "T1", "O4", "7.50")
    refund(engine, "T2", "O4", "99.00", state="claimed")  # not made (yet): never counted
    materialize_all(store_url)
    after = {r["day"]: r for r in table_rows(engine, analytics_daily_profit)}
    day = max(after)
    assert Decimal(str(after[day]["refunds"])) == Decimal("7.50")
    assert Decimal(str(before[day]["profit"])) - Decimal(str(after[day]["profit"])) == Decimal("7.50")
    assert after[day]["revenue"] == before[day]["revenue"]
