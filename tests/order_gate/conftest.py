"""A sandbox with listed products and no organic orders, the fulfillment job with its gate pointed at it."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.order_gate_tables import order_holds
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.pipelines import built_resources
from dropship_testkit.sandbox_server import RunningSandbox
from dropship_testkit.sandbox_world import sendable_numbers
from tests.fulfillment.helpers import created_at_supplier, place, run_fulfillment


@dataclass
class GateWorld:
    sandbox: RunningSandbox
    store_url: str

    def settings(self, **values: Any) -> None:
        self.sandbox.control("POST", "/settings", values)

    def place(self, count: int) -> list[dict[str, Any]]:
        """`count` orders the fulfillment rules let through (orders with a sandbox defect are dropped)."""
        placed: list[dict[str, Any]] = []
        while len(placed) < count:
            placed += [o for o in place(self.sandbox, count - len(placed)) if o["defect"] is None]
        return placed

    def run(self) -> None:
        result = run_fulfillment()
        assert result.success, [e.message for e in result.all_events if e.is_failure]

    def at_supplier(self) -> dict[str, int]:
        return created_at_supplier(self.sandbox)

    def audit(self, kind: str) -> dict[str, int]:
        return self.sandbox.audit().get(kind, {})

    def store_holds(self, order_gid: str) -> list[dict[str, Any]]:
        """The holds on the order's fulfillment orders as the store has them."""
        world = self.sandbox.world
        with world.lock, world.state:
            doc = world.state.get("shopify_order", order_gid.rsplit("/", 1)[-1])
        assert doc is not None
        return [h for fo in doc["fulfillmentOrders"] for h in fo.get("fulfillmentHolds", [])]

    def ledger_holds(self) -> dict[str, dict[str, Any]]:
        with get_engine(self.store_url).connect() as conn:
            return {r.order_id: dict(r._mapping) for r in conn.execute(sa.select(order_holds))}


@pytest.fixture
def gate_world(sandbox: RunningSandbox, store_url: str, pipeline_env: dict[str, str]) -> GateWorld:
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 3)
    return GateWorld(sandbox, store_url)


@pytest.fixture
def built(pipeline_env: dict[str, str]) -> Iterator[Any]:
    """The store and supplier clients as the code location builds them (for the dashboard's actions)."""
    with built_resources("shopify", "supplier") as resources:
        yield resources


__all__ = ["GateWorld", "sendable_numbers"]
