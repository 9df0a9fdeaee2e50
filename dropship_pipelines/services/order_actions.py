"""Actions on a store order, each done once: cancel, refund, change the shipping address, resend tracking.

Whoever asks (the support agent for a ticket today; the store's own cancellation and refund handling
later) names itself as an `origin`; the action's key is `<origin>:<kind>`, unique in `order_actions`. For
each action, step by step:
1. claim: a 'claimed' row under the key, written BEFORE the store or the supplier is called; a second
   caller finds the claim and never calls the remote side itself;
2. preconditions, against the ledger and the remote service (the store's order, the supplier's order);
   a failed one records 'refused' with the reason, and nothing is changed anywhere;
3. the remote effect, carrying the key where the API keeps one (a refund's note);
4. 'done' with what was done (the amount refunded, the store's refund id), and the ledger's copy of the
   order updated (cancelled, new address), so the workflows and the analytics read the new state.
A claim a crashed run left (still 'claimed' after `STALE_CLAIM`) is resolved by reading the remote state:
the effect is there (the order is cancelled, a refund carries our key, the address is the new one) and
the claim becomes 'done'; or it is not, and the action is taken afresh. A claim younger than that belongs
to a run that may still be calling: the caller is told it is in progress.

Cancelling: only before the order reached the supplier, or while the supplier order is unpaid (it is
withdrawn first, `Supplier.delete_unpaid_order`); Shopify's `orderCancel` refunds the payment. Refunding:
within the policy's limit and window (`RefundPolicy`), what is still refundable, with `refundCreate`.
Changing the address: before the supplier order exists, with `orderUpdate`. Resending the tracking
details: once the order has a tracking number, with `fulfillmentTrackingInfoUpdate(notifyCustomer)`.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.clock import read_shop_time
from dropship_pipelines.resources.shopify.models import AddressInput, OrderState
from dropship_pipelines.resources.supplier import UNPAID_STATUSES, OrderAlreadyPaidError, Supplier
from dropship_pipelines.rules.reply_draft import ActionKind
from dropship_pipelines.store import order_action_queries as q

log = logging.getLogger("dropship_pipelines.services.order_actions")
STALE_CLAIM = timedelta(minutes=3)  # a claim older than this was left by a run that died mid-call


class RefundPolicy(Protocol):
    def refund_within_policy(self, total: Decimal, placed_on: date, today: date) -> bool: ...


@dataclass(frozen=True)
class ActionResult:
    kind: ActionKind
    done: bool
    reason: str = ""  # why not done: a precondition, the remote's refusal, or "in progress"
    amount: Decimal | None = None  # refunded
    currency: str | None = None


class _Refused(Exception):
    """A precondition failed: recorded 'refused', nothing changed anywhere."""


@dataclass
class OrderActions:
    """The order actions over the ledger, the store (Shopify) and the supplier."""

    engine: Engine
    store: ShopifyAdminResource
    supplier: Supplier
    policy: RefundPolicy

    # --- one entry point for any caller that names the action ----------------------------------------
    def perform(
        self,
        kind: ActionKind,
        order: dict[str, Any],
        *,
        origin: str,
        run_id: str,
        new_address: AddressInput | None = None,
    ) -> ActionResult:
        """The action `kind` on the ledger order `order` for `origin`."""
        if kind is ActionKind.CANCEL:
            return self.cancel(order["order_id"], origin=origin, run_id=run_id)
        if kind is ActionKind.REFUND:
            return self.refund(order["order_id"], origin=origin, run_id=run_id)
        if kind is ActionKind.ADDRESS_CHANGE:
            if new_address is None:
                return ActionResult(kind, False, "no new address given")
            return self.change_address(order["order_id"], new_address, origin=origin, run_id=run_id)
        if kind is ActionKind.RESEND_TRACKING:
            return self.resend_tracking(order["order_id"], origin=origin, run_id=run_id)
        return ActionResult(kind, False, f"{kind.value} is not an action on an order")

    # --- the actions ----------------------------------------------------------------------------------
    def cancel(self, order_id: str, *, origin: str, run_id: str) -> ActionResult:
        """Cancel (and refund) an order the supplier has not been paid for."""
        return self._once(ActionKind.CANCEL, order_id, origin, run_id, self._cancel, self._cancelled)

    def refund(self, order_id: str, *, origin: str, run_id: str) -> ActionResult:
        """Refund what is left to refund of an order, within the policy's limit and window."""
        return self._once(ActionKind.REFUND, order_id, origin, run_id, self._refund, self._refunded)

    def change_address(
        self, order_id: str, address: AddressInput, *, origin: str, run_id: str
    ) -> ActionResult:
        """Change the shipping address of an order not yet placed at the supplier."""
        detail = {"address": address.model_dump(by_alias=True)}
        return self._once(
            ActionKind.ADDRESS_CHANGE,
            order_id,
            origin,
            run_id,
            lambda key, order, remote: self._change_address(order, remote, address),
            lambda key, order, remote: self._address_is(remote, address),
            detail=detail,
        )

    def resend_tracking(self, order_id: str, *, origin: str, run_id: str) -> ActionResult:
        """Have the store send the shipping email with the tracking details again."""
        return self._once(
            ActionKind.RESEND_TRACKING,
            order_id,
            origin,
            run_id,
            self._resend_tracking,
            # A sent email leaves nothing to read back: a crashed claim sends again (twice at worst).
            lambda key, order, remote: None,
        )

    # --- the protocol, shared by every action ---------------------------------------------------------
    def _once(
        self,
        kind: ActionKind,
        order_id: str,
        origin: str,
        run_id: str,
        act: Any,  # (key, ledger order, remote state) -> values for 'done'
        landed: Any,  # (key, ledger order, remote state) -> values for 'done' when the effect is there
        detail: dict[str, Any] | None = None,
    ) -> ActionResult:
        key = q.action_key(origin, kind.value)
        with self.engine.begin() as conn:
            order = q.store_order(conn, order_id)
            if order is None:
                return ActionResult(kind, False, "the order is not in the ledger")
            claimed = q.claim(
                conn,
                {
                    "action_key": key,
                    "origin": origin,
                    "kind": kind.value,
                    "order_id": order_id,
                    "order_name": order["name"],
                    "run_id": run_id,
                    "detail": detail,
                },
            )
            existing = None if claimed else q.get(conn, key)
        if existing is not None:
            if existing["state"] == "done":
                return self._result(kind, existing)
            if existing["state"] in ("refused", "failed"):
                return ActionResult(kind, False, existing["reason"] or existing["state"])
            if not self._stale(existing):
                return ActionResult(kind, False, "in progress in another run")
            with self.engine.begin() as conn:
                if not q.retake(conn, key, run_id):
                    return self._result(kind, q.get(conn, key) or existing)
        try:
            remote = self.store.order_state(order_id)
            if remote is None:
                raise _Refused("the store has no such order")
            if existing is not None:  # a crashed claim: did its effect land?
                found = landed(key, order, remote)
                if found is not None:
                    return self._finish(kind, key, order_id, "done", found)
            values = act(key, order, remote)
        except _Refused as refused:
            return self._finish(kind, key, order_id, "refused", {"reason": str(refused)[:2000]})
        except PermanentApiError as error:
            return self._finish(kind, key, order_id, "failed", {"reason": str(error)[:2000]})
        except ApiError as error:
            # It may or may not have landed: the claim stays, and the next attempt reads the remote state.
            log.warning("%s: %s not confirmed (%s); read back next time", order_id, kind.value, error)
            return ActionResult(kind, False, f"not confirmed: {error}")
        return self._finish(kind, key, order_id, "done", values)

    @staticmethod
    def _stale(row: dict[str, Any]) -> bool:
        updated = row.get("updated_at") or row.get("created_at")
        if updated is None:
            return True
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=q.now().tzinfo)
        return q.now() - updated > STALE_CLAIM

    def _finish(
        self, kind: ActionKind, key: str, order_id: str, state: str, values: dict[str, Any]
    ) -> ActionResult:
        ledger_change = values.pop("_ledger", None)
        with self.engine.begin() as conn:
            q.finish(conn, key, state, **values)
            if state == "done" and ledger_change is not None:
                ledger_change(conn)
            row = q.get(conn, key)
        log.info("%s: %s %s %s", order_id, kind.value, state, values.get("reason") or "")
        return self._result(kind, row or {"state": state, **values})

    @staticmethod
    def _result(kind: ActionKind, row: dict[str, Any]) -> ActionResult:
        amount = row.get("amount")
        return ActionResult(
            kind,
            row.get("state") == "done",
            row.get("reason") or "",
            Decimal(str(amount)) if amount is not None else None,
            row.get("currency"),
        )

    # --- cancel ---------------------------------------------------------------------------------------
    def _cancelled(self, key: str, order: dict[str, Any], remote: OrderState) -> dict[str, Any] | None:
        if remote.cancelled_at is None:
            return None
        return {"_ledger": self._ledger_cancelled(order["order_id"], remote.cancelled_at)}

    @staticmethod
    def _ledger_cancelled(order_id: str, at: datetime) -> Any:
        def change(conn: Any) -> None:
            q.mark_cancelled(conn, order_id, at)
            q.mark_supplier_order_withdrawn(conn, order_id)

        return change

    def _cancel(self, key: str, order: dict[str, Any], remote: OrderState) -> dict[str, Any]:
        if order["cancelled_at"] is not None or remote.cancelled_at is not None:
            raise _Refused("the order is already cancelled")
        if remote.fulfillments or order["state"] == "shipped":
            raise _Refused("the order has shipped")
        withdrawn = self._withdraw_at_supplier(order["order_id"])
        self.store.cancel_order(order["order_id"], refund=True, note=key)
        after = self.store.order_state(order["order_id"])
        cancelled_at = after.cancelled_at if after and after.cancelled_at else q.now()
        return {
            "detail": {"supplier_order_withdrawn": withdrawn, "refunded": str(remote.refundable)},
            "_ledger": self._ledger_cancelled(order["order_id"], cancelled_at),
        }

    def _withdraw_at_supplier(self, order_id: str) -> str | None:
        """The unpaid supplier order withdrawn (its id), None when there is none; refused when it is paid
        or its placing is still in flight."""
        with self.engine.connect() as conn:
            placed = q.supplier_order(conn, order_id)
        if placed is None or (placed["state"] == "failed" and not placed["supplier_order_id"]):
            return None
        if not placed["supplier_order_id"]:
            raise _Refused("the order is being placed at the supplier")
        found = self.supplier.find_order(placed["supplier_order_id"])
        if found is None:
            return None
        if (found.status or "").upper() not in UNPAID_STATUSES:
            raise _Refused(f"the supplier order is {found.status}: it has been paid")
        try:
            self.supplier.delete_unpaid_order(found.supplier_order_id)
        except OrderAlreadyPaidError as error:
            raise _Refused(f"the supplier order has been paid: {error}") from error
        return found.supplier_order_id

    # --- refund ---------------------------------------------------------------------------------------
    @staticmethod
    def _refunded(key: str, order: dict[str, Any], remote: OrderState) -> dict[str, Any] | None:
        refund = remote.refund_noted(key)
        if refund is None:
            return None
        return {"amount": refund.amount, "currency": refund.currency, "remote_id": refund.id}

    def _refund(self, key: str, order: dict[str, Any], remote: OrderState) -> dict[str, Any]:
        if order["cancelled_at"] is not None or remote.cancelled_at is not None:
            raise _Refused("the order is cancelled")
        amount = remote.refundable
        if amount <= 0:
            raise _Refused("nothing is left to refund")
        placed_on = order["placed_at"].date()
        # The window is counted on the store's clock, as the order's date is (not this machine's: the
        # same rule as the supplier-failure refunds, services/order_cancellations.py).
        if not self.policy.refund_within_policy(amount, placed_on, read_shop_time(self.store).date()):
            raise _Refused("outside the policy's refund limit or window")
        refund = self.store.create_refund(remote, amount, note=key)
        return {"amount": refund.amount, "currency": refund.currency, "remote_id": refund.id}

    # --- tracking -------------------------------------------------------------------------------------
    def _resend_tracking(self, key: str, order: dict[str, Any], remote: OrderState) -> dict[str, Any]:
        if remote.cancelled_at is not None:
            raise _Refused("the order is cancelled")
        tracked = next((f for f in remote.fulfillments if any(t.number for t in f.tracking)), None)
        if tracked is None:
            raise _Refused("the order has no tracking number yet")
        sent = self.store.resend_tracking(tracked)
        return {"remote_id": sent.id}

    # --- address --------------------------------------------------------------------------------------
    @staticmethod
    def _address_is(remote: OrderState, address: AddressInput) -> dict[str, Any] | None:
        return {} if address.matches(remote.shipping_address) else None

    def _change_address(
        self, order: dict[str, Any], remote: OrderState, address: AddressInput
    ) -> dict[str, Any]:
        if order["cancelled_at"] is not None or remote.cancelled_at is not None:
            raise _Refused("the order is cancelled")
        with self.engine.connect() as conn:
            placed = q.supplier_order(conn, order["order_id"])
        if placed is not None and placed["state"] != "failed":
            raise _Refused("the order has been handed to the supplier")
        if remote.fulfillments:
            raise _Refused("the order has shipped")
        stored = self.store.update_shipping_address(order["order_id"], address)
        shape = stored.model_dump(by_alias=True)

        def change(conn: Any) -> None:
            q.set_shipping_address(conn, order["order_id"], shape)

        return {"_ledger": change}
