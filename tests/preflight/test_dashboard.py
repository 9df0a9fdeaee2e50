"""The dashboard's Going-live page: the preflight button answers the readiness table, and the shadow
writes are listed newest first with their counts."""

from fastapi.testclient import TestClient

from dashboard.api import create_app
from dropship_pipelines.resources.write_gate import record_shadow_write

TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class NoLauncher:
    def launch(self, job_name: str) -> str:
        raise AssertionError("no run is launched here")


def test_preflight_button_and_shadow_writes_list(sandbox, store_url, pipeline_env, monkeypatch):
    sandbox.control("POST", "/settings", {"cj_balance": 0})
    client = TestClient(create_app(store_url, TOKEN, launcher=NoLauncher()))
    assert client.post("/api/preflight").status_code == 401  # behind the login like every action
    answer = client.post("/api/preflight", headers=AUTH)
    assert answer.status_code == 200
    body = answer.json()
    assert body["ready"] is False
    balance = next(r for r in body["rows"] if r["check"] == "wallet balance")
    assert balance["status"] == "fail" and "top up" in balance["fix"]
    assert all(TOKEN not in str(r) and pipeline_env["CJ_API_KEY"] not in str(r) for r in body["rows"])

    record_shadow_write(
        "shopify", "ListProduct", {"input": {"title": "Lamp"}, "token": "shpat_secret_123456"}
    )
    record_shadow_write("cj", "POST /shopping/order/createOrderV2", {"body": {"orderNumber": "S-1"}})
    record_shadow_write("cj", "POST /shopping/order/createOrderV2", {"body": {"orderNumber": "S-1"}})  # once
    listed = client.get("/api/shadow-writes", headers=AUTH).json()
    assert listed["mode"] == "live"
    assert [i["operation"] for i in listed["items"]] == ["POST /shopping/order/createOrderV2", "ListProduct"]
    assert listed["items"][1]["summary"]["token"] == "[redacted]"
    assert {(c["service"], c["count"]) for c in listed["counts"]} == {("shopify", 1), ("cj", 1)}
    only_cj = client.get("/api/shadow-writes?service=cj", headers=AUTH).json()
    assert [i["service"] for i in only_cj["items"]] == ["cj"]
