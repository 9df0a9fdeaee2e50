"""The world against the ledger: every order, message, listing and campaign, and the money to the cent.

Ground truth is the sandbox: its state file (orders as the store has them, helpdesk messages) and its audit
counters (each side effect counted where it landed). The ledger is the store database the pipelines keep.
Both are read after every process has stopped, so nothing moves while they are compared.
"""

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dropship_pipelines.store.ads_tables import ad_campaigns
from dropship_pipelines.store.analytics_tables import analytics_daily_profit, analytics_daily_sales
from dropship_pipelines.store.discovery_tables import listings
from dropship_pipelines.store.fulfillment_tables import fulfillments, store_orders, supplier_orders
from dropship_pipelines.store.profit_tables import supplier_costs
from dropship_pipelines.store.refund_tables import order_cases
from dropship_pipelines.store.support_tables import support_replies
from dropship_testkit.soak.cancellation_audit import audit_cancellations, parcel_left
from dropship_testkit.soak.gate_audit import audit_gate
from dropship_testkit.soak.money_audit import audit_true_profit

CENT = Decimal("0.01")


@dataclass
class World:
    """What the sandbox holds, read-only from its state file."""

    orders: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    audit: dict[str, dict[str, int]]
    cj_orders: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, state_path: Path) -> "World":
        # Read-only URI: the audit must not be able to change the world it judges.
        conn = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True)
        try:

            def docs(kind: str) -> list[dict[str, Any]]:
                rows = conn.execute("SELECT body FROM docs WHERE kind=? ORDER BY seq", (kind,)).fetchall()
                return [json.loads(body) for (body,) in rows]

            audit: dict[str, dict[str, int]] = defaultdict(dict)
            for kind, key, count in conn.execute("SELECT kind, key, count FROM audit"):
                audit[kind][key] = int(count)
            return cls(docs("shopify_order"), docs("helpdesk_message"), dict(audit), docs("cj_order"))
        finally:
            conn.close()

    def counts(self, kind: str) -> dict[str, int]:
        return self.audit.get(kind, {})


@dataclass
class Ledger:
    orders: list[dict[str, Any]]
    supplier_orders: list[dict[str, Any]]
    fulfillments: list[dict[str, Any]]
    replies: list[dict[str, Any]]
    listings: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]
    daily_sales: list[dict[str, Any]]
    cases: list[dict[str, Any]] = field(default_factory=list)  # cancellations and supplier failures
    daily_profit: list[dict[str, Any]] = field(default_factory=list)  # true profit per day
    supplier_costs: list[dict[str, Any]] = field(default_factory=list)  # what CJ actually charged

    @classmethod
    def read(cls, store_url: str) -> "Ledger":
        engine = sa.create_engine(store_url)
        try:
            with engine.connect() as conn:

                def rows(table: sa.Table) -> list[dict[str, Any]]:
                    return [dict(r._mapping) for r in conn.execute(sa.select(table))]

                return cls(
                    rows(store_orders),
                    rows(supplier_orders),
                    rows(fulfillments),
                    rows(support_replies),
                    rows(listings),
                    rows(ad_campaigns),
                    rows(analytics_daily_sales),
                    rows(order_cases),
                    rows(analytics_daily_profit),
                    rows(supplier_costs),
                )
        finally:
            engine.dispose()


@dataclass
class Finding:
    area: str
    kind: str  # lost | duplicated | money | mismatch
    key: str
    detail: str

    @property
    def fails(self) -> bool:
        return self.kind in ("lost", "duplicated", "money", "unsafe")


@dataclass
class AuditResult:
    orders: dict[str, Any] = field(default_factory=dict)
    support: dict[str, Any] = field(default_factory=dict)
    listings: dict[str, Any] = field(default_factory=dict)
    campaigns: dict[str, Any] = field(default_factory=dict)
    money: dict[str, str] = field(default_factory=dict)
    cancellations: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)  # soak/gate_audit.py
    events: dict[str, int] = field(default_factory=dict)  # the store life the world produced (store_events)
    side_effect_duplicates: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    stuck_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(f.fails for f in self.findings)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _audit_orders(world: World, ledger: Ledger, result: AuditResult) -> None:
    by_id = {o["order_id"]: o for o in ledger.orders}
    supplier_by_order = {s["order_id"]: s for s in ledger.supplier_orders}
    fulfillment_by_order = {f["order_id"]: f for f in ledger.fulfillments}
    supplier_counts = world.counts("supplier_orders_created")
    fulfillment_counts = world.counts("fulfillments_created")
    tally: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for doc in world.orders:
        gid = f"gid://shopify/Order/{doc['id']}"
        tally["placed"] += 1
        row = by_id.get(gid)
        if row is None:
            tally["lost"] += 1
            result.findings.append(
                Finding("orders", "lost", doc["name"], "placed but never read into the ledger")
            )
            continue
        if row["state"] == "cancelled" or doc.get("cancelledAt"):
            tally["cancelled"] += 1
            continue
        supplier = supplier_by_order.get(gid)
        sent = supplier_counts.get(supplier["order_number"], 0) if supplier else 0
        if sent > 1:
            tally["duplicated"] += 1
            result.findings.append(
                Finding("orders", "duplicated", doc["name"], f"sent to the supplier {sent} times")
            )
        elif sent == 1:
            tally["sent_once"] += 1
            if row["state"] not in ("sent", "shipped"):
                result.findings.append(
                    Finding(
                        "orders", "mismatch", doc["name"], f"at the supplier, ledger state {row['state']}"
                    )
                )
        elif row["state"] == "problem" and row.get("problem"):
            tally["stuck_with_reason"] += 1
            reasons[str(row["problem"]).split(":")[0][:80]] += 1
        else:
            tally["lost"] += 1
            result.findings.append(
                Finding(
                    "orders",
                    "lost",
                    doc["name"],
                    f"ledger state {row['state']!r}, not at the supplier, no reason recorded",
                )
            )
        posted = fulfillment_counts.get(gid, 0)
        if posted > 1:
            tally["fulfillment_duplicated"] += 1
            result.findings.append(Finding("orders", "duplicated", doc["name"], f"fulfilled {posted} times"))
        elif posted == 1:
            tally["fulfilled"] += 1
            ledger_fulfillment = fulfillment_by_order.get(gid)
            if ledger_fulfillment is None or ledger_fulfillment["state"] != "posted":
                result.findings.append(
                    Finding(
                        "orders", "mismatch", doc["name"], "fulfilled in the store, not posted in the ledger"
                    )
                )
    known_numbers = {s["order_number"] for s in ledger.supplier_orders}
    for number, count in supplier_counts.items():
        if number not in known_numbers:
            # A supplier order the ledger does not know is one it could create again under another key.
            result.findings.append(
                Finding("orders", "duplicated", number, f"supplier order ({count}x) unknown to the ledger")
            )
    order_measures = (
        "placed",
        "sent_once",
        "fulfilled",
        "stuck_with_reason",
        "cancelled",
        "lost",
        "duplicated",
    )
    result.orders = {k: tally.get(k, 0) for k in (*order_measures, "fulfillment_duplicated")}
    result.orders["ledger_states"] = dict(Counter(o["state"] for o in ledger.orders))
    result.stuck_reasons = dict(reasons.most_common())


def _audit_support(world: World, ledger: Ledger, result: AuditResult) -> None:
    received = [m for m in world.messages if not m.get("from_agent")]
    agent_public = [m for m in world.messages if m.get("from_agent") and m.get("public", True)]
    sent_by_marker = Counter(str(m.get("external_id")) for m in agent_public if m.get("external_id"))
    reply_by_message = {str(r["message_id"]): r for r in ledger.replies}
    sent_per_ticket = Counter(str(r["ticket_id"]) for r in ledger.replies if r["state"] == "sent")
    tally: Counter[str] = Counter(received=len(received))
    for message in received:
        key = str(message["id"])
        reply = reply_by_message.get(key)
        state = reply["state"] if reply else None
        if state == "sent":
            copies = sent_by_marker.get(str(reply["reply_key"]), 0) if reply else 0
            if copies == 1:
                tally["answered_once"] += 1
            elif copies > 1:
                tally["duplicated"] += 1
                result.findings.append(Finding("support", "duplicated", key, f"answered {copies} times"))
            else:
                tally["lost"] += 1
                result.findings.append(
                    Finding("support", "lost", key, "ledger says sent, helpdesk has no reply")
                )
        elif state == "escalated":
            tally["escalated"] += 1
            if reply and sent_by_marker.get(str(reply["reply_key"]), 0):
                tally["escalated_but_answered"] += 1
                result.findings.append(
                    Finding(
                        "support",
                        "mismatch",
                        key,
                        "escalated in the ledger, yet a reply reached the customer",
                    )
                )
        else:
            tally["lost"] += 1
            result.findings.append(
                Finding("support", "lost", key, f"never answered nor escalated (ledger state {state!r})")
            )
    for ticket, count in world.counts("support_replies_sent").items():
        if count > sent_per_ticket.get(ticket, 0):
            result.findings.append(
                Finding(
                    "support",
                    "duplicated",
                    ticket,
                    f"{count} replies on the ticket, {sent_per_ticket.get(ticket, 0)} in the ledger",
                )
            )
    support_measures = (
        "received",
        "answered_once",
        "escalated",
        "escalated_but_answered",
        "lost",
        "duplicated",
    )
    result.support = {k: tally.get(k, 0) for k in support_measures}
    result.support["sandbox_replies_sent"] = sum(world.counts("support_replies_sent").values())


def _audit_keyed(
    area: str, counts: dict[str, int], ledger_keys: set[str], result: AuditResult
) -> dict[str, int]:
    duplicated = {k: c for k, c in counts.items() if c > 1}
    for key, count in duplicated.items():
        result.findings.append(Finding(area, "duplicated", key, f"created {count} times"))
    unknown = set(counts) - ledger_keys
    for key in sorted(unknown):
        result.findings.append(
            Finding(area, "mismatch", key, "created in the world, not active in the ledger")
        )
    missing = ledger_keys - set(counts)
    for key in sorted(missing):
        result.findings.append(Finding(area, "lost", key, "ledger says created, the world has none"))
    return {
        "created": len(counts),
        "ledger": len(ledger_keys),
        "duplicated": len(duplicated),
        "unknown_to_ledger": len(unknown),
        "missing_in_world": len(missing),
    }


def _audit_money(world: World, ledger: Ledger, result: AuditResult) -> None:
    sandbox_total = sum(
        (_money(o["totalPrice"]) for o in world.orders if not o.get("cancelledAt")), Decimal(0)
    )
    ledger_total = sum(
        (
            _money(o["total_price"])
            for o in ledger.orders
            if o["state"] != "cancelled" and not o["cancelled_at"]
        ),
        Decimal(0),
    )
    analytics_total = sum((_money(d["sales"]) for d in ledger.daily_sales), Decimal(0))
    analytics_orders = sum(int(d["orders"]) for d in ledger.daily_sales)
    result.money = {
        "sandbox_orders_total": str(sandbox_total),
        "ledger_store_orders_total": str(ledger_total),
        "analytics_daily_sales_total": str(analytics_total),
        "analytics_orders": str(analytics_orders),
    }
    if not sandbox_total == ledger_total == analytics_total:
        result.findings.append(
            Finding(
                "money",
                "money",
                "total",
                f"sandbox {sandbox_total} / ledger {ledger_total} / analytics {analytics_total}",
            )
        )


# The events of a store's life the soak must meet, each counted by the sandbox where it happened.
STORE_EVENTS = (
    "risky_orders_placed",
    "invalid_address_orders_placed",
    "customer_cancellations_before_supplier_paid",
    "customer_cancellations_after_supplier_paid",
    "supplier_cancellations",
    "supplier_stockouts",
    "parcels_lost",
    "store_refunds",
    "chargebacks",
)


FOLLOW_UPS = (  # reported beside them
    "parcels_returned",
    "parcels_stalled",
    "tracking_numbers_changed",
    "fulfillment_holds_created",
    "cj_disputes_created",
    "fulfillments_created",
    "customer_cancellations_too_late",
)


def store_events(world: World) -> dict[str, int]:
    """Ground truth: how many orders met each event (`STORE_EVENTS`), and what followed (holds, disputes,
    fulfillments). A customer's cancellation is after the supplier was paid when CJ's payment (wall clock,
    `paid_real_at`) came before it (`cancelled_real_at`): the dispute path; before it, the order is never
    paid for."""
    paid_at = {
        str(o.get("orderNum")): float(o["_sim"]["paid_real_at"])
        for o in world.cj_orders
        if (o.get("_sim") or {}).get("paid_real_at")
    }
    before = after = 0
    for doc in world.orders:
        cancelled = (doc.get("_sim") or {}).get("cancelled_real_at")
        if not cancelled:
            continue
        paid = paid_at.get(f"shopify-{doc['number']}")
        if paid is not None and paid < float(cancelled):
            after += 1
        else:
            before += 1
    counts = {kind: len(world.counts(kind)) for kind in STORE_EVENTS}
    shipped = {str(o.get("orderNum")) for o in world.cj_orders if parcel_left(o)}
    counts["parcels_lost"] = sum(1 for number in world.counts("parcels_lost") if number in shipped)
    counts["customer_cancellations_before_supplier_paid"] = before
    counts["customer_cancellations_after_supplier_paid"] = after
    for kind in FOLLOW_UPS:
        counts[kind] = len(world.counts(kind))
    return counts


def audit(world: World, ledger: Ledger) -> AuditResult:
    result = AuditResult()
    result.events = store_events(world)
    _audit_orders(world, ledger, result)
    _audit_support(world, ledger, result)
    listed = {str(r["pid"]) for r in ledger.listings if r["status"] == "listed"}
    result.listings = _audit_keyed("listings", world.counts("listings_created"), listed, result)
    launched = {
        f"{r['platform']}:{r['pid']}" for r in ledger.campaigns if r["campaign_id"] and r["state"] != "failed"
    }
    result.campaigns = _audit_keyed("campaigns", world.counts("campaigns_created"), launched, result)
    _audit_money(world, ledger, result)
    figures, money_wrong = audit_true_profit(
        world.orders, world.audit, world.cj_orders, ledger.daily_profit, ledger.supplier_costs
    )
    result.money.update(figures)  # fees, refunds, chargebacks, supplier charges: to the cent
    result.findings.extend(Finding("money", "money", key, detail) for key, detail in money_wrong)
    result.cancellations, found = audit_cancellations(
        world.orders,
        world.cj_orders,
        world.audit,
        ledger.orders,
        ledger.supplier_orders,
        ledger.cases,
        Finding,
    )
    result.findings.extend(found)
    result.gate, found = audit_gate(world.audit, Finding)  # 0 risky / invalid orders sent unreleased
    result.findings.extend(found)
    result.side_effect_duplicates = {
        kind: sum(1 for c in counts.values() if c > 1)
        for kind, counts in world.audit.items()
        if kind
        in (
            "orders_placed",
            "supplier_orders_created",
            "fulfillments_created",
            "shipping_confirmations_sent",
            "listings_created",
            "campaigns_created",
            "cj_disputes_created",
        )
    }
    return result
