"""The order gate's holds: orders the gate held at the store before paying the supplier, each with its
Shopify reason and the human one, and the operator's two decisions.

- Release: the gate's own `OrderGate.release` (services/order_gate.py): the hold row moves to 'releasing'
  in one conditional update before `fulfillmentOrderReleaseHold` is called with our hold's id, so two
  clicks release once; the next fulfillment run sends the order to the supplier, once.
- Cancel: `OrderGate.cancel`, through the order actions' cancel (claimed in `order_actions` under the
  hold's origin), so the order is cancelled and refunded at the store once.
Both are recorded in `dashboard_actions` first, like every dashboard action."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import dagster as dg
from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from dashboard.api import models as m
from dashboard.api.deps import ACTION, StoreDep
from dashboard.api.store import Store, record_action, update_action, utc
from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.services.order_actions import OrderActions
from dropship_pipelines.services.order_gate import OrderGate
from dropship_pipelines.store import order_gate_queries as q

log = logging.getLogger("dashboard")
router = APIRouter(prefix="/holds", tags=["holds"])
Decision = Literal["release", "cancel"]


class HoldRow(BaseModel):
    order_id: str
    order_name: str
    state: str = Field(description="held | claimed (being held) | releasing | failed (the store refused)")
    reason: str = Field(
        description="Shopify FulfillmentHoldReason: HIGH_RISK_OF_FRAUD, INCORRECT_ADDRESS, ..."
    )
    note: str = Field(description="why, in words")
    last_error: str | None
    total_price: str | None
    currency: str | None
    country_code: str | None
    held_at: str
    actions: list[str] = Field(description="release | cancel: what the hold allows now")


class HoldList(BaseModel):
    holds: list[HoldRow]


@router.get("", response_model=HoldList)
def list_holds(store: StoreDep) -> dict[str, Any]:
    """Orders the gate held and nobody has decided on yet, newest first."""
    with store.connect() as conn:
        rows = q.open_holds(conn)
    return {
        "holds": [
            {
                **{k: row[k] for k in ("order_id", "order_name", "state", "reason", "note", "last_error")},
                "total_price": None if row["total_price"] is None else f"{row['total_price']:.2f}",
                "currency": row["currency"],
                "country_code": row["country_code"],
                "held_at": utc(row["created_at"]).isoformat(),
                "actions": ["release", "cancel"] if row["state"] in ("held", "failed") else [],
            }
            for row in rows
        ]
    }


@contextmanager
def order_gate(store: Store) -> Iterator[tuple[OrderGate, OrderActions]]:
    """The gate and the order actions with the code location's own clients (secrets from the
    environment); LookupError when this environment has no store or supplier credentials."""
    resources = build_resources()
    try:
        with dg.build_resources(
            {"shopify": resources["shopify"], "supplier": resources["supplier"]}
        ) as built:
            gate = OrderGate(
                store.engine,
                built.shopify,
                built.supplier,
                resources["order_gate"].policy(),
                run_id="dashboard",
            )
            actions = OrderActions(
                engine=store.engine,
                store=built.shopify,
                supplier=built.supplier,
                policy=resources["support_policy"].policy(),
            )
            yield gate, actions
    except dg.DagsterInvalidConfigError as exc:
        raise LookupError("no store or supplier credentials in the dashboard's environment") from exc


def _decide(store: Store, order_id: str, decision: Decision) -> dict[str, Any]:
    with store.connect() as conn:
        row = q.get_hold(conn, order_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the order has no hold")
    with store.engine.begin() as conn:
        action_id = record_action(
            conn, f"{decision}_hold", order_id, {"reason": row["reason"]}, "recorded", ""
        )
    try:
        with order_gate(store) as (gate, actions):
            if decision == "release":
                outcome = gate.release(order_id, by="dashboard")
            else:
                outcome = gate.cancel(order_id, by="dashboard", actions=actions)
    except LookupError as exc:
        result, message = "recorded", f"recorded only: {exc}"
    else:
        done = {"release": "released at the store: the next fulfillment run sends it to the supplier",
                "cancel": "cancelled at the store (the payment refunded)"}[decision]  # fmt: skip
        result, message = ("done", done) if outcome.done else ("failed", f"not {decision}d: {outcome.reason}")
    with store.engine.begin() as conn:
        update_action(conn, action_id, result, message)
    log.info("hold of %s: %s %s", row["order_name"], decision, result)
    if result == "failed" and row["state"] not in ("held", "failed", "released", "cancelled"):
        raise HTTPException(status.HTTP_409_CONFLICT, message)
    return {"action_id": action_id, "status": result, "message": message}


@router.post(
    "/{order_id:path}/release",
    response_model=m.ActionResult,
    tags=["actions"],
    dependencies=ACTION,
    responses={404: {"description": "the order has no hold"}, 409: {"description": "being held or released"}},
)
def release_hold(order_id: str, store: StoreDep) -> dict[str, Any]:
    """Release the gate's hold on the order: it goes to the supplier on the next fulfillment run."""
    return _decide(store, order_id, "release")


@router.post(
    "/{order_id:path}/cancel",
    response_model=m.ActionResult,
    tags=["actions"],
    dependencies=ACTION,
    responses={404: {"description": "the order has no hold"}, 409: {"description": "being held or released"}},
)
def cancel_held_order(order_id: str, store: StoreDep) -> dict[str, Any]:
    """Cancel the held order at the store (its payment refunded); it never reaches the supplier."""
    return _decide(store, order_id, "cancel")
