"""Checks of the readiness assets, read from the ledger and the materialisation."""

import dagster as dg

from dropship_pipelines.resources.shopify.webhooks import TOPICS
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.services.webhook_subscriptions import CJ_TOPIC, callback_urls
from dropship_pipelines.store.write_mode_queries import subscription_rows


@dg.asset_check(
    asset="webhook_subscriptions",
    description="Every Shopify topic the workflows consume, and CJ's messages, registered to the current "
    "callback URL (per the ledger, as of the last check).",
)
def webhooks_registered(store_db: StoreDatabase) -> dg.AssetCheckResult:
    urls = callback_urls()
    with store_db.engine().connect() as conn:
        rows = subscription_rows(conn)
    want = {(("shopify", t), urls.shopify if urls else "") for t in TOPICS}
    want.add((("cj", CJ_TOPIC), urls.cj if urls else ""))  # CJ is the supplier (resources/catalog.py)
    have = {((r["service"], r["topic"]), r["callback_url"]) for r in rows if r["state"] == "registered"}
    missing = sorted(f"{service}:{topic}" for (service, topic), _url in want - have)
    return dg.AssetCheckResult(
        passed=urls is not None and not missing,
        metadata={
            "missing": ", ".join(missing) or "none",
            "failed": ", ".join(
                f"{r['subscription_key']}: {r['error']}" for r in rows if r["state"] == "failed"
            )
            or "none",
        },
    )


@dg.asset_check(asset="preflight", description="Nothing in the readiness table failed.")
def preflight_ready(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    event = context.instance.get_latest_materialization_event(dg.AssetKey("preflight"))
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    failed = metadata.get("failed")
    count = int(failed.value) if failed is not None else -1  # type: ignore[arg-type]
    return dg.AssetCheckResult(passed=count == 0, metadata={"failed": count})
