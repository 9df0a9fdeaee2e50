"""Shadow mode (DROPSHIP_WRITE_MODE=shadow): the four workflows run for an hour of sandbox time against
the live read endpoints, and not one write reaches the sandbox (counted at the server by its request
tally, with its own rule of what a write is), while every write they meant to make is in the ledger's
shadow_writes: listings, supplier orders, fulfillments, replies, campaigns, budget and status changes.

A shadowed write answers synthetic ids (`shadow:<kind>:<ref>`), so whole chains are recorded: campaign ->
ad set / ad group -> video -> creative -> ad -> switch on; a listing with its variants (one productSet);
a reply, then its ticket's tags and status. A shadow supplier order never ships, so no fulfillment
follows it (the fulfillments recorded are of the live orders CJ shipped). The claims live in the shadow
ledger; the live store holds none of them, and back in live mode the workflows make those writes.

A live stretch first gives them something to act on: products listed, orders at the supplier (shipped by
the time shadow mode starts), one product's campaigns with days of metrics, customers who wrote.
"""

import json
import os
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.resources.write_gate import is_shadow_id
from dropship_pipelines.store.ads_tables import ad_actions, ad_campaigns
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listing_variants, listings
from dropship_pipelines.store.fulfillment_tables import fulfillments, supplier_orders
from dropship_pipelines.store.schema import metadata
from dropship_pipelines.store.shadow_ledger import shadow_url
from dropship_pipelines.store.support_tables import support_replies
from dropship_pipelines.store.write_mode_tables import shadow_writes
from dropship_sandbox.world import DEFAULT_SIM_START
from dropship_testkit.api_tally import ApiTally
from dropship_testkit.pipelines import SMALL_VIDEO
from dropship_testkit.sandbox_server import RunningSandbox, running_sandbox
from dropship_testkit.sandbox_world import customers_write
from tests.conftest import fast_settings
from tests.test_overlap import every_workflow

DISCOVERY = {
    "ops": {
        "product_candidates": {"config": {"detail_lookups_per_run": 8}},
        "store_listings": {"config": {"max_listings_per_run": 2}},
    }
}
ONE_LAUNCH = {"ops": {"ad_creatives": {"config": {**SMALL_VIDEO, "max_per_run": 1}}}}
LAUNCH = {"ops": {"ad_creatives": {"config": SMALL_VIDEO}}}


@pytest.fixture
def tallied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    tally = ApiTally()
    store_url = f"sqlite:///{tmp_path}/store.db"
    with running_sandbox(tmp_path / "world.db", fast_settings(), wrap=tally.wrap) as sandbox:
        for key, value in sandbox.env(store_url, tmp_path / "tokens").items():
            monkeypatch.setenv(key, value)
        sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
        yield sandbox, tally, store_url


def _run(defs: dg.Definitions, job: str, config: dict | None = None, **kw: Any) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        run_config=config or {}, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, **kw
    )


def _kind(service: str, operation: str) -> str:
    """`helpdesk POST /api/tickets/{id}/messages`: one kind for every ticket, campaign, ad set."""
    operation = re.sub(r"shadow:[\w.]+:[0-9a-f]+(\.\d+)?", "{shadow id}", operation)
    operation = re.sub(r"(?<![\w])\d{4,}(?![\w])", "{id}", operation)
    return f"{service} {operation}"


def _appealing(sandbox: RunningSandbox, platform: str) -> None:
    """The platform's campaigns sell well (the product appeals to its audience)."""
    world = sandbox.world
    with world.lock, world.state:
        for campaign in world.state.all(f"{platform}_campaign"):
            campaign.setdefault("_sim", {})["appeal"] = 0.95
            world.state.put(f"{platform}_campaign", campaign["id"], campaign)


def _rows(conn: sa.Connection, table: sa.Table) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(sa.select(table))]


def _shadow_values(conn: sa.Connection) -> list[tuple[str, str]]:
    """(table, value) of every synthetic id anywhere in a store."""
    found = []
    for table in metadata.sorted_tables:
        for row in _rows(conn, table):
            found += [(table.name, v) for v in row.values() if is_shadow_id(v) or "shadow:" in str(v)]
    return found


def _metrics(defs: dg.Definitions, sandbox: RunningSandbox) -> None:
    first, last = DEFAULT_SIM_START.date(), sandbox.world.now().date()
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
    assert _run(defs, "ad_metrics_job", tags=tags).success


@pytest.mark.system
def test_an_hour_in_shadow_mode_sends_nothing_and_records_every_intended_write(
    tallied, tmp_path, monkeypatch
):
    sandbox, tally, store_url = tallied
    defs = every_workflow(tmp_path / "media")

    # Live: listings, orders at the supplier, one product's ads with five days of metrics.
    assert _run(defs, "product_discovery_job", DISCOVERY).success
    sandbox.control("POST", "/orders", {"count": 4})
    _run(defs, "order_fulfillment_job")
    assert sandbox.audit().get("supplier_orders_created"), "nothing sent to the supplier live"
    _run(defs, "ad_launch_job", ONE_LAUNCH)
    assert sandbox.audit().get("campaigns_created"), "no live campaign to optimise"
    _appealing(sandbox, "meta")  # Meta's campaign earns: the optimiser scales it; TikTok's is paused
    customers_write(sandbox.world, daily_rate=1.0, days=6)  # the supplier ships; customers write
    sandbox.control("POST", "/clock", {"advance_seconds": 5 * 86400})
    with get_engine(store_url).begin() as conn:  # the launched product earns: the optimiser scales it
        conn.execute(listings.update().values(unit_cost=Decimal("0.50"), shipping_cost=Decimal("0")))
    _metrics(defs, sandbox)
    sandbox.control("POST", "/orders", {"count": 3})  # placed after the live stretch: shadow meets them

    # Shadow: an hour of sandbox time, every workflow run each quarter of it.
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "shadow")
    writes_before = sum(tally.writes.values())
    audit_before = sandbox.audit()
    for quarter in range(4):
        sandbox.control("POST", "/clock", {"advance_seconds": 900})
        _run(defs, "product_discovery_job", DISCOVERY)
        _run(defs, "order_fulfillment_job")
        _run(defs, "customer_service_job")
        if quarter in (0, 3):  # a launch renders its video first: twice is enough to see it repeat
            _run(defs, "ad_launch_job", LAUNCH)
            _run(defs, "ad_optimization_job")

    arrived = {k: v for k, v in tally.writes.items()}
    assert sum(tally.writes.values()) == writes_before, f"writes reached the sandbox: {arrived}"
    changed = {
        kind: {k: n for k, n in counts.items() if audit_before.get(kind, {}).get(k) != n}
        for kind, counts in sandbox.audit().items()
    }
    # What moved at the sandbox are only the model's counters: completions are reads.
    assert {kind for kind, moved in changed.items() if moved} <= {"llm_calls", "llm_drafts", "llm_intents"}

    with get_engine(store_url).connect() as conn:  # shadow mode: the shadow ledger
        assert str(conn.engine.url) == shadow_url(store_url)
        rows = _rows(conn, shadow_writes)
        ledger = {t.name: _rows(conn, t) for t in (ad_campaigns, listings, listing_variants)}
        ledger |= {t.name: _rows(conn, t) for t in (supplier_orders, fulfillments, support_replies)}
        decisions = [(a["platform"], a["action"], a["status"], a["reason"]) for a in _rows(conn, ad_actions)]
    print("\noptimiser's decisions in shadow:", *decisions, sep="\n  ")
    by_kind = Counter(_kind(r["service"], r["operation"]) for r in rows)
    print("\nshadow writes by kind:", json.dumps(dict(sorted(by_kind.items())), indent=1))
    operations = {(r["service"], r["operation"]) for r in rows}
    assert ("shopify", "ListProduct") in operations  # listings
    assert ("cj", "POST /shopping/order/createOrderV2") in operations  # supplier orders
    assert ("shopify", "FulfillmentCreate") in operations  # fulfillments
    assert any(s == "helpdesk" and "/messages" in o for s, o in operations)  # replies
    assert ("tiktok", "POST /campaign/status/update/") in operations  # the optimiser's pause
    budget_changes = [  # the optimiser's scale of the live ad set: its new budget, not sent
        r for r in rows if r["service"] == "meta" and re.fullmatch(r"POST \d+", r["operation"])
    ]
    assert any("daily_budget" in (r["summary"]["data"] or {}) for r in budget_changes), decisions

    # Whole launch chains, each write naming the synthetic id the one before it answered.
    meta_chain = ["campaigns", "adsets", "advideos", "adcreatives", "ads"]
    for edge in meta_chain:
        assert any(s == "meta" and o.rsplit("/", 1)[-1].endswith(edge) for s, o in operations), edge
    for path in ("/campaign/create/", "/adgroup/create/", "/file/video/ad/upload/", "/ad/create/"):
        assert ("tiktok", f"POST {path}") in operations, path
    shadow_launches = [r for r in ledger["ad_campaigns"] if is_shadow_id(r["campaign_id"])]
    assert {r["platform"] for r in shadow_launches} == {"meta", "tiktok"}
    for launch in shadow_launches:
        assert all(is_shadow_id(launch[k]) for k in ("campaign_id", "adset_id", "video_id", "ad_id")), launch
        assert launch["state"] == "active"

        def naming(shadow_id: str) -> list[str]:
            return [r["operation"] for r in rows if shadow_id in r["operation"] + json.dumps(r["summary"])]

        assert len(naming(launch["campaign_id"])) >= 2, launch  # its ad set / ad group, its switch-on
        assert naming(launch["adset_id"]), launch  # the ads in it
        assert naming(launch["video_id"]), launch  # the creative (Meta) or ad (TikTok) showing it
    adsets = [r for r in rows if r["operation"].endswith("/adsets")]
    assert all(is_shadow_id(r["summary"]["data"]["campaign_id"]) for r in adsets)

    # Listings with their variants: the shadow product's variants, one per SKU, in the shadow ledger.
    shadow_listed = [r for r in ledger["listings"] if is_shadow_id(r["store_product_id"])]
    assert shadow_listed, "no listing made in shadow mode"
    listed_pids = {r["pid"] for r in shadow_listed}
    shadow_variants = [v for v in ledger["listing_variants"] if v["pid"] in listed_pids]
    assert shadow_variants and all(is_shadow_id(v["store_variant_id"]) for v in shadow_variants)

    # Supplier orders of the orders placed in shadow: CREATED at a supplier that never ships them, so no
    # fulfillment follows (every fulfillment recorded is of a live order CJ shipped).
    shadow_orders = [o for o in ledger["supplier_orders"] if is_shadow_id(o["supplier_order_id"])]
    assert shadow_orders and all(o["track_number"] is None for o in shadow_orders)
    # CREATED, or CANCELLED when the store order was cancelled (its deleteOrder recorded too)
    assert {o["supplier_status"] for o in shadow_orders} <= {"CREATED", "CANCELLED"}
    fulfilled = {f["order_id"] for f in ledger["fulfillments"]}
    assert not fulfilled & {o["order_id"] for o in shadow_orders}
    # Replies: sent (a synthetic message id), then the ticket tagged and set, also recorded.
    assert any(is_shadow_id(r["helpdesk_message_id"]) for r in ledger["support_replies"])
    assert any(s == "helpdesk" and o.startswith("PUT /api/tickets/") for s, o in operations)

    assert all(r["run_id"] for r in rows)  # each recorded by the run that meant it
    assert len({r["write_key"] for r in rows}) == len(rows)  # a write repeated each quarter: one row
    listing = next(r for r in rows if r["operation"] == "ListProduct")
    assert listing["summary"]["input"]["title"]  # what it would have listed, readable
    secrets = [v for k, v in os.environ.items() if k.endswith(("_TOKEN", "_API_KEY")) and len(v) > 8]
    assert not any(secret in json.dumps(r["summary"]) for r in rows for secret in secrets)

    # Back to live: the live store holds no claim shadow mode made, and the workflows make those writes.
    monkeypatch.setenv("DROPSHIP_WRITE_MODE", "live")
    with get_engine(store_url).connect() as conn:
        assert str(conn.engine.url) == store_url
        assert _shadow_values(conn) == []
        assert not conn.execute(sa.select(shadow_writes)).first()
    audit_shadow = sandbox.audit()
    assert _run(defs, "product_discovery_job", DISCOVERY).success
    _run(defs, "order_fulfillment_job")
    after = sandbox.audit()
    created = {
        kind: sum(after.get(kind, {}).values()) - sum(audit_shadow.get(kind, {}).values())
        for kind in ("listings_created", "supplier_orders_created")
    }
    print("live after shadow, created at the sandbox:", created)
    assert sum(tally.writes.values()) > writes_before
    assert created["supplier_orders_created"] >= 1, created  # the orders shadow mode only recorded
