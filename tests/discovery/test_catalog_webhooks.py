"""CJ's webhook path end to end over the sandbox: a price rise reaches the store within seconds, a stock-out
unpublishes; the receiver records before it answers and answers fast; a redelivery changes nothing twice;
a bad body gets a clear error and is kept."""

import json
import time
from decimal import Decimal

import dagster as dg
import httpx
import sqlalchemy as sa

from dropship_pipelines.resources.cj.webhooks import sign
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.sensors.catalog import supplier_messages
from dropship_pipelines.store.catalog_tables import catalog_writes, price_lineage, supplier_events
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_pipelines.webhooks.cj import cj_webhook_router
from dropship_testkit.sandbox_server import RunningSandbox, serving
from tests.discovery.catalog_helpers import (
    change,
    list_products,
    listing_moved_by_rise,
    metadata,
    receiver,
    rows,
    run_catalog,
    store_product,
    subscribe,
)


def _wait_for_events(store_url: str, count: int, timeout: float = 10.0) -> list[sa.Row]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = rows(store_url, supplier_events, supplier_events.c.status == "pending")
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} supplier messages recorded in {timeout}s")


def _sensor_tick(store_url: str, cursor: str | None = None) -> dg.RunRequest | dg.SkipReason:
    context = dg.build_sensor_context(cursor=cursor, resources={"store_db": StoreDatabase(url=store_url)})
    return supplier_messages(context)


def test_price_rise_reaches_the_store_within_seconds_by_webhook(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    listing, variant = listing_moved_by_rise(store_url, Decimal("1.08"))
    with receiver(store_url) as url:
        subscribe(sandbox, url)
        started = time.monotonic()
        new_cost = Decimal(variant.unit_cost) * Decimal("1.08")
        change(sandbox, pid=listing.pid, vid=variant.vid, kind="cost", price=float(new_cost))
        events = _wait_for_events(store_url, 1)
        assert events[0].type == "PRODUCT" and events[0].pid == listing.pid
        request = _sensor_tick(store_url)
        assert isinstance(request, dg.RunRequest)
        assert request.asset_selection == [dg.AssetKey("supplier_change_events")]
        result = run_catalog("supplier_change_events")
        elapsed = time.monotonic() - started
    assert metadata(result, "supplier_change_events")["repriced_variants"] >= 1
    after = rows(store_url, listing_variants, listing_variants.c.vid == variant.vid)[0]
    assert Decimal(after.price) > Decimal(variant.price)
    store = store_product(sandbox, listing.store_product_id)
    assert any(Decimal(v["price"]) == Decimal(after.price) for v in store["variants"])
    assert elapsed < 15, f"webhook to store took {elapsed:.1f}s"
    assert rows(store_url, price_lineage, price_lineage.c.vid == variant.vid)[-1].reason == "cost"
    assert all(e.status == "processed" for e in rows(store_url, supplier_events))
    # the sensor has nothing more to start
    assert isinstance(_sensor_tick(store_url, str(events[-1].seq)), dg.SkipReason)


def test_stock_out_by_webhook_unpublishes_and_restock_republishes(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    listing = sorted(rows(store_url, listings, listings.c.status == "listed"), key=lambda r: r.pid)[0]
    variants = rows(store_url, listing_variants, listing_variants.c.pid == listing.pid)
    with receiver(store_url) as url:
        subscribe(sandbox, url)
        for v in variants:
            change(sandbox, pid=listing.pid, vid=v.vid, kind="low_stock")  # the last few units
        _wait_for_events(store_url, len(variants))
        run_catalog("supplier_change_events")
        assert store_product(sandbox, listing.store_product_id)["status"] == "DRAFT"
        change(sandbox, pid=listing.pid, vid=variants[0].vid, kind="restock", stock=800)
        _wait_for_events(store_url, 1)
        result = run_catalog("supplier_change_events")
    assert metadata(result, "supplier_change_events")["republished"] == 1
    assert store_product(sandbox, listing.store_product_id)["status"] == "ACTIVE"


def _message(vid: str, units: int, message_id: str = "m-1") -> bytes:
    body = {
        "messageId": message_id,
        "type": "STOCK",
        "messageType": "UPDATE",
        "openId": 5550001,
        "params": {vid: [{"vid": vid, "areaId": "1", "countryCode": "CN", "totalInventoryNum": units}]},
    }
    return json.dumps(body).encode()


def test_receiver_records_before_answering_fast_and_once(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    list_products()
    listing = sorted(rows(store_url, listings, listings.c.status == "listed"), key=lambda r: r.pid)[0]
    variant = rows(store_url, listing_variants, listing_variants.c.pid == listing.pid)[0]
    app = __import__("fastapi").FastAPI()
    app.include_router(cj_webhook_router(store_url=store_url, open_id="5550001"))
    with serving(app, "cj receiver") as base:
        body = _message(variant.vid, 0)
        headers = {"sign": sign("5550001", body), "Content-Type": "application/json"}
        answers = []
        for _ in range(3):  # CJ redelivers
            started = time.monotonic()
            answer = httpx.post(f"{base}/webhooks/cj", content=body, headers=headers)
            answers.append((answer, time.monotonic() - started))
            # recorded before the answer: the row is there the moment the answer is
            assert len(rows(store_url, supplier_events)) == 1
        assert all(a.status_code == 200 and a.json()["result"] == "success" for a, _ in answers)
        assert all(seconds < 3 for _, seconds in answers)  # CJ's limit
        assert [a.json()["message"] for a, _ in answers] == ["recorded", "duplicate", "duplicate"]
        forged = httpx.post(f"{base}/webhooks/cj", content=body, headers={"sign": "bad"})
        assert forged.status_code == 401 and len(rows(store_url, supplier_events)) == 1
    run_catalog("supplier_change_events", {"min_sellable_stock": 10})
    writes = rows(store_url, catalog_writes, catalog_writes.c.pid == listing.pid)
    assert len(writes) == 1 and writes[0].state == "done"  # three deliveries, one store write
    store = store_product(sandbox, listing.store_product_id)
    gid = variant.store_variant_id.rsplit("/", 1)[-1]
    assert next(v for v in store["variants"] if str(v["id"]) == gid)["inventoryPolicy"] == "DENY"
    again = run_catalog("supplier_change_events")
    assert metadata(again, "supplier_change_events")["messages"] == 0


def test_bad_payloads_get_a_clear_error_and_are_kept(store_url: str) -> None:
    app = __import__("fastapi").FastAPI()
    app.include_router(cj_webhook_router(store_url=store_url, open_id=""))
    bad = {
        b"not json": "body is not JSON",
        b"[1, 2]": "body is not a JSON object",
        b'{"type": "STOCK", "params": {}}': "messageId",
        b'{"messageId": "x", "type": "ORDERX", "params": {}}': "type 'ORDERX'",
        b'{"messageId": "y", "type": "PRODUCT", "params": {"fields": []}}': "params.pid is missing",
        b'{"messageId": "z", "type": "STOCK", "params": {"V1": [{"areaId": "1"}]}}': "totalInventoryNum",
        b'{"messageId": "w", "type": "STOCK", "params": {"V1": [{"totalInventoryNum": -3}]}}': "params.V1",
    }
    with serving(app, "cj receiver") as base:
        for body, reason in bad.items():
            answer = httpx.post(f"{base}/webhooks/cj", content=body)
            assert answer.status_code == 400, body
            assert answer.json()["result"] == "fail" and reason in answer.json()["message"], answer.json()
        good = httpx.post(f"{base}/webhooks/cj", content=_message("V9", 40, "good-1"))
        assert good.status_code == 200
    kept = rows(store_url, supplier_events)
    rejected = [r for r in kept if r.status == "rejected"]
    assert len(rejected) == len(bad) and {r.raw.encode() for r in rejected} == set(bad)
    assert [r.message_id for r in kept if r.status == "pending"] == ["good-1"]
