"""The dashboard's holds list and its release / cancel buttons, through the gate over the sandbox."""

from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient

from dashboard.api import create_app
from dropship_pipelines.rules.fulfillment import supplier_order_number
from tests.dashboard.seed import TOKEN
from tests.order_gate.conftest import GateWorld

BEARER = {"Authorization": f"Bearer {TOKEN}"}


class NoLauncher:
    def launch(self, job_name: str) -> str:
        raise AssertionError("no run is launched here")


def test_holds_are_listed_with_their_reason_and_released_or_cancelled_once(gate_world: GateWorld) -> None:
    gate_world.settings(order_risk_rate=1.0)
    released, cancelled = gate_world.place(2)
    gate_world.run()
    app = create_app(gate_world.store_url, TOKEN, launcher=NoLauncher())
    with TestClient(app) as client:
        listed: list[dict[str, Any]] = client.get("/api/holds", headers=BEARER).json()["holds"]
        assert {h["order_id"] for h in listed} == {released["id"], cancelled["id"]}
        assert all(h["reason"] == "HIGH_RISK_OF_FRAUD" and "fraud risk" in h["note"] for h in listed)
        assert all(h["actions"] == ["release", "cancel"] and h["state"] == "held" for h in listed)

        release = f"/api/holds/{quote(released['id'], safe='')}/release"
        first = client.post(release, headers=BEARER).json()
        second = client.post(release, headers=BEARER).json()
        assert first["status"] == second["status"] == "done", (first, second)
        cancel = f"/api/holds/{quote(cancelled['id'], safe='')}/cancel"
        assert client.post(cancel, headers=BEARER).json()["status"] == "done"
        assert (
            client.post(cancel, headers=BEARER).json()["status"] == "done"
        )  # found done, not cancelled again

        assert client.get("/api/holds", headers=BEARER).json()["holds"] == []
        missing = client.post("/api/holds/gid%3A%2F%2Fshopify%2FOrder%2F1/release", headers=BEARER)
        assert missing.status_code == 404 and "no hold" in missing.json()["detail"]
        assert client.get("/api/holds").status_code == 401  # not logged in
    assert gate_world.audit("fulfillment_holds_released") == {released["id"]: 1}
    assert gate_world.audit("orders_cancelled") == {cancelled["id"]: 1}
    gate_world.run()
    at_supplier = gate_world.at_supplier()
    assert at_supplier.get(supplier_order_number(released["name"])) == 1
    assert supplier_order_number(cancelled["name"]) not in at_supplier
