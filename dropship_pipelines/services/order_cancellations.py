"""Cancellations and refunds, both ways, each step once.

When the store cancels or refunds (Shopify `orders/cancelled`, `refunds/create`, `disputes/create`
webhooks, and the orders poll that refreshes the ledger's copy):
1. `read_store_changes`: the webhook events since the cursor are applied to the ledger at once (the
   cancellation is known before the next poll), and every order the store changed after checkout has its
   refunds and chargebacks read into `order_refunds` (shop and presentment currency, the dispute fee);
2. `handle_store_cancellations`: each cancelled order gets a store case, and the rules
   (`rules/order_cancellations.py`) decide by where its supplier order is: never sent, the unpaid supplier
   order deleted, the paid and unshipped one cancelled through the supplier's dispute path, a shipped one
   recorded and left alone.

When the supplier fails (`watch_supplier` finds a supplier cancellation or an out-of-stock hold; the
tracking workflow calls `supplier_failed` for a lost or damaged parcel): the customer is refunded per the
policy (`OrderActions.refund`, Shopify `refundCreate` with `notify`, which emails the customer), the
supplier gets a dispute with the ledger's evidence when it was paid, and the case is escalated when the
policy says a human decides.

Every remote step is claimed in `order_case_steps` (or, for the customer's refund, `order_actions`) before
it is made; a claim a crashed run left is resolved by reading the remote side first (is the supplier
order gone? is there a dispute with our key?), so two overlapping runs never make a step twice.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.clock import read_shop_time
from dropship_pipelines.resources.shopify.order_money import OrderMoney, order_money, payment_dispute
from dropship_pipelines.resources.supplier import OrderAlreadyPaidError, Supplier
from dropship_pipelines.resources.supplier_disputes import (
    DisputeRefusedError,
    DisputeRequest,
    SupplierDisputes,
    disputes_for,
)
from dropship_pipelines.rules.order_cancellations import (
    DISPUTE_REASON,
    STORE_CANCEL_DISPUTE_REASON,
    FailurePolicy,
    FailureReason,
    StoreCancelDecision,
    SupplierSide,
    covering_failure,
    dispute_message,
    failure_reason,
    hold_failure,
    store_cancel_decision,
)
from dropship_pipelines.services.order_actions import OrderActions
from dropship_pipelines.store import fulfillment_queries as fq
from dropship_pipelines.store import order_action_queries as aq
from dropship_pipelines.store import refund_queries as q
from dropship_pipelines.store.support_tables import support_replies

log = logging.getLogger("dropship_pipelines.services.order_cancellations")
Log = logging.Logger | logging.LoggerAdapter[Any]
STALE_STEP = timedelta(minutes=3)  # a step claimed longer ago than this was left by a run that died
WEBHOOK_CURSOR = "order_cancellations_webhook_seq"
TOPICS = ("orders/cancelled", "refunds/create", "disputes/create")


@dataclass(frozen=True)
class CancellationSettings:
    dispute_fee: Decimal = Decimal("15.00")  # what the store's payment provider charges per chargeback
    max_orders: int = 500  # orders read or handled per run and step
    watch_batch: int = 100  # supplier orders per status poll


@dataclass
class StoreChangesRun:
    webhook_events: int = 0
    orders_read: int = 0
    refunds_new: int = 0
    read_errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CasesRun:
    opened: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    supplier_refunds: int = 0  # settled supplier disputes recorded this run

    def count(self, outcome: str, row: dict[str, Any]) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if len(self.rows) < 50:
            self.rows.append(row)


@dataclass(frozen=True)
class FailureResult:
    case_key: str
    state: str  # open | done | escalated
    refunded: Decimal | None = None
    dispute_id: str | None = None
    reason: str = ""


class _InProgress(Exception):
    """Another live run holds the step's claim: the next run looks again."""


def _gid(kind: str, number: Any) -> str:
    text = str(number)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class OrderCancellations:
    engine: Engine
    store: ShopifyAdminResource
    supplier: Supplier
    policy: FailurePolicy = field(default_factory=FailurePolicy)
    settings: CancellationSettings = field(default_factory=CancellationSettings)
    disputes: SupplierDisputes | None = None

    def __post_init__(self) -> None:
        if self.disputes is None:
            self.disputes = disputes_for(self.supplier)

    @property
    def _disputes(self) -> SupplierDisputes:
        assert self.disputes is not None
        return self.disputes

    # --- the store's side: what changed -------------------------------------------------------------
    def read_store_changes(self, run_id: str, logger: Log = log) -> StoreChangesRun:
        """Webhook events applied to the ledger, then each changed order's refunds and disputes read."""
        run = StoreChangesRun()
        touched = self._apply_webhooks(run)
        with self.engine.connect() as conn:
            orders = list(dict.fromkeys(touched + q.orders_to_sync(conn, self.settings.max_orders)))
        for order_id in orders[: self.settings.max_orders]:
            try:
                money = order_money(self.store, order_id)
            except ApiError as error:
                run.read_errors.append((order_id, str(error)[:200]))
                logger.warning("order %s: refunds not read, next run retries: %s", order_id, error)
                continue
            if money is None:
                continue
            try:
                rows = self._money_rows(money)
            except ApiError as error:
                run.read_errors.append((order_id, str(error)[:200]))
                continue
            with self.engine.begin() as conn:
                run.refunds_new += q.save_refunds(conn, rows)
                if money.cancelled_at is not None:
                    q.note_store_change(conn, order_id, money.updated_at, money.cancelled_at)
                ledger = aq.store_order(conn, order_id)
                if ledger is not None:
                    q.mark_synced(conn, order_id, max(money.updated_at, fq.aware(ledger["store_updated_at"])))
            run.orders_read += 1
        return run

    def _apply_webhooks(self, run: StoreChangesRun) -> list[str]:
        """The store changes webhooks told of since the cursor: the orders to read now."""
        touched: list[str] = []
        with self.engine.begin() as conn:
            seq = int(fq.get_cursor(conn, WEBHOOK_CURSOR) or 0)
            events = q.webhook_events(conn, seq, TOPICS, self.settings.max_orders)
            for event in events:
                payload = event["payload"] if isinstance(event["payload"], dict) else {}
                order_id = self._event_order(event["topic"], payload, event["resource_id"])
                if order_id is None:
                    continue
                touched.append(order_id)
                if event["topic"] == "orders/cancelled":
                    cancelled = _parse_time(payload.get("cancelled_at")) or event["received_at"]
                    updated = _parse_time(payload.get("updated_at")) or cancelled
                    q.note_store_change(conn, order_id, fq.aware(updated), fq.aware(cancelled))
            if events:
                fq.set_cursor(conn, WEBHOOK_CURSOR, str(events[-1]["seq"]))
        run.webhook_events = len(events)
        return list(dict.fromkeys(touched))

    @staticmethod
    def _event_order(topic: str, payload: dict[str, Any], resource_id: str | None) -> str | None:
        if topic == "orders/cancelled":
            return resource_id or (_gid("Order", payload["id"]) if payload.get("id") else None)
        number = payload.get("order_id")  # refunds/create and disputes/create name their order
        return _gid("Order", number) if number else None

    def _money_rows(self, money: OrderMoney) -> list[dict[str, Any]]:
        rows = [
            {
                "refund_key": f"refund:{r.id}",
                "order_id": money.id,
                "kind": "refund",
                "remote_id": r.id,
                "status": None,
                "amount": r.money.amount,
                "currency": r.money.currency,
                "presentment_amount": r.money.presentment_amount,
                "presentment_currency": r.money.presentment_currency,
                "fee": None,
                "reason": (r.note or "")[:200] or None,
                "occurred_at": r.created_at,
            }
            for r in money.refunds
        ]
        for summary in money.disputes:
            dispute = payment_dispute(self.store, summary.id)
            if dispute is None:
                continue
            chargeback = dispute.type == "CHARGEBACK"
            # The presentment share of a dispute follows the order's own rate (Shopify disputes the charge).
            rate = (money.total.presentment_amount or money.total.amount) / (money.total.amount or Decimal(1))
            rows.append(
                {
                    "refund_key": f"chargeback:{dispute.id}",
                    "order_id": money.id,
                    "kind": "chargeback" if chargeback else "inquiry",
                    "remote_id": dispute.id,
                    "status": dispute.status,
                    "amount": dispute.amount,
                    "currency": dispute.currency,
                    "presentment_amount": (dispute.amount * rate).quantize(Decimal("0.01")),
                    "presentment_currency": money.total.presentment_currency,
                    "fee": self.settings.dispute_fee if chargeback else None,
                    "reason": dispute.reason,
                    "occurred_at": dispute.initiated_at,
                }
            )
        return rows

    # --- the store's side: what to do at the supplier -------------------------------------------------
    def handle_store_cancellations(self, run_id: str, logger: Log = log) -> CasesRun:
        run = CasesRun()
        with self.engine.begin() as conn:
            for order in q.cancelled_without_case(conn, self.settings.max_orders):
                run.opened += q.open_case(
                    conn,
                    {
                        "case_key": f"store:{order['order_id']}",
                        "order_id": order["order_id"],
                        "order_name": order["name"],
                        "side": "store",
                        "reason": "cancelled",
                    },
                )
            cases = q.open_cases(conn, "store", self.settings.max_orders)
        for case in cases:
            try:
                outcome = self._store_case(case, run_id, logger)
            except _InProgress:
                outcome = "in_progress"
            except ApiError as error:
                run.errors.append((case["order_name"] or case["order_id"], str(error)[:200]))
                logger.warning("order %s: cancellation not finished, next run: %s", case["order_id"], error)
                continue
            run.count(
                outcome, {"order": case["order_name"], "order_id": case["order_id"], "outcome": outcome}
            )
        return run

    def _side(self, order_id: str) -> tuple[SupplierSide, dict[str, Any] | None]:
        with self.engine.connect() as conn:
            placed = aq.supplier_order(conn, order_id)
        if placed is None:
            return SupplierSide(False, None, None, None), None
        status = placed["supplier_status"]
        if placed["supplier_order_id"] and placed["state"] != "failed":
            found = self.supplier.find_order(placed["supplier_order_id"])  # the live status, not the ledger's
            status = found.status if found is not None else "CANCELLED"  # gone: withdrawn already
        return SupplierSide(True, placed["supplier_order_id"], placed["state"], status), placed

    def _store_case(self, case: dict[str, Any], run_id: str, logger: Log) -> str:
        key, order_id = case["case_key"], case["order_id"]
        side, placed = self._side(order_id)
        decision = store_cancel_decision(side)
        if decision is StoreCancelDecision.WAIT:
            return decision.value
        detail: dict[str, Any] = {"supplier_status": side.status}
        if decision is StoreCancelDecision.WITHDRAW:
            assert side.supplier_order_id is not None
            try:
                self._step(
                    key,
                    "withdraw",
                    run_id,
                    act=lambda: self._withdraw(side.supplier_order_id or ""),
                    landed=lambda: (
                        {} if self.supplier.find_order(side.supplier_order_id or "") is None else None
                    ),
                )
            except OrderAlreadyPaidError:
                # Paid between our look and the delete: the paid order's path, in this same run.
                decision = StoreCancelDecision.SUPPLIER_CANCEL
                side = SupplierSide(True, side.supplier_order_id, side.ledger_state, "UNSHIPPED")
        if decision is StoreCancelDecision.SUPPLIER_CANCEL:
            assert side.supplier_order_id is not None
            dispute = self._dispute_step(
                key,
                run_id,
                DisputeRequest(
                    key=self._dispute_key(key),
                    supplier_order_id=side.supplier_order_id,
                    reason=STORE_CANCEL_DISPUTE_REASON,
                    message=dispute_message(
                        case["order_name"] or order_id,
                        "cancelled by the customer before shipping, please cancel and refund to the balance",
                        self._evidence(order_id, placed),
                    ),
                ),
            )
            if dispute is None:  # the supplier will not cancel it (it shipped meanwhile): leave it alone
                decision = StoreCancelDecision.LEAVE_SHIPPED
            else:
                detail["supplier_dispute"] = dispute
        with self.engine.begin() as conn:
            order = aq.store_order(conn, order_id)
            cancelled_at = (order or {}).get("cancelled_at") or q.now()
            if decision is not StoreCancelDecision.LEAVE_SHIPPED:
                aq.mark_cancelled(conn, order_id, cancelled_at)
            if decision in (StoreCancelDecision.WITHDRAW, StoreCancelDecision.SUPPLIER_CANCEL):
                aq.mark_supplier_order_withdrawn(conn, order_id)
            q.update_case(conn, key, decision=decision.value, state="done", detail=detail)
        logger.info("order %s (%s): store cancellation: %s", case["order_name"], order_id, decision.value)
        return decision.value

    def _withdraw(self, supplier_order_id: str) -> dict[str, Any]:
        deleted = self.supplier.delete_unpaid_order(supplier_order_id)
        return {"remote_id": supplier_order_id, "detail": {"deleted_now": deleted}}

    @staticmethod
    def _dispute_key(case_key: str) -> str:
        # Unique at the supplier (100 characters at CJ): the case names the order and the reason.
        return case_key.replace("gid://shopify/Order/", "")[:100]

    def _evidence(
        self, order_id: str, placed: dict[str, Any] | None, extra: list[str] | None = None
    ) -> list[str]:
        with self.engine.connect() as conn:
            order = aq.store_order(conn, order_id) or {}
        lines = [f"Placed {order.get('placed_at')} for {order.get('total_price')} {order.get('currency')}."]
        if placed:
            lines.append(
                f"Supplier order {placed.get('supplier_order_id')} ({placed.get('order_number')}), status "
                f"{placed.get('supplier_status')}, paid {placed.get('total_amount')}."
            )
            if placed.get("track_number"):
                lines.append(f"Tracking {placed['track_number']} ({placed.get('carrier')}).")
        if order.get("cancelled_at"):
            lines.append(f"Cancelled at the store {order['cancelled_at']}.")
        return lines + list(extra or [])

    # --- claimed steps ------------------------------------------------------------------------------
    def _step(
        self,
        case_key: str,
        step: str,
        run_id: str,
        *,
        act: Callable[[], dict[str, Any]],
        landed: Callable[[], dict[str, Any] | None],
    ) -> dict[str, Any]:
        """One remote step, claimed before it is made; what was done (`remote_id`, `detail`)."""
        with self.engine.begin() as conn:
            claimed = q.claim_step(conn, case_key, step, run_id)
            existing = None if claimed else q.get_step(conn, case_key, step)
        if existing is not None:
            if existing["state"] == "done":
                return {"remote_id": existing["remote_id"], "detail": existing["detail"]}
            if existing["state"] in ("refused", "failed"):
                raise PermanentApiError("ledger", f"{step} {existing['state']}: {existing['reason']}")
            with self.engine.begin() as conn:
                if not q.retake_step(conn, case_key, step, run_id, q.now() - STALE_STEP):
                    raise _InProgress(step)
            found = landed()  # a crashed claim: did its effect land?
            if found is not None:
                self._finish_step(case_key, step, "done", found)
                return found
        try:
            values = act()
        except OrderAlreadyPaidError as error:
            self._finish_step(case_key, step, "refused", {"reason": str(error)[:2000]})
            raise
        except PermanentApiError as error:
            self._finish_step(case_key, step, "failed", {"reason": str(error)[:2000]})
            raise
        self._finish_step(case_key, step, "done", values)
        return values

    def _finish_step(self, case_key: str, step: str, state: str, values: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            q.finish_step(conn, case_key, step, state, **values)

    def _dispute_step(self, case_key: str, run_id: str, request: DisputeRequest) -> str | None:
        """The supplier dispute of a case, opened once; its id, None when the supplier refuses it."""

        def act() -> dict[str, Any]:
            found = self._disputes.find_dispute(request.supplier_order_id, request.key)
            opened = found or self._disputes.open_dispute(request)
            return {
                "remote_id": opened.dispute_id,
                "detail": {
                    "message": request.message,
                    "reason": request.reason,
                    "amount": str(opened.amount),
                },
            }

        def landed() -> dict[str, Any] | None:
            found = self._disputes.find_dispute(request.supplier_order_id, request.key)
            return {"remote_id": found.dispute_id} if found else None

        try:
            return str(self._step(case_key, "dispute", run_id, act=act, landed=landed)["remote_id"])
        except DisputeRefusedError:
            return None
        except PermanentApiError as error:
            if "dispute failed" in str(error) or "DisputeRefused" in type(error).__name__:
                return None
            raise

    # --- the supplier's side ------------------------------------------------------------------------
    def watch_supplier(self, run_id: str, logger: Log = log) -> CasesRun:
        """Supplier cancellations and out-of-stock holds of accepted orders, and balance refusals, each
        handled as a supplier failure once."""
        run = CasesRun()
        with self.engine.connect() as conn:
            watched = q.supplier_orders_to_watch(conn, self.settings.max_orders)
            short = q.balance_failures(conn, self.settings.max_orders)
        by_id = {w["supplier_order_id"]: w for w in watched}
        ids = list(by_id)
        for start in range(0, len(ids), self.settings.watch_batch):
            try:
                found = self.supplier.orders(ids[start : start + self.settings.watch_batch])
            except ApiError as error:
                run.errors.append(("supplier poll", str(error)[:200]))
                continue
            for order in found:
                row = by_id.get(order.supplier_order_id)
                if row is None or row["cancelled_at"] is not None:
                    continue  # a store-cancelled order is the store case's
                reason = None
                if (order.status or "").upper() == "CANCELLED":
                    reason = FailureReason.SUPPLIER_CANCELLED
                elif order.hold_reasons:
                    reason = hold_failure(order.hold_reasons)
                if reason is None:
                    continue
                with self.engine.connect() as conn:
                    known = q.supplier_case_reasons(conn, row["order_id"])
                if covering_failure(reason, known) is not None:
                    continue  # handled (or being handled: the open cases are taken up below)
                with self.engine.begin() as conn:
                    q.set_supplier_status(conn, row["order_id"], order.status or "CANCELLED")
                result = self.supplier_failed(
                    row["order_id"], reason, run_id=run_id, evidence=list(order.hold_reasons), logger=logger
                )
                run.count(result.state, {"order": row["name"], "reason": reason.value, "state": result.state})
        for row in short:
            result = self.supplier_failed(row["order_id"], FailureReason.INSUFFICIENT_BALANCE, run_id=run_id)
            run.count(
                result.state, {"order": row["name"], "reason": "insufficient_balance", "state": result.state}
            )
        run.supplier_refunds = self.read_supplier_refunds(logger)
        # Cases a crash left open (a refund or a dispute not confirmed) are taken up again.
        with self.engine.connect() as conn:
            left = q.open_cases(conn, "supplier", self.settings.max_orders)
        for case in left:
            result = self.supplier_failed(case["order_id"], FailureReason(case["reason"]), run_id=run_id)
            run.count(
                result.state, {"order": case["order_name"], "reason": case["reason"], "state": result.state}
            )
        return run

    def read_supplier_refunds(self, logger: Log = log) -> int:
        """What the supplier paid back on our disputes, recorded once per dispute (`supplier_refund`, USD
        as the supplier pays); how many were new."""
        with self.engine.connect() as conn:
            waiting = q.disputes_awaiting_refund(conn, self.settings.max_orders)
        by_order: dict[str, list[dict[str, Any]]] = {}
        for row in waiting:
            by_order.setdefault(row["supplier_order_id"], []).append(row)
        new = 0
        for supplier_order_id, rows in by_order.items():
            try:
                found = {d.dispute_id: d for d in self._disputes.disputes(supplier_order_id)}
            except ApiError as error:
                logger.warning("supplier order %s: disputes not read: %s", supplier_order_id, error)
                continue
            for row in rows:
                dispute = found.get(row["remote_id"])
                if dispute is None or not dispute.refunded:
                    continue  # not settled yet
                with self.engine.begin() as conn:
                    new += q.save_refunds(
                        conn,
                        [
                            {
                                "refund_key": f"supplier:{dispute.dispute_id}",
                                "order_id": row["order_id"],
                                "kind": "supplier_refund",
                                "remote_id": dispute.dispute_id,
                                "status": dispute.status,
                                "amount": dispute.refunded,
                                "currency": "USD",  # the supplier's balance is in USD
                                "presentment_amount": None,
                                "presentment_currency": None,
                                "fee": None,
                                "reason": row["case_key"][:200],
                                "occurred_at": q.now(),
                            }
                        ],
                    )
        return new

    def supplier_failed(
        self,
        order_id: str,
        reason: FailureReason | str,
        *,
        run_id: str,
        evidence: list[str] | None = None,
        logger: Log = log,
    ) -> FailureResult:
        """One supplier failure of a store order: the customer refunded per the policy (and notified), the
        supplier disputed when it was paid, escalated when a human decides. Idempotent per (order, reason)."""
        reason = reason if isinstance(reason, FailureReason) else failure_reason(reason)
        key = f"supplier:{order_id}:{reason.value}"
        with self.engine.begin() as conn:
            q.lock_order_failures(conn, order_id)  # first: runs claiming this order's failure go one by one
            order = aq.store_order(conn, order_id)
            if order is None:
                raise ValueError(f"order {order_id} is not in the ledger")
            placed = aq.supplier_order(conn, order_id)
            covered = covering_failure(reason, q.supplier_case_reasons(conn, order_id))
            if covered is not None and covered != reason:  # the same failure told another way: its case
                reason = failure_reason(covered)
                key = f"supplier:{order_id}:{reason.value}"
            q.open_case(
                conn,
                {
                    "case_key": key,
                    "order_id": order_id,
                    "order_name": order["name"],
                    "side": "supplier",
                    "reason": reason.value,
                    "detail": {"evidence": list(evidence or [])},
                },
            )
            case = q.get_case(conn, key)
        assert case is not None
        if case["state"] != "open":
            detail = case["detail"] or {}
            return FailureResult(key, case["state"], _money(detail.get("refunded")), detail.get("dispute"))
        paid = bool(placed and placed["supplier_order_id"] and placed["total_amount"] is not None)
        if reason is FailureReason.INSUFFICIENT_BALANCE:
            paid = False
        try:
            # The refund window is counted on the store's clock, as the order's date is.
            today = read_shop_time(self.store).date()
        except ApiError as error:
            return FailureResult(key, "open", reason=f"store clock unreadable: {error}"[:200])
        plan = self.policy.plan(
            reason,
            total=Decimal(str(order["total_price"])),
            placed_on=fq.aware(order["placed_at"]).date(),
            today=today,
            supplier_paid=paid,
            already_refunded=order["cancelled_at"] is not None or order["financial_status"] == "REFUNDED",
        )
        detail: dict[str, Any] = {"evidence": list(evidence or []), "plan": plan.why}
        escalation = plan.why if plan.escalate else None
        try:
            if plan.refund_customer:
                actions = OrderActions(self.engine, self.store, self.supplier, self.policy)
                refunded = actions.refund(
                    order_id, origin=f"supplier-failure:{order_id}:{reason.value}", run_id=run_id
                )
                if refunded.done:
                    detail["refunded"] = str(refunded.amount)
                elif refunded.reason.startswith(("in progress", "not confirmed")):
                    return FailureResult(key, "open", reason=refunded.reason)
                else:
                    escalation = f"refund not made: {refunded.reason}"
            if plan.dispute and placed is not None:
                dispute = self._dispute_step(
                    key,
                    run_id,
                    DisputeRequest(
                        key=self._dispute_key(key),
                        supplier_order_id=placed["supplier_order_id"],
                        reason=DISPUTE_REASON[reason],
                        message=dispute_message(
                            order["name"], reason.value, self._evidence(order_id, placed, evidence)
                        ),
                    ),
                )
                if dispute is None:
                    escalation = (
                        escalation + "; " if escalation else ""
                    ) + "the supplier refused the dispute"
                else:
                    detail["dispute"] = dispute
        except _InProgress:
            return FailureResult(key, "open", reason="in progress in another run")
        except ApiError as error:
            logger.warning("order %s: supplier failure %s not finished: %s", order_id, reason.value, error)
            return FailureResult(key, "open", _money(detail.get("refunded")), reason=str(error)[:200])
        state = "escalated" if escalation else "done"
        decision = ("refund" if "refunded" in detail else "no_refund") + (
            "+dispute" if "dispute" in detail else ""
        )
        with self.engine.begin() as conn:
            q.update_case(conn, key, state=state, decision=decision, escalation=escalation, detail=detail)
            if escalation:
                escalate_to_support(conn, key, order["name"], reason.value, escalation)
        logger.info("order %s (%s): supplier failure %s: %s", order["name"], order_id, reason.value, state)
        return FailureResult(
            key, state, _money(detail.get("refunded")), detail.get("dispute"), escalation or ""
        )


SUPPORT_INTENT = "supplier_failure"  # the escalation's intent on the Customer service page


def escalate_to_support(conn: Connection, case_key: str, order_name: str, reason: str, why: str) -> bool:
    """Put an escalated supplier failure in the customer-service inbox (the dashboard's escalations), once.

    The row is keyed by the case (`case:<case key>` as reply and message key, unique), so a second run, a
    retry or a crashed run's resume finds it there and adds nothing. It answers no helpdesk message: its
    ticket is the order (`order:<name>`), for the human who writes to the customer about the refund."""
    now = fq.now()
    row = {
        "reply_key": f"case:{case_key}"[:200],
        "ticket_id": f"order:{order_name}"[:64],
        "message_id": f"case:{case_key}"[:64],
        "state": "escalated",
        "order_name": order_name[:32],
        "intent": SUPPORT_INTENT,
        "reason": f"supplier failure ({reason}): {why}"[:2000],
        "received_at": now,
        "answered_at": now,
        "run_id": None,
    }
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(support_replies).values(**row).on_conflict_do_nothing()
    return conn.execute(statement).rowcount == 1


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "None") else None


def supplier_failed(
    order: dict[str, Any] | str,
    reason: FailureReason | str,
    *,
    engine: Engine,
    shopify: ShopifyAdminResource,
    supplier: Supplier,
    run_id: str,
    evidence: list[str] | None = None,
    policy: FailurePolicy | None = None,
) -> FailureResult:
    """For the other workflows (the tracking workflow's lost or damaged parcel): one supplier failure of a
    ledger order (its row, or the store order's GID), handled once (refund, notice, dispute, escalation)."""
    order_id = order if isinstance(order, str) else order.get("order_id") or order.get("id")
    if not order_id:
        raise ValueError("supplier_failed needs a ledger order (its `order_id`) or the order's GID")
    handler = OrderCancellations(engine, shopify, supplier, policy or FailurePolicy())
    return handler.supplier_failed(str(order_id), reason, run_id=run_id, evidence=evidence)
