"""The webhook subscriptions (checked and repaired at start) and the preflight's readiness table."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import dagster as dg

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.supplier import Supplier
from dropship_pipelines.services import preflight as checks
from dropship_pipelines.services.webhook_subscriptions import ensure_webhooks
from dropship_pipelines.settings import store_database_url
from dropship_pipelines.store.database import get_engine

GROUP = "readiness"


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> dg.MetadataValue:
    # Whole cells (not the previews' clipped ones): a fix is read in full.
    schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns])
    records = [dg.TableRecord({c: str(row.get(c) or "") for c in columns}) for row in rows]
    return dg.MetadataValue.table(records=records, schema=schema)


@dg.asset(
    group_name=GROUP,
    description="Shopify's webhook subscriptions for every topic the workflows consume and CJ's message "
    "settings, pointed at WEBHOOK_BASE_URL's receiver: listed, and made where missing (claimed in the "
    "ledger's webhook_subscriptions first, so a repeated or overlapping run makes none twice).",
)
def webhook_subscriptions(
    context: dg.AssetExecutionContext,
    shopify: ShopifyAdminResource,
    supplier: dg.ResourceParam[Supplier],
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    outcomes = ensure_webhooks(store_db.engine(), shopify, supplier, run_id=context.run_id)
    for o in outcomes:
        context.log.info(f"{o.service} {o.topic} -> {o.callback_url or '-'}: {o.outcome} {o.detail}")
    failed = [o for o in outcomes if o.outcome in ("failed", "skipped")]
    return dg.MaterializeResult(
        metadata={
            "subscriptions": _table(
                [asdict(o) for o in outcomes], ("service", "topic", "callback_url", "outcome", "detail")
            ),
            "created": sum(o.outcome in ("created", "set") for o in outcomes),
            "missing": len(failed),
        }
    )


@contextmanager
def _open_resource(name: str) -> Iterator[Any]:
    """One resource of the code location, built from the environment now (a missing variable raises
    here, and the preflight turns it into a failed row rather than a failed run)."""
    with dg.build_resources({name: build_resources()[name]}) as built:
        yield getattr(built, name)


def run_checks() -> list[checks.Check]:
    """The preflight against whatever the environment points at (the dashboard's button calls it too)."""
    try:
        engine = get_engine(store_database_url())
    except Exception:  # the ledger is unreachable: the rest can still be checked
        engine = None
    return checks.run_preflight(_open_resource, engine)


@dg.asset(
    group_name=GROUP,
    description="Read-only readiness checks of every service the environment points at: credentials, "
    "scopes and API versions; the ad accounts, pixels and identity; CJ's balance and routes to the main "
    "markets; the OpenAI quota (one cheap call); the webhook subscriptions. Prints the table with the fix "
    "for each failure.",
)
def preflight(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    rows = run_checks()
    text = checks.render(rows)
    print(text)  # `dagster job execute` shows it as it is
    context.log.info("\n" + text)
    failures = [r for r in rows if r.status == "fail"]
    return dg.MaterializeResult(
        metadata={
            "readiness": _table([asdict(r) for r in rows], ("area", "check", "status", "detail", "fix")),
            "ready": not failures,
            "failed": len(failures),
            "warnings": sum(r.status == "warn" for r in rows),
        }
    )
