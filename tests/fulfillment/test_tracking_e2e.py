"""Tracking over the sandbox's HTTP APIs: the email at the first carrier scan, a changed tracking number
re-posted once, stalls and lost parcels flagged (a lost one handed to the supplier-failure path once),
and the true-profit facts (CJ's actual postage, the gateway's fees) landing in the ledger."""

import logging
from datetime import datetime
from decimal import Decimal

import httpx
import sqlalchemy as sa

from dropship_pipelines.assets.fulfillment.tracking_checks import (
    changed_tracking_numbers_posted,
    lost_parcels_reported,
    no_stalled_parcels,
)
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.carriers import SHOPIFY_CARRIERS
from dropship_pipelines.rules.tracking import TrackingPolicy
from dropship_pipelines.services.tracking import sync_tracking
from dropship_pipelines.store.analytics_tables import analytics_daily_profit
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import fulfillments, store_orders, supplier_orders
from dropship_pipelines.store.profit_tables import order_payments, supplier_costs
from dropship_pipelines.store.support_queries import facts_of, order_named
from dropship_pipelines.store.tracking_tables import parcel_tracking, tracking_updates
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.pipelines import built_resources, recompute_analytics
from dropship_testkit.sandbox_world import sendable_numbers
from tests.fulfillment.helpers import created_at_supplier, fulfilled, place, run_fulfillment

LOG = logging.getLogger("test")
DAY = 86400


def _advance(sandbox, seconds: float) -> datetime:
    clock = sandbox.control("POST", "/clock", {"advance_seconds": seconds})
    return datetime.fromisoformat(clock["sim_now"].replace("Z", "+00:00"))


def _sync(sandbox, store_url: str, now: datetime, policy: TrackingPolicy | None = None):
    with built_resources("shopify", "supplier") as built:
        return sync_tracking(
            built.supplier,
            built.shopify,
            get_engine(store_url),
            policy=policy or TrackingPolicy(),
            batch_size=50,
            max_attempts=5,
            log=LOG,
            now=now,
            run_id="test",
        )


def _rows(store_url: str, table: sa.Table) -> list[dict]:
    with get_engine(store_url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def _orders_at_supplier(sandbox, store_url: str, count: int) -> set[str]:
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 2)
    wanted = sendable_numbers(place(sandbox, count))
    for _ in range(3):
        run_fulfillment()
        if set(created_at_supplier(sandbox)) >= wanted:
            break
    assert set(created_at_supplier(sandbox)) == wanted
    return wanted


def test_email_at_first_scan_and_a_changed_number_reposted_once(sandbox, store_url, pipeline_env) -> None:
    sandbox.control(
        "POST",
        "/parcels/settings",
        {
            "first_scan_hours_min": 100,
            "first_scan_hours_max": 101,
            "retrack_rate": 1.0,
            "cost_change_rate": 1.0,
            "paypal_rate": 0.5,
            "presentment_rate": 1.0,
        },
    )
    refused = httpx.post(f"{sandbox.url}/_sandbox/parcels/settings", json={"lost_rat": 0.5})
    assert refused.status_code == 422 and "lost_rat" in refused.text
    wanted = _orders_at_supplier(sandbox, store_url, 8)

    now = _advance(sandbox, 3.5 * DAY)  # every parcel labelled and shipped, none scanned yet
    run = _sync(sandbox, store_url, now)
    assert run.outcomes["waiting_scan"] == len(wanted) and not fulfilled(sandbox)
    assert "shipping_confirmations_sent" not in sandbox.audit()

    now = _advance(sandbox, 4 * DAY)  # day 7.5: every parcel scanned, no number changed yet
    run = _sync(sandbox, store_url, now)
    assert run.outcomes["posted"] == len(wanted)
    done = fulfilled(sandbox)
    assert len(done) == len(wanted) and set(done.values()) == {1}
    companies = {r["shopify_company"] for r in _rows(store_url, parcel_tracking)}
    # Shopify's own names where it knows the carrier; CJ's own line keeps its name (and the URL)
    assert all(c in SHOPIFY_CARRIERS.values() or c.startswith("CJPacket") for c in companies), companies
    assert all(r["first_scan_at"] is not None for r in _rows(store_url, parcel_tracking))

    now = _advance(sandbox, 5.5 * DAY)  # day 13: every tracking number has changed at CJ
    for _ in range(2):  # a repeated run re-posts nothing
        _sync(sandbox, store_url, now)
    updates = _rows(store_url, tracking_updates)
    posted = {r["order_id"]: r["track_number"] for r in _rows(store_url, fulfillments)}
    assert updates and {u["state"] for u in updates} == {"done"} and all(u["attempts"] == 1 for u in updates)
    changed = {u["order_id"] for u in updates}
    with built_resources("supplier") as built:
        for row in _rows(store_url, supplier_orders):
            current = built.supplier.find_order(row["order_number"])
            if row["order_id"] in changed:
                assert posted[
                    row["order_id"]
                ] == current.track_number.strip() and current.track_number.startswith("CJPKR")
            else:  # delivered before CJ re-labelled it: the store keeps the number the parcel arrived under
                assert row["supplier_status"] == "DELIVERED"
    emails = sandbox.audit()["shipping_confirmations_sent"]
    for order_id in posted:
        assert emails[order_id] == 1 + (order_id in changed)  # the first scan's email, the new number's

    # True profit's facts: CJ's actual postage (re-weighed, not the quote), the gateway and its fees.
    costs = _rows(store_url, supplier_costs)
    assert len(costs) == len(wanted)
    with built_resources("supplier") as built:
        for cost in costs:
            detail = built.supplier.find_order(cost["order_number"])
            assert Decimal(str(cost["postage_amount"])) == detail.postage_amount
    run_fulfillment()  # reads the orders again with their transactions
    payments = _rows(store_url, order_payments)
    gateways = {p["gateway"] for p in payments}
    assert gateways <= {"shopify_payments", "paypal"}
    truth = {key.split(" ")[0]: Decimal(key.split(" ")[1]) for key in sandbox.audit()["gateway_fees"]}
    for p in payments:
        if p["gateway"] == "shopify_payments":
            assert Decimal(str(p["fees"])) == truth[p["order_id"]]
        else:
            assert p["fees"] is None  # PayPal's fees are not reported: the configured rate applies

    # ... and the daily analytics count them to the cent: PayPal at its configured rate, the rest reported
    with get_engine(store_url).connect() as conn:
        days = [r.placed_at.date() for r in conn.execute(sa.select(store_orders.c.placed_at))]
    outcome = recompute_analytics(store_url, min(days), max(days))
    assert not outcome.failed_checks, outcome.failed_checks
    daily = _rows(store_url, analytics_daily_profit)
    counted = {p["order_id"] for p in payments}
    assert sum(Decimal(str(d["payment_fees"])) for d in daily) == sum(truth[o] for o in counted)
    assert sum(Decimal(str(d["shipping_cost"])) for d in daily) == sum(
        Decimal(str(c["postage_amount"])) for c in costs
    )


def test_lost_and_stalled_parcels_are_flagged_and_a_lost_one_reported_once(
    sandbox,
    store_url,
    pipeline_env,
) -> None:
    sandbox.control(
        "POST",
        "/parcels/settings",
        {
            "lost_rate": 0.5,
            "stall_rate": 0.5,
            "stall_days": 12,
            "first_scan_hours_min": 2,
            "first_scan_hours_max": 4,
        },
    )
    wanted = _orders_at_supplier(sandbox, store_url, 6)
    policy = TrackingPolicy(no_tracking_days=7, no_scan_days=4, lost_after_days=9)
    now = _advance(sandbox, 4 * DAY)
    _sync(sandbox, store_url, now, policy)
    now = _advance(sandbox, 7 * DAY)  # scans stopped 1-3 days after the first: 5+ quiet days for all
    _sync(sandbox, store_url, now, policy)
    audit = sandbox.audit()
    lost_truth, stalled_truth = set(audit.get("parcels_lost", {})), set(audit.get("parcels_stalled", {}))
    assert lost_truth | stalled_truth == wanted
    parcels = {r["order_number"]: r for r in _rows(store_url, parcel_tracking)}
    assert {n for n, r in parcels.items() if r["stall"]} == wanted  # every quiet parcel flagged
    store_db = StoreDatabase(url=store_url)
    flagged = no_stalled_parcels(store_db=store_db)
    assert not flagged.passed and flagged.metadata["stalled"].value == len(wanted)
    now = _advance(sandbox, 6 * DAY)  # lost ones quiet past lost_after_days; stalled ones scanning again
    for _ in range(2):
        _sync(sandbox, store_url, now, policy)
    parcels = {r["order_number"]: r for r in _rows(store_url, parcel_tracking)}
    assert {n for n, r in parcels.items() if r["stall"] == "lost"} == lost_truth
    assert all(parcels[n]["failure_reported_at"] is not None for n in lost_truth)
    assert all(parcels[n]["stall"] is None for n in stalled_truth)
    with get_engine(store_url).connect() as conn:  # support answers "where is my order" from it
        for number in lost_truth:
            order = order_named(conn, "#" + number.split("-")[1])
            assert order is not None and facts_of(conn, order).tracking_stall == "lost"
    assert lost_parcels_reported(store_db=store_db).passed
    assert changed_tracking_numbers_posted(store_db=store_db).passed
    refunds = sandbox.audit().get("refunds_created", {})
    assert all(count == 1 for count in refunds.values()), refunds
