"""Ads on each product's margin, end to end over the sandbox: purchase events sent once per ad order (two
overlapping runs too), the platforms' strict event checks, unpublished products' ads paused and resumed,
budget steps of at most 20 %, a kill the restated metrics prove wrong revived, and the ad accounts'
reporting days (their time zones, the world's clock)."""

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa

from dropship_pipelines.assets.ads.defs import ad_metrics_hourly, restated_days
from dropship_pipelines.resources.ad_platforms import PurchaseEvent
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.errors import PermanentApiError
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.services import ads as ads_service
from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns, ad_purchase_events
from dropship_pipelines.store.catalog_tables import listing_publication
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listings
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders, webhook_events
from dropship_sandbox import conversions, credentials, shop_orders
from dropship_sandbox.world import DEFAULT_SIM_START
from dropship_testkit.pipelines import build_ads_defs
from dropship_testkit.sandbox_server import RunningSandbox
from tests.ads import helpers as h

EVENTS = dg.AssetKey("ad_purchase_events")


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def launches_in_work_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox draws each campaign's delivery (its orders, a wrongly killed ad) from its id; launches
    one at a time hand out the ids in work order, so each seed's world is the one these tests assert on.
    Launches in flight together are tested in test_launch_in_flight.py."""
    monkeypatch.setattr(ads_service, "LAUNCHES_IN_FLIGHT", 1)


def launched(defs: dg.Definitions, products: int, days: int, sandbox: RunningSandbox) -> None:
    h.list_products(defs, products)
    assert h.launch(defs).success
    sandbox.control("POST", "/clock", {"advance_seconds": days * 86400})


def ingest_ad_orders(sandbox: RunningSandbox, store_url: str) -> list[str]:
    """The sandbox's ad orders into the ledger, as the fulfillment workflow records them, with their
    `orders/create` webhooks as the receiver records them (both paths are tested in tests/fulfillment and
    tests/webhooks; here only what the ads workflow reads from them matters)."""
    world = sandbox.world
    with world.lock, world.state:
        docs = [d for d in world.state.all("shopify_order") if d.get("source") in ("meta", "tiktok")]
        payloads = [shop_orders.rest_payload(world, d) for d in docs]
    engine = get_engine(store_url)
    with engine.begin() as conn:
        for doc, payload in zip(docs, payloads, strict=True):
            order_id = conversions.order_gid(doc)
            placed = datetime.fromisoformat(doc["createdAt"].replace("Z", "+00:00"))
            conn.execute(
                webhook_events.insert().values(
                    webhook_id=f"wh-{doc['id']}",
                    topic="orders/create",
                    resource_id=payload["admin_graphql_api_id"],
                    received_at=placed,
                    payload=payload,
                )
            )
            conn.execute(
                store_orders.insert().values(
                    order_id=order_id,
                    name=doc["name"],
                    email=doc["email"],
                    placed_at=placed,
                    store_updated_at=placed,
                    financial_status="PAID",
                    fulfillment_status="UNFULFILLED",
                    currency="USD",
                    total_price=Decimal(doc["totalPrice"]),
                    shipping_address=doc["shippingAddress"],
                    state="new",
                    source=doc["source"],
                )
            )
            conn.execute(
                store_order_lines.insert().values(
                    line_id=f"{order_id}/1",
                    order_id=order_id,
                    quantity=1,
                    unit_price=Decimal(doc["subtotalPrice"]),
                    pid=doc["_sim"]["pid"],
                )
            )
    return [conversions.order_gid(d) for d in docs]


def report_purchases(defs: dg.Definitions) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("ad_optimization_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=[EVENTS], raise_on_error=False
    )


def set_costs(store_url: str, unit_cost: str, shipping: str, pid: str | None = None) -> None:
    with get_engine(store_url).begin() as conn:
        update = listings.update().values(unit_cost=Decimal(unit_cost), shipping_cost=Decimal(shipping))
        conn.execute(update.where(listings.c.pid == pid) if pid else update)


def sandbox_campaign(sandbox: RunningSandbox, row: dict[str, Any]) -> tuple[dict, dict]:
    world = sandbox.world
    with world.lock, world.state:
        campaign = world.state.get(f"{row['platform']}_campaign", row["campaign_id"])
        adset = world.state.get(f"{row['platform']}_adset", row["adset_id"])
    assert campaign and adset
    return campaign, adset


def metrics_to_now(defs: dg.Definitions, sandbox: RunningSandbox) -> None:
    last = conversions.local_day("tiktok", sandbox.world.now())  # the later of the two accounts' days
    assert h.metrics(defs, DEFAULT_SIM_START.date().isoformat(), last.isoformat()).success


def clients() -> tuple[Any, Any]:
    """The ad clients as a run gets them (environment variables resolved)."""
    resources = build_resources()
    return (
        resources["meta_ads"].process_config_and_initialize(),
        resources["tiktok_ads"].process_config_and_initialize(),
    )


def test_one_purchase_event_per_ad_order_even_from_two_overlapping_runs(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    defs = build_ads_defs({}, media_dir)
    launched(defs, 2, 2, sandbox)
    orders = ingest_ad_orders(sandbox, store_url)
    assert orders, "no ad order in two days: the test proves nothing"
    sensor = next(s for s in defs.sensors if s.name == "ad_orders_get_reported")
    store = {"store_db": StoreDatabase(url=store_url)}
    asked = sensor(dg.build_sensor_context(resources=store))
    assert isinstance(asked, dg.RunRequest) and asked.asset_selection == [EVENTS]
    results: list[dg.ExecuteInProcessResult] = []
    runs = [threading.Thread(target=lambda: results.append(report_purchases(defs))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert all(r.success for r in results)
    received = sandbox.audit().get("conversion_events", {})
    assert received == {f"{p}:{o}": 1 for p in ("meta", "tiktok") for o in orders}
    assert not sandbox.audit().get("conversion_events_duplicate")
    # Each event carries the shopper's browser from the order's client_details: Meta's are website events.
    world = sandbox.world
    with world.lock, world.state:
        browsers = {conversions.order_gid(d): d["_sim"]["browser"] for d in world.state.all("shopify_order")}
        for order_id in orders:
            meta_event = world.state.get(conversions.EVENT_KIND, f"meta:Purchase:{order_id}")
            tiktok_event = world.state.get(conversions.EVENT_KIND, f"tiktok:CompletePayment:{order_id}")
            assert meta_event["action_source"] == "website"
            assert meta_event["user_agent"] == tiktok_event["user_agent"] == browsers[order_id]["user_agent"]
    events = h.rows(store_url, ad_purchase_events)
    assert len(events) == 2 * len(orders) and {e["state"] for e in events} == {"sent"}
    skipped = sensor(dg.build_sensor_context(resources=store))
    assert isinstance(skipped, dg.SkipReason) and "every recent ad order" in str(skipped.skip_message)
    # A later run finds nothing left to send.
    assert report_purchases(defs).success
    assert sandbox.audit().get("conversion_events", {}) == received


def test_the_platforms_refuse_malformed_events(pipeline_env: dict, sandbox: RunningSandbox) -> None:
    meta, tiktok = clients()
    now = sandbox.world.now()
    event = PurchaseEvent("gid://shopify/Order/1", now, Decimal("30"), "USD", "https://shop.test/p", "a@b.co")
    assert meta.send_purchase_events([event]) == 1 and tiktok.send_purchase_events([event]) == 1
    old = PurchaseEvent(
        "gid://shopify/Order/2", now - timedelta(days=8), Decimal("30"), "USD", "https://s.t/p"
    )
    with pytest.raises(PermanentApiError, match="too far in the past"):
        meta.send_purchase_events([old])
    with pytest.raises(PermanentApiError, match="too far in the past"):
        tiktok.send_purchase_events([old])
    # Unhashed email: Meta hashes nothing for us.
    raw = {
        "event_name": "Purchase",
        "event_time": int(now.timestamp()),
        "event_id": "x",
        "action_source": "website",
        "event_source_url": "https://shop.test/p",
        "user_data": {"em": ["a@b.co"]},
        "custom_data": {"currency": "USD", "value": 1.0},
    }
    url = f"{pipeline_env['META_BASE_URL']}/{meta.api_version}/{credentials.META_PIXEL_ID}/events"
    answer = httpx.post(url, data={"data": json.dumps([raw]), "access_token": meta.access_token})
    assert answer.status_code == 400 and "SHA-256" in answer.json()["error"]["message"]
    browser = {"external_id": ["1"], "client_user_agent": "Mozilla/5.0 (iPhone) Safari/604.1"}
    no_value = {**raw, "user_data": browser, "custom_data": {"currency": "USD"}}
    answer = httpx.post(url, data={"data": json.dumps([no_value]), "access_token": meta.access_token})
    assert answer.status_code == 400 and "value" in answer.json()["error"]["message"]
    # A website event without the browser's user agent: refused as Meta refuses it.
    no_agent = {**raw, "user_data": {"external_id": ["1"]}}
    answer = httpx.post(url, data={"data": json.dumps([no_agent]), "access_token": meta.access_token})
    error = answer.json()["error"]
    assert (
        answer.status_code == 400 and "client_user_agent is required for website events" in error["message"]
    )
    assert error["error_user_title"] == "Missing Client User Agent"
    # Our events: with the browser a website event (accepted), without one an `other` event (accepted).
    agent = "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36"
    web = PurchaseEvent(
        "gid://shopify/Order/3",
        now,
        Decimal("30"),
        "USD",
        "https://s.t/p",
        user_agent=agent,
        client_ip="203.0.113.9",
    )
    assert meta.send_purchase_events([web]) == 1 and tiktok.send_purchase_events([web]) == 1
    with sandbox.world.lock, sandbox.world.state:
        seen = sandbox.world.state.get(conversions.EVENT_KIND, "meta:Purchase:gid://shopify/Order/3")
        plain = sandbox.world.state.get(conversions.EVENT_KIND, "meta:Purchase:gid://shopify/Order/1")
    assert (seen["action_source"], seen["user_agent"]) == ("website", agent)
    assert (plain["action_source"], plain["user_agent"]) == ("other", None)


def test_unpublished_products_pause_and_resume_and_budget_steps_stay_within_20_percent(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    policy = {"min_spend": 10, "learning_conversions": 0, "window_days": 3, "scale_multiple": 1.0}
    defs = build_ads_defs(policy, media_dir)
    launched(defs, 2, 4, sandbox)
    set_costs(store_url, "0", "0")  # a margin near 96 %: breakeven ROAS about 1.04
    ledger = h.rows(store_url, ad_campaigns)
    pid = ledger[0]["pid"]
    # The catalog sync takes the product off sale (its ledger record of it).
    with get_engine(store_url).begin() as conn:
        conn.execute(listing_publication.insert().values(pid=pid, published=False, reason="out of stock"))
    metrics_to_now(defs, sandbox)
    before = {r["campaign_id"]: r for r in ledger}
    assert h.optimise(defs).success
    after = {r["campaign_id"]: r for r in h.rows(store_url, ad_campaigns)}
    for row in after.values():
        campaign, adset = sandbox_campaign(sandbox, row)
        if row["pid"] == pid:
            assert row["state"] == "paused" and row["paused_by"] == "unpublished" and not campaign["active"]
        old = Decimal(str(before[row["campaign_id"]]["daily_budget"]))
        # No change, or one step of at most 20 % (the platform has what the ledger says).
        assert old <= Decimal(str(row["daily_budget"])) <= old * Decimal("1.2")
        assert Decimal(str(adset["budget"])).quantize(Decimal("0.01")) == Decimal(str(row["daily_budget"]))
    actions = h.rows(store_url, ad_actions)
    assert all(a["inputs"] and a["as_of"] for a in actions)
    for scaled in (a for a in actions if a["action"] == "scale"):
        assert scaled["new_budget"] <= scaled["old_budget"] * Decimal("1.2")
        assert scaled["roas"] >= scaled["breakeven_roas"]
    # Re-published: its ads resume, and learn again from that day.
    with get_engine(store_url).begin() as conn:
        conn.execute(listing_publication.update().values(published=True, reason=None))
    assert h.optimise(defs).success
    for row in h.rows(store_url, ad_campaigns):
        if row["pid"] == pid:
            campaign, _ = sandbox_campaign(sandbox, row)
            assert row["state"] == "active" and campaign["active"] and row["learning_since"]
    resumed = [a for a in h.rows(store_url, ad_actions) if a["action"] == "resume"]
    assert resumed and all("published again" in a["reason"] for a in resumed)


def test_below_its_own_breakeven_paused_while_a_higher_margin_product_runs(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    policy = {"min_spend": 10, "learning_conversions": 0, "window_days": 3, "scale_multiple": 50.0}
    defs = build_ads_defs(policy, media_dir)
    launched(defs, 2, 4, sandbox)
    metrics_to_now(defs, sandbox)
    pids = sorted({r["pid"] for r in h.rows(store_url, ad_campaigns)})
    thin, wide = pids[0], pids[1]
    # The same listing price basis, two margins: thin costs 90 % of the price (breakeven ROAS > 10, above
    # any campaign's ROAS here), wide costs nothing (breakeven ~1.04).
    with get_engine(store_url).begin() as conn:
        price = conn.execute(sa.select(listings.c.price).where(listings.c.pid == thin)).scalar_one()
    set_costs(store_url, str((Decimal(price) * Decimal("0.9")).quantize(Decimal("0.01"))), "0", thin)
    set_costs(store_url, "0", "0", wide)
    assert h.optimise(defs).success
    actions = {a["campaign_id"]: a for a in h.rows(store_url, ad_actions)}
    for row in h.rows(store_url, ad_campaigns):
        campaign, _ = sandbox_campaign(sandbox, row)
        if row["pid"] == thin:
            assert row["state"] == "paused" and not campaign["active"]
            assert actions[row["campaign_id"]]["breakeven_roas"] > 10
        elif row["campaign_id"] in actions:  # the wide product is only ever paused under ~1.04
            assert actions[row["campaign_id"]]["roas"] < 1.05
        else:
            assert row["state"] == "active" and campaign["active"]


def test_restated_metrics_revive_a_wrongly_killed_ad(
    pipeline_env: dict,
    sandbox: RunningSandbox,
    store_url: str,
    media_dir: Path,
) -> None:
    # The pixels see no purchase: the platforms learn of them only from the store's server events.
    sandbox.control("POST", "/settings", {"pixel_match_rate": 0.0})
    policy = {"min_spend": 10, "learning_conversions": 0, "window_days": 3, "scale_multiple": 50.0}
    defs = build_ads_defs(policy, media_dir)
    launched(defs, 2, 4, sandbox)
    set_costs(store_url, "0", "0")
    metrics_to_now(defs, sandbox)
    assert h.optimise(defs).success
    killed = [r for r in h.rows(store_url, ad_campaigns) if r["state"] == "paused"]
    assert killed and all(r["paused_by"] == "rule" and r["killed_as_of"] for r in killed)
    # The purchase events arrive; the platforms restate those days; the re-pull reads them.
    ingest_ad_orders(sandbox, store_url)
    assert report_purchases(defs).success
    metrics_to_now(defs, sandbox)
    assert h.optimise(defs).success
    revived = [a for a in h.rows(store_url, ad_actions) if a["action"] == "resume"]
    assert revived, "no killed campaign earned its breakeven once restated"
    ledger = {r["campaign_id"]: r for r in h.rows(store_url, ad_campaigns)}
    for action in revived:
        assert "killed wrongly" in action["reason"] and action["roas"] >= action["breakeven_roas"]
        row = ledger[action["campaign_id"]]
        campaign, _ = sandbox_campaign(sandbox, row)
        assert row["state"] == "active" and campaign["active"] and row["paused_by"] is None


def test_metrics_are_pulled_for_the_accounts_days_by_the_worlds_clock(
    pipeline_env: dict, sandbox: RunningSandbox
) -> None:
    meta, tiktok = clients()
    now = sandbox.world.now()
    # The accounts report in their own time zones, by the world's clock (not this machine's date).
    assert meta.reporting_day() == now.astimezone(conversions.zone("meta")).date()
    assert tiktok.reporting_day() == now.astimezone(conversions.zone("tiktok")).date()
    assert now.date() != datetime.now(UTC).date()
    # The hourly pull takes the last 28 of those days (as far back as the partitions go).
    keys = [(DEFAULT_SIM_START.date() + timedelta(days=n)).isoformat() for n in range(60)]
    day = DEFAULT_SIM_START.date() + timedelta(days=40)
    assert restated_days(day, keys) == ((day - timedelta(days=27)).isoformat(), day.isoformat())
    assert restated_days(DEFAULT_SIM_START.date() + timedelta(days=3), keys)[0] == keys[0]
    # A world ahead of the partitions: the range ends at the last partition, which is open-ended.
    # (the open-ended last partition then takes every day up to the accounts' day).
    assert restated_days(DEFAULT_SIM_START.date() + timedelta(days=90), keys) == (keys[-1], keys[-1])
    assert restated_days(DEFAULT_SIM_START.date() - timedelta(days=1), keys) is None
    # The schedule asks the accounts for their day and requests that range as one run.
    sandbox.control("POST", "/clock", {"advance_seconds": 3 * 86400})
    context = dg.build_schedule_context(
        resources={"meta_ads": meta, "tiktok_ads": tiktok}, scheduled_execution_time=datetime.now(UTC)
    )
    [request] = list(ad_metrics_hourly(context))
    newest = conversions.local_day("tiktok", sandbox.world.now()).isoformat()
    assert request.tags["dagster/asset_partition_range_end"] == newest
    assert request.tags["dagster/asset_partition_range_start"] == DEFAULT_SIM_START.date().isoformat()
