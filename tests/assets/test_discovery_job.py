"""The discovery job end to end against the sandbox: lists with AI copy, never twice, survives bad input."""

from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import (
    listing_variants,
    listings,
    product_candidates,
    product_copy,
)
from dropship_testkit.pipelines import build_defs
from dropship_testkit.sandbox_server import RunningSandbox

SMALL = {
    "ops": {
        "product_candidates": {"config": {"detail_lookups_per_run": 15}},
        "store_listings": {"config": {"max_listings_per_run": 8}},
    }
}


def run(config: dict | None = None) -> dg.ExecuteInProcessResult:
    defs = build_defs(discovery_defs)
    job = defs.resolve_job_def("product_discovery_job")
    return job.execute_in_process(
        run_config=config or SMALL, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def listings_metadata(result: dg.ExecuteInProcessResult) -> dict:
    """`store_listings`' materialization (made in one step with the candidates and their copy)."""
    key = dg.AssetKey("store_listings")
    return next(
        dict(e.materialization.metadata)
        for e in result.get_asset_materialization_events()
        if e.asset_key == key
    )


def rows(store_url: str, table: sa.Table) -> list[sa.Row]:
    with get_engine(store_url).connect() as conn:
        return conn.execute(sa.select(table)).all()


def test_one_run_lists_products_with_ai_copy(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    result = run()
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    listed = [r for r in rows(store_url, listings) if r.status == "listed"]
    assert len(listed) == 8
    audit = sandbox.audit()
    assert set(audit["listings_created"]) == {r.pid for r in listed}
    copies = {r.pid: r for r in rows(store_url, product_copy)}
    for listing in listed:
        assert listing.store_product_id.startswith("gid://shopify/Product/")
        assert copies[listing.pid].title == listing.title and copies[listing.pid].status == "ok"
    metadata = listings_metadata(result)
    assert metadata["listed"].value == 8


def test_second_run_lists_nothing_twice_and_reuses_copy(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    assert run().success
    llm_calls = sum(sandbox.audit()["llm_calls"].values())
    second = run()
    assert second.success
    audit = sandbox.audit()
    assert all(count == 1 for count in audit["listings_created"].values())
    # The second run lists the next batch but never re-writes copy for what was already written.
    copied = len(rows(store_url, product_copy))
    assert sum(audit["llm_calls"].values()) - llm_calls == copied - llm_calls
    assert len([r for r in rows(store_url, listings) if r.status == "listed"]) == 16


def test_every_rejection_has_a_reason(pipeline_env: dict, store_url: str) -> None:
    assert run(
        {
            "ops": {
                "product_candidates": {"config": {"detail_lookups_per_run": 30, "max_shipping_days": 2}},
                "store_listings": {"config": {"max_listings_per_run": 1}},
            }
        }
    ).success
    candidates = rows(store_url, product_candidates)
    rejected = [c for c in candidates if c.status == "rejected"]
    assert rejected and all(c.reason for c in rejected)
    assert any("ships in up to" in c.reason for c in rejected)


def test_llm_junk_is_recorded_not_listed(pipeline_env: dict, sandbox: RunningSandbox, store_url: str) -> None:
    sandbox.control("POST", "/llm", {"mode": "invalid_json", "rate": 1.0})
    result = run()
    assert result.success
    failed = [c for c in rows(store_url, product_copy) if c.status == "failed"]
    assert failed and all("invalid JSON" in c.error for c in failed)
    assert not rows(store_url, listings) and "listings_created" not in sandbox.audit()
    warnings = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert warnings["copy_failures"] is False
    sandbox.control("POST", "/llm", {"mode": "good", "rate": 0.0})
    assert run().success  # failed copy is retried on the next run, then listed
    assert len([r for r in rows(store_url, listings) if r.status == "listed"]) == 8


@pytest.mark.parametrize("mode", ["off_topic", "empty", "refusal"])
def test_unusable_copy_never_reaches_the_store(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str, mode: str
) -> None:
    sandbox.control("POST", "/llm", {"mode": mode, "rate": 1.0})
    assert run().success
    assert "listings_created" not in sandbox.audit()


@pytest.mark.system
def test_storms_of_faults_lose_nothing_and_duplicate_nothing(
    pipeline_env: dict, sandbox: RunningSandbox, store_url: str
) -> None:
    for api in ("cj", "shopify", "openai"):
        sandbox.control("POST", f"/faults/{api}", {"rate_limit_rate": 0.25, "error_rate": 0.1})
    sandbox.control("POST", "/faults/shopify", {"lost_response_rate": 0.2})
    sandbox.control("POST", "/faults/cj", {"expire_tokens": True})
    first = run()
    second = run()
    assert first.success and second.success
    audit = sandbox.audit()
    assert all(count == 1 for count in audit["listings_created"].values())
    ledger = {r.pid for r in rows(store_url, listings) if r.status == "listed"}
    assert ledger == set(audit["listings_created"])


def test_price_rule_change_reprices_existing_listings(pipeline_env: dict, store_url: str) -> None:
    assert run().success
    before = {r.vid: r.price for r in rows(store_url, listing_variants)}
    # The operator changes the rule for a run from the launchpad: resources.pricing.config. The listing
    # step leaves listed prices alone; the catalog sync re-prices them (with lineage and the daily limit).
    result = run(
        {
            "ops": {**SMALL["ops"], "store_listings": {"config": {"max_listings_per_run": 0}}},
            "resources": {"pricing": {"config": {"markup": 0.8}}},
        }
    )
    assert result.success
    assert listings_metadata(result)["updated"].value == 0
    catalog = build_defs(discovery_defs).resolve_job_def("catalog_sync_job")
    synced = catalog.execute_in_process(
        run_config={
            "ops": {"catalog_reconcile": {"config": {"max_daily_move": 1.0, "markets": ["US"]}}},
            "resources": {"pricing": {"config": {"markup": 0.8}}},
        },
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey("catalog_reconcile")],
    )
    assert synced.success
    after = {r.vid: r.price for r in rows(store_url, listing_variants)}
    assert before.keys() == after.keys()
    # Cheap products sit on the minimum-profit floor; every other price rises with the markup.
    assert all(Decimal(after[vid]) >= Decimal(before[vid]) for vid in before)
    assert sum(Decimal(after[vid]) > Decimal(before[vid]) for vid in before) >= len(before) // 2
