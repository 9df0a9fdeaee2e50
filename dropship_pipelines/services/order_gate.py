"""The order gate's ledger protocol: each order passes the gate before its supplier order is created and
paid; a failure becomes a Shopify fulfillment hold, made once, which an operator releases or cancels.

Step by step, inside `place_supplier_orders` (services/fulfillment.py calls `OrderGate.check` right before
it claims the supplier order):
1. the cancellation buffer: an order younger than the buffer waits (no write, no remote call);
2. the ledger's hold row: a released order passes (the operator decided); an order held, being held or
   released, or cancelled from its hold stays where it is, with no remote call;
3. the facts: the store's risk assessment and address validation (one Shopify query), the supplier's stock
   and price of each variant (read once per run and variant), the chosen route's price;
4. the rule (`rules.order_gate.gate`); a hold is claimed in `order_holds` under the order id BEFORE
   `fulfillmentOrderHold` is called, with the hold's `handle` derived from the order, so two overlapping
   runs make one hold and a claim a crashed run left is resolved by finding the hold with our handle.

Release (`fulfillmentOrderReleaseHold` of our hold ids only) and cancel (the order actions' `orderCancel`,
claimed there) are the dashboard's actions; each moves the row atomically first, so two clicks act once. A
released order passes the gate on the next fulfillment run and goes to the supplier once, like any other.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.shopify import holds as shopify_holds
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.clock import ShopClock
from dropship_pipelines.rules.fulfillment import OrderLine, ShippingChoice
from dropship_pipelines.rules.order_gate import (
    HOLD_REASONS,
    GateFacts,
    GateLine,
    GatePolicy,
    GateVerdict,
    buffer_ends,
    gate,
)
from dropship_pipelines.store import order_gate_queries as q

log = logging.getLogger("dropship_pipelines.services.order_gate")
Log = logging.Logger | logging.LoggerAdapter[Any]
STALE_CLAIM = timedelta(minutes=3)  # a claim older than this was left by a run that died mid-call
HOLD_ORIGIN = "order-gate"  # the order actions' origin of a cancellation from a hold
STAYS = GateVerdict(passed=False, note="held by the gate, waiting for a decision")


class SupplierStock(Protocol):
    """What the gate asks the supplier at order time (the CJ client has both)."""

    def variant_stock(self, vid: str) -> int: ...
    def variant_price(self, vid: str) -> Decimal | None: ...


class CancelActions(Protocol):
    """The order actions' cancel (services/order_actions.py): claimed there, done once."""

    def cancel(self, order_id: str, *, origin: str, run_id: str) -> Any: ...


def hold_handle(order_id: str) -> str:
    """The hold's handle at Shopify: derived from the order, so every retry and run names the same hold."""
    return f"gate-{order_id.rsplit('/', 1)[-1]}"[:64]


@dataclass(frozen=True)
class HoldOutcome:
    order_id: str
    done: bool
    state: str
    reason: str = ""  # why not done


@dataclass
class GateStats:
    checked: int = 0
    passed: int = 0
    released_passed: int = 0
    waiting: int = 0
    held: list[tuple[str, str, str]] = field(default_factory=list)  # (order, reason, note) held this run
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0  # time spent in the gate (its cost per order: seconds / checked)


@dataclass
class OrderGate:
    """The gate over the ledger, the store (Shopify) and the supplier's stock and prices."""

    engine: Engine
    shopify: ShopifyAdminResource
    supplier: SupplierStock
    policy: GatePolicy
    run_id: str = ""
    # The cancellation buffer is measured on the clock order timestamps are on: the store's (Shopify's
    # Date header; the sandbox world's in the demo), not this machine's. Tests may pass their own.
    clock: Callable[[], datetime] | None = None
    stats: GateStats = field(default_factory=GateStats)
    _variants: dict[str, tuple[int | None, Decimal | None]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.clock is None:
            self.clock = ShopClock(self.shopify)

    # --- the check ---------------------------------------------------------------------------------
    def check(
        self, order: dict[str, Any], lines: list[OrderLine], route: ShippingChoice, run_log: Log = log
    ) -> GateVerdict:
        """Pass, wait (the buffer) or hold this ledger order, about to be placed on `route`."""
        started = time.perf_counter()
        try:
            verdict = self._check(order, lines, route, run_log)
        finally:
            with self._lock:
                self.stats.checked += 1
                self.stats.seconds += time.perf_counter() - started
        return verdict

    def _check(
        self, order: dict[str, Any], lines: list[OrderLine], route: ShippingChoice, run_log: Log
    ) -> GateVerdict:
        placed_at = q.aware(order["placed_at"])
        assert placed_at is not None
        assert self.clock is not None  # set in __post_init__
        now = self.clock()
        if now < buffer_ends(placed_at, self.policy):
            with self._lock:
                self.stats.waiting += 1
            return gate(_waiting_facts(order, placed_at, now), self.policy)
        with self.engine.connect() as conn:
            row = q.get_hold(conn, order["order_id"])
        if row is not None:
            if row["state"] == "released":
                with self._lock:
                    self.stats.released_passed += 1
                return GateVerdict(passed=True, note=f"released by {row['released_by'] or 'an operator'}")
            if row["state"] == "claimed" and self._stale(row):
                return self._resolve_claim(order, row, run_log)
            if order.get("state") != "problem":  # e.g. retried on the orders page: the hold still stands
                with self.engine.begin() as conn:
                    q.mark_order_held(conn, order["order_id"], f"gate: {row['reason']}: {row['note']}")
            return STAYS
        store_order = shopify_holds.gate_order(self.shopify, order["order_id"])
        if store_order is None:
            raise PermanentApiError("shopify", f"order {order['order_id']} not found on the store")
        facts = GateFacts(
            order_name=order["name"],
            placed_at=placed_at,
            now=now,
            customer_paid=Decimal(str(order["total_price"])),
            country=store_order.country_code or order.get("country_code") or "",
            shipping_cost=route.price,
            risk_recommendation=store_order.risk.recommendation if store_order.risk else None,
            risk_levels=store_order.risk_levels,
            risk_facts=store_order.negative_facts,
            address_validation=store_order.address_validation,
            lines=tuple(self._line(line) for line in lines),
        )
        verdict = gate(facts, self.policy)
        if verdict.passed:
            with self._lock:
                self.stats.passed += 1
            return verdict
        self._hold(order, verdict, store_order, run_log)
        return verdict

    def _line(self, line: OrderLine) -> GateLine:
        vid = line.vid or ""
        with self._lock:
            known = self._variants.get(vid)
        if known is None:
            try:
                known = (self.supplier.variant_stock(vid), self.supplier.variant_price(vid))
            except PermanentApiError as error:
                log.warning("variant %s: stock or price unreadable: %s", vid, error)
                known = (None, None)
            with self._lock:
                self._variants[vid] = known
        return GateLine(vid, line.quantity, known[0], known[1])

    # --- the hold, once ---------------------------------------------------------------------------
    def _hold(
        self, order: dict[str, Any], verdict: GateVerdict, store_order: shopify_holds.GateOrder, run_log: Log
    ) -> None:
        assert verdict.reason is not None
        order_id = order["order_id"]
        handle = hold_handle(order_id)
        with self.engine.begin() as conn:
            claimed = q.claim_hold(
                conn,
                {
                    "order_id": order_id,
                    "order_name": order["name"],
                    "reason": verdict.reason,
                    "note": verdict.note,
                    "handle": handle,
                    "run_id": self.run_id,
                },
            )
            q.mark_order_held(conn, order_id, f"gate: {verdict.reason}: {verdict.note}")
        if not claimed:
            return  # another run holds it (or already did)
        self._put_hold(order, verdict.reason, verdict.note, store_order, run_log)

    def _put_hold(
        self,
        order: dict[str, Any],
        reason: str,
        note: str,
        store_order: shopify_holds.GateOrder,
        run_log: Log,
    ) -> None:
        order_id = order["order_id"]
        handle = hold_handle(order_id)
        targets = store_order.holdable
        if not targets:
            with self.engine.begin() as conn:
                q.set_hold(conn, order_id, state="failed", last_error="no open fulfillment order to hold")
            with self._lock:
                self.stats.failed.append((order["name"], "no open fulfillment order to hold"))
            return
        target = targets[0]
        try:
            hold = shopify_holds.hold_fulfillment_order(
                self.shopify,
                target.id,
                reason=reason,
                notes=note,
                handle=handle,  # type: ignore[arg-type]
            )
        except PermanentApiError as error:
            with self.engine.begin() as conn:
                q.set_hold(conn, order_id, state="failed", last_error=str(error)[:2000])
            with self._lock:
                self.stats.failed.append((order["name"], str(error)[:200]))
            run_log.warning("order %s: hold refused by the store: %s", order["name"], error)
            return
        except ApiError as error:
            # It may have landed: the claim stays, and a later run finds the hold by its handle.
            run_log.warning("order %s: hold not confirmed (%s); read back next run", order["name"], error)
            return
        with self.engine.begin() as conn:
            q.set_hold(conn, order_id, state="held", fulfillment_order_id=target.id, hold_id=hold.id)
        with self._lock:
            self.stats.held.append((order["name"], reason, note[:200]))
        run_log.info("order %s (%s): held at the store: %s: %s", order["name"], order_id, reason, note[:200])

    @staticmethod
    def _stale(row: dict[str, Any]) -> bool:
        updated = q.aware(row.get("updated_at") or row.get("created_at"))
        return updated is None or q.now() - updated > STALE_CLAIM

    def _resolve_claim(self, order: dict[str, Any], row: dict[str, Any], run_log: Log) -> GateVerdict:
        """A claim a dead run left: the hold is at the store under our handle (record it) or it is not
        (make it now). Only the run that retakes the claim resolves it."""
        with self.engine.begin() as conn:
            if not q.move_hold(conn, order["order_id"], ("claimed",), "claimed", run_id=self.run_id):
                return STAYS
        store_order = shopify_holds.gate_order(self.shopify, order["order_id"])
        if store_order is None:
            raise PermanentApiError("shopify", f"order {order['order_id']} not found on the store")
        found = store_order.hold_with(row["handle"])
        if found is not None:
            fo, hold = found
            with self.engine.begin() as conn:
                q.set_hold(conn, order["order_id"], state="held", fulfillment_order_id=fo.id, hold_id=hold.id)
            return STAYS
        self._put_hold(order, row["reason"], row["note"], store_order, run_log)
        return STAYS

    # --- the operator's decisions ------------------------------------------------------------------
    def release(self, order_id: str, *, by: str) -> HoldOutcome:
        """Release our hold at the store; the next fulfillment run sends the order to the supplier."""
        with self.engine.begin() as conn:
            row = q.get_hold(conn, order_id)
            if row is None:
                return HoldOutcome(order_id, False, "none", "the order has no hold")
            moved = q.move_hold(conn, order_id, ("held", "failed"), "releasing", released_by=by[:120])
        if not moved:
            stale_release = row["state"] == "releasing" and self._stale(row)
            if not stale_release:
                done = row["state"] == "released"
                return HoldOutcome(
                    order_id, done, row["state"], "" if done else f"the hold is {row['state']}"
                )
        try:
            if row["fulfillment_order_id"] and row["hold_id"]:
                shopify_holds.release_hold(
                    self.shopify, row["fulfillment_order_id"], [row["hold_id"]], external_id=row["handle"]
                )
        except ApiError as error:
            permanent = isinstance(error, PermanentApiError)
            state = self._released_anyway(row) if permanent else None
            if state is None:
                with self.engine.begin() as conn:
                    q.set_hold(conn, order_id, state="held", last_error=str(error)[:2000])
                return HoldOutcome(order_id, False, "held", f"the store refused the release: {error}")
        with self.engine.begin() as conn:
            q.set_hold(conn, order_id, state="released", released_at=q.now(), last_error=None)
        log.info("order %s: hold released by %s", row["order_name"], by)
        return HoldOutcome(order_id, True, "released")

    def _released_anyway(self, row: dict[str, Any]) -> str | None:
        """After a refusal: is our hold gone at the store (released by an earlier, unconfirmed call)?"""
        store_order = shopify_holds.gate_order(self.shopify, row["order_id"])
        if store_order is not None and store_order.hold_with(row["handle"]) is None:
            return "released"
        return None

    def cancel(self, order_id: str, *, by: str, actions: CancelActions) -> HoldOutcome:
        """Cancel (and refund) a held order at the store, through the order actions (claimed there)."""
        with self.engine.connect() as conn:
            row = q.get_hold(conn, order_id)
        if row is None:
            return HoldOutcome(order_id, False, "none", "the order has no hold")
        if row["state"] not in ("held", "failed", "cancelled"):
            return HoldOutcome(order_id, False, row["state"], f"the hold is {row['state']}")
        result = actions.cancel(order_id, origin=f"{HOLD_ORIGIN}:{hold_handle(order_id)}", run_id=self.run_id)
        if not result.done:
            return HoldOutcome(order_id, False, row["state"], result.reason)
        with self.engine.begin() as conn:
            q.move_hold(
                conn, order_id, ("held", "failed"), "cancelled", released_by=by[:120], released_at=q.now()
            )
        log.info("order %s: cancelled from its hold by %s", row["order_name"], by)
        return HoldOutcome(order_id, True, "cancelled")


def _waiting_facts(order: dict[str, Any], placed_at: datetime, now: datetime) -> GateFacts:
    return GateFacts(
        order_name=order["name"],
        placed_at=placed_at,
        now=now,
        customer_paid=Decimal(str(order["total_price"])),
        country=order.get("country_code") or "",
        shipping_cost=Decimal(0),
    )


def is_hold_reason(value: str) -> bool:
    return value in HOLD_REASONS
