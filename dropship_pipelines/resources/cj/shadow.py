"""Shadow mode's CJ answers: the `data` CJ would have answered a recorded write with, and reads of the
orders only shadow mode made (`shadow:cj.order:<ref>`), answered from the write that made them.

A shadow supplier order is never paid and never ships: it stays `CREATED`, with no tracking number, so
nothing fulfills it at the store either (the chain ends with the order, as it would until CJ ships)."""

from typing import Any

from dropship_pipelines.resources.write_gate import Shadowed, minting_write, shadow_ids

SHADOW_ORDER_STATUS = "CREATED"


def write_answer(method: str, path: str, body: Any, shadowed: Shadowed) -> Any:
    body = body if isinstance(body, dict) else {}
    if path == "/shopping/order/createOrderV2":
        return {
            "orderId": shadowed.id("cj.order"),
            "orderNumber": body.get("orderNumber"),
            "orderStatus": SHADOW_ORDER_STATUS,
            "logisticName": body.get("logisticName"),
            "interceptOrderReasons": [],
        }
    if path == "/disputes/create":
        return {"id": shadowed.id("cj.dispute")}
    if path == "/webhook/set":
        return True
    return None  # deletes and confirmations answer no data


def order(shadow_id: str) -> dict[str, Any]:
    """A shadow order as `getOrderDetail` answers it: as its `createOrderV2` described it."""
    made = minting_write(shadow_id)
    body = ((made or {}).get("summary") or {}).get("body") or {}
    return {
        "orderId": shadow_id,
        "orderNumber": body.get("orderNumber"),
        "orderStatus": SHADOW_ORDER_STATUS,
        "logisticName": body.get("logisticName"),
        "interceptOrderReasons": [],
    }


def read_answer(path: str, params: Any, body: Any) -> Any:
    """A read naming a shadow order: CJ has no such order; answered as of one just created."""
    if path == "/shopping/order/getOrderDetail":
        return order(shadow_ids(params)[0])
    if path == "/shopping/order/list":
        return {"pageNum": 1, "pageSize": 200, "total": 0, "list": [order(i) for i in shadow_ids(params)]}
    if path == "/disputes/disputeProducts":
        return {"orderId": shadow_ids(params)[0], "productInfoList": []}
    return {"list": [], "total": 0, "pageNum": 1, "pageSize": 50}  # disputes and other lists: none yet
