"""A sandbox with customers who write about seeded orders, and the support workflow pointed at it."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dropship_sandbox.shop_orders import iso
from dropship_sandbox.support_messages import add_incoming, customer_for
from dropship_sandbox.world import API_NAMES, ApiFaults, World, WorldSettings
from dropship_testkit.ledger_seed import SeededOrder, seed_support_orders
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox
from dropship_testkit.sandbox_world import customers_write


@dataclass
class SupportWorld:
    sandbox: RunningSandbox
    store_url: str
    orders: list[SeededOrder]
    instance: dg.DagsterInstance

    def order(self, name: str) -> SeededOrder:
        return next(o for o in self.orders if o.name == name)

    def writes(
        self,
        body: str,
        *,
        intent: str,
        email: str | None,
        order: str | None = None,
        subject: str = "My order",
        lang: str = "en",
        ticket_id: int | None = None,
    ) -> int:
        """A customer's message to the helpdesk (a new ticket, or a follow-up on `ticket_id`); the sandbox
        model knows its true intent. `email=None`: a channel that gives no address (chat, a form)."""
        world = self.sandbox.world
        with world.lock, world.state:
            if email is None:
                customer = {"id": 4999, "email": None, "name": "Visitor", "firstname": "", "lastname": ""}
            else:
                customer = customer_for(world, email, "Pat", "Doe")
            ticket, _ = add_incoming(
                world,
                customer=customer,
                subject=subject,
                body=body,
                at=world.now(),
                sim={"order": order, "topic": intent, "intent": intent, "lang": lang},
                ticket_id=ticket_id,
            )
        return int(ticket["id"])

    def store_order(self, name: str) -> dict[str, Any]:
        """The sandbox store's own document of the order (what Shopify holds)."""
        world = self.sandbox.world
        with world.lock, world.state:
            return world.state.get("shopify_order", name.lstrip("#")) or {}

    def run(self, policy: dict[str, Any] | None = None) -> dg.ExecuteInProcessResult:
        """The job once; `policy`: support policy settings for this run (as an operator sets them)."""
        from dropship_pipelines.assets.support.defs import support_defs
        from dropship_pipelines.resources.catalog import build_resources

        defs = dg.Definitions.merge(support_defs, dg.Definitions(resources=build_resources()))
        job = defs.resolve_job_def("customer_service_job")
        run_config = {"resources": {"support_policy": {"config": policy}}} if policy else None
        return job.execute_in_process(instance=self.instance, raise_on_error=False, run_config=run_config)


def complete_store_orders(world: World, orders: list[SeededOrder]) -> None:
    """The seeded orders as whole Shopify documents in the sandbox store (payment, fulfillment order,
    fulfillment with tracking), so the order actions meet the store as it is, not a sketch of it."""
    with world.lock, world.state:
        for seeded in orders:
            number = seeded.name.lstrip("#")
            doc: dict[str, Any] = world.state.get("shopify_order", number) or {}
            total = f"{seeded.total:.2f}"
            shipped = seeded.track_number is not None
            line_id, fo_id = int(number) * 10 + 1, int(number) * 10 + 2
            created = doc["createdAt"]
            doc.update(
                id=int(number),
                number=int(number),
                phone=None,
                updatedAt=created,
                processedAt=created,
                cancelledAt=None,
                displayFinancialStatus="PAID",
                displayFulfillmentStatus="FULFILLED" if shipped else "UNFULFILLED",
                currencyCode="USD",
                subtotalPrice=total,
                shippingPrice="0.00",
                totalPrice=total,
                sourceName="web",
                tags=["source:organic"],
                customer={**doc["customer"], "id": 7_000_000 + int(number)},
                shippingAddress={
                    "name": f"{doc['customer']['firstName']} Doe",
                    "firstName": doc["customer"]["firstName"],
                    "lastName": "Doe",
                    "address1": "1 Main St",
                    "address2": None,
                    "city": "Austin",
                    "province": "Texas",
                    "provinceCode": "TX",
                    "zip": "78701",
                    "country": "United States",
                    "countryCodeV2": "US",
                    "phone": "+15125550100",
                },
                lineItems=[
                    {
                        "id": line_id,
                        "title": "LED Desk Lamp",
                        "variantTitle": "Default",
                        "name": "LED Desk Lamp",
                        "sku": "LAMP-1",
                        "variantId": None,
                        "productId": None,
                        "quantity": 1,
                        "price": total,
                    }
                ],
                fulfillmentOrders=[
                    {
                        "id": fo_id,
                        "status": "CLOSED" if shipped else "OPEN",
                        "requestStatus": "CLOSED" if shipped else "UNSUBMITTED",
                        "lineItems": [
                            {
                                "id": fo_id * 10,
                                "lineItemId": line_id,
                                "totalQuantity": 1,
                                "remainingQuantity": 0 if shipped else 1,
                            }
                        ],
                    }
                ],
                fulfillments=[
                    {
                        "id": int(number) * 10 + 3,
                        "status": "SUCCESS",
                        "createdAt": iso(world.now() - timedelta(days=1)),
                        "trackingInfo": [
                            {
                                "company": "YunExpress",
                                "number": seeded.track_number,
                                "url": f"https://t.17track.net/en#nums={seeded.track_number}",
                            }
                        ],
                    }
                ]
                if shipped
                else [],
                refunds=[],
            )
            world.state.put("shopify_order", number, doc)
            world.state.put("shopify_fulfillment_order", str(fo_id), {"order_id": number})


@pytest.fixture
def support_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., SupportWorld]]:
    """`make(orders=12, daily_rate=0.7)`: orders seeded, one simulated day of customer messages."""
    faults = {name: ApiFaults() for name in API_NAMES}
    faults["helpdesk"] = ApiFaults(rate_limits=False)  # rate limiting has its own test
    with (
        running_sandbox(tmp_path / "world.db", WorldSettings(faults=faults)) as sandbox,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        store_url = f"sqlite:///{tmp_path}/store.db"
        for key, value in sandbox.env(store_url, tmp_path / "tokens").items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("HELPDESK_REQUESTS_PER_SECOND", "0")

        def make(orders: int = 12, daily_rate: float = 0.7) -> SupportWorld:
            seeded = seed_support_orders(store_url, sandbox.world, orders)
            complete_store_orders(sandbox.world, seeded)
            customers_write(sandbox.world, daily_rate)
            return SupportWorld(sandbox, store_url, seeded, instance)

        yield make
