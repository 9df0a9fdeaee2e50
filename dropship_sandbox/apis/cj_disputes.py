"""CJ's dispute API (developers.cjdropshipping.com/en/api/api2/api/dispute.html), strict like CJ:
`GET /disputes/disputeProducts`, `POST /disputes/disputeConfirmInfo`, `POST /disputes/create`,
`POST /disputes/cancel`, `GET /disputes/getDisputeList`, `GET /disputes/getDisputeDetail`.

Only a paid order can be disputed (there is nothing to pay back otherwise), one open dispute per line
(`canChoose` false while one is open), a `businessDisputeId` once. Reason 1 ("cancel the order") takes a
paid order that has not shipped: CJ cancels it at once. Every dispute settles after 1-3 days with the
disputed amount paid back to the CJ balance (`refundType` 1). Counted at the source:
`cj_disputes_created` per businessDisputeId, `cj_disputes_per_order` per orderNumber and reason.
"""

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dropship_sandbox.apis.cj import CJ, CjCall, CjError, _json_body
from dropship_sandbox.apis.cj_orders import _cj_date, _schedule, find_order
from dropship_sandbox.apis.cj_wallet import SPENT
from dropship_sandbox.order_aftermath import _schedule as schedule_event
from dropship_sandbox.world import World

router = APIRouter()
REASONS = {
    1: "I want to cancel the order",
    2: "The order was cancelled by the supplier",
    3: "Out of stock",
    4: "Package lost / not received",
    5: "Product damaged",
}
CANCEL_REASON = 1
UNPAID = ("CREATED", "IN_CART", "UNPAID")


def _paid(order: dict[str, Any]) -> bool:
    return bool(order["_sim"].get("paid_real_at") or order.get("paymentDate")) and (
        order["orderStatus"] not in UNPAID or bool(order["_sim"].get("paid_at"))
    )


def _disputes_of(world: World, order_id: str) -> list[dict[str, Any]]:
    link = world.state.get("cj_disputes_of", order_id) or {"ids": []}
    return [d for d in (world.state.get("cj_dispute", i) for i in link["ids"]) if d]


def _open_lines(world: World, order_id: str) -> set[str]:
    return {
        line["lineItemId"]
        for d in _disputes_of(world, order_id)
        if d["status"] == "PROCESSING"
        for line in d["productInfoList"]
    }


def _order_of(world: World, key: str) -> dict[str, Any]:
    if not key:
        raise CjError(16900403, "orderId can not be empty")
    order = find_order(world, key)
    if order is None:
        raise CjError(1603100, "Order not found, please check the CJ order id")
    return order


def _products(world: World, order: dict[str, Any]) -> list[dict[str, Any]]:
    taken = _open_lines(world, order["orderId"])
    paid = _paid(order)
    return [
        {
            "lineItemId": line["lineItemId"],
            "cjProductId": (world.state.get("cj_variant", str(line["vid"])) or {}).get("pid"),
            "cjVariantId": line["vid"],
            "canChoose": paid and line["lineItemId"] not in taken,
            "price": line.get("sellPrice"),
            "quantity": line["quantity"],
            "cjProductName": None,
            "cjImage": None,
            "sku": None,
            "supplierName": "CJ",
        }
        for line in order.get("productList", [])
    ]


def _checked_lines(world: World, order: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The disputed lines as sent, checked against what the order allows; CJ's refusal otherwise."""
    items = body.get("productInfoList")
    if not isinstance(items, list) or not items:
        raise CjError(16900403, "productInfoList can not be empty")
    if not _paid(order):
        raise CjError(1600300, "Param error: the order has not been paid, nothing can be disputed")
    allowed = {p["lineItemId"]: p for p in _products(world, order)}
    lines = []
    for item in items:
        if not isinstance(item, dict):
            raise CjError(1600300, "Param error: productInfoList items must be objects")
        line = allowed.get(str(item.get("lineItemId") or ""))
        if line is None:
            raise CjError(1600300, f"Param error: lineItemId {item.get('lineItemId')} is not in the order")
        if not line["canChoose"]:
            raise CjError(1600300, f"Param error: line {line['lineItemId']} has a dispute in progress")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or not 0 < quantity <= line["quantity"]:
            raise CjError(1600300, "Param error: quantity must be between 1 and the quantity bought")
        try:
            price = Decimal(str(item.get("price")))
        except InvalidOperation as exc:
            raise CjError(1600300, "Param error: price must be a number") from exc
        if price <= 0 or price > Decimal(str(line["price"] or 0)):
            raise CjError(1600300, "Param error: price must be above 0 and at most the price paid")
        lines.append({"lineItemId": line["lineItemId"], "quantity": quantity, "price": f"{price:.2f}"})
    return lines


@router.get("/disputes/disputeProducts")
async def dispute_products(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        order = _order_of(world, request.query_params.get("orderId") or "")
        return {
            "orderId": order["orderId"],
            "orderNumber": order["orderNum"],
            "productInfoList": _products(world, order),
        }

    return await CJ.serve(request, CjCall(), handle)


@router.post("/disputes/disputeConfirmInfo")
async def dispute_confirm(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> dict[str, Any]:
        if body.get("__invalid__"):
            raise CjError(16900205, "invalid JSON")
        order = _order_of(world, str(body.get("orderId") or ""))
        lines = _checked_lines(world, order, body)
        money = sum(Decimal(line["price"]) * line["quantity"] for line in lines)
        return {
            "orderId": order["orderId"],
            "orderNumber": order["orderNum"],
            "maxProductPrice": float(money),
            "maxPostage": float(order.get("postageAmount") or 0),
            "expectResultOptionList": ["1", "2"],
            "disputeReasonList": [{"disputeReasonId": k, "reasonName": v} for k, v in REASONS.items()],
            "productInfoList": lines,
        }

    return await CJ.serve(request, CjCall(), handle)


@router.post("/disputes/create")
async def dispute_create(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> str:
        if body.get("__invalid__"):
            raise CjError(16900205, "invalid JSON")
        for name in (
            "businessDisputeId",
            "orderId",
            "disputeReasonId",
            "expectType",
            "refundType",
            "messageText",
        ):
            if body.get(name) in (None, ""):
                raise CjError(16900403, f"{name} can not be empty")
        business = str(body["businessDisputeId"])
        if len(business) > 100:
            raise CjError(1600300, "Param error: businessDisputeId is longer than 100")
        if world.state.get("cj_dispute_business", business) is not None:
            raise CjError(1600300, "Param error: businessDisputeId already exists")
        reason = body["disputeReasonId"]
        if not isinstance(reason, int) or reason not in REASONS:
            raise CjError(1600300, "Param error: disputeReasonId is not a dispute reason")
        if body["expectType"] not in (1, 2) or body["refundType"] not in (1, 2):
            raise CjError(1600300, "Param error: expectType and refundType are 1 or 2")
        if len(str(body["messageText"])) > 500:
            raise CjError(1600300, "Param error: messageText is longer than 500")
        images = body.get("imageUrl") or []
        if not isinstance(images, list) or any(len(str(u)) > 200 for u in images):
            raise CjError(1600300, "Param error: imageUrl is a list of URLs of at most 200 characters")
        order = _order_of(world, str(body["orderId"]))
        lines = _checked_lines(world, order, body)
        if reason == CANCEL_REASON and order["orderStatus"] != "UNSHIPPED":
            raise CjError(1600300, f"Param error: a {order['orderStatus']} order cannot be cancelled")
        number = world.new_id("cj_dispute", 3_000_000)
        money = sum(Decimal(line["price"]) * line["quantity"] for line in lines)
        dispute = {
            "id": str(number),
            "businessDisputeId": business,
            "orderId": order["orderId"],
            "orderNumber": order["orderNum"],
            "disputeReasonId": reason,
            "disputeReason": REASONS[reason],
            "expectType": body["expectType"],
            "refundType": body["refundType"],
            "messageText": str(body["messageText"]),
            "status": "PROCESSING",
            "money": float(money),
            "refundMoney": None,
            "createDate": _cj_date(world.now()),
            "finishDate": None,
            "productInfoList": lines,
        }
        world.state.put("cj_dispute", dispute["id"], dispute)
        world.state.put("cj_dispute_business", business, {"id": dispute["id"]})
        link = world.state.get("cj_disputes_of", order["orderId"]) or {"ids": []}
        link["ids"].append(dispute["id"])
        world.state.put("cj_disputes_of", order["orderId"], link)
        world.state.audit_increment("cj_disputes_created", business)
        world.state.audit_increment("cj_disputes_per_order", f"{order['orderNum']}:{reason}")
        if reason == CANCEL_REASON:  # CJ cancels a paid, unshipped order at once; the money follows
            order["orderStatus"] = "CANCELLED"
            order["_sim"]["shipped_at"] = None
            order["_sim"]["delivered_at"] = None
            world.state.put("cj_order", order["orderId"], order)
            _schedule(world, order)
            world.state.audit_increment("supplier_orders_cancelled_by_dispute", order["orderNum"])
        rng = world.rng("cj_dispute_settle", business)
        schedule_event(
            world, f"dispute_settle:{dispute['id']}", world.now() + timedelta(days=rng.uniform(1, 3))
        )
        return dispute["id"]

    return await CJ.serve(request, CjCall(is_write=True), handle)


def settle(world: World, dispute_id: str) -> None:
    """CJ agrees: the disputed amount goes back to the balance (refundType 1)."""
    dispute = world.state.get("cj_dispute", dispute_id)
    if dispute is None or dispute["status"] != "PROCESSING":
        return
    dispute["status"] = "FINISHED"
    dispute["refundMoney"] = dispute["money"]
    dispute["finishDate"] = _cj_date(world.now())
    world.state.put("cj_dispute", dispute_id, dispute)
    if dispute["refundType"] == 1:
        spent = float(world.state.meta(SPENT, "0") or 0)
        world.state.set_meta(SPENT, repr(spent - float(dispute["money"])))
    world.state.audit_increment("cj_disputes_refunded", dispute["businessDisputeId"])


@router.post("/disputes/cancel")
async def dispute_cancel(request: Request) -> JSONResponse:
    body = await _json_body(request)

    def handle(world: World) -> bool:
        if body.get("__invalid__"):
            raise CjError(16900205, "invalid JSON")
        order = _order_of(world, str(body.get("orderId") or ""))
        dispute = world.state.get("cj_dispute", str(body.get("disputeId") or ""))
        if dispute is None or dispute["orderId"] != order["orderId"]:
            raise CjError(1600300, "Param error: no such dispute on this order")
        if dispute["status"] != "PROCESSING":
            raise CjError(1600300, f"Param error: a {dispute['status']} dispute cannot be cancelled")
        dispute["status"] = "CANCELLED"
        world.state.put("cj_dispute", dispute["id"], dispute)
        return True

    return await CJ.serve(request, CjCall(is_write=True), handle)


def _public(dispute: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dispute.items() if k != "productInfoList"} | {
        "productInfoList": json.loads(json.dumps(dispute["productInfoList"]))
    }


@router.get("/disputes/getDisputeList")
async def dispute_list(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        params = request.query_params
        try:
            page, size = int(params.get("pageNum", 1)), int(params.get("pageSize", 10))
        except ValueError as exc:
            raise CjError(1600300, "Param error: pageNum/pageSize must be numbers") from exc
        if not (1 <= size <= 100 and page >= 1):
            raise CjError(1600300, "Param error: pageSize must be between 1 and 100")
        if params.get("orderId"):
            order = find_order(world, params["orderId"])
            found = _disputes_of(world, order["orderId"]) if order else []
        else:
            found = world.state.all("cj_dispute")
        if params.get("disputeId"):
            found = [d for d in found if d["id"] == params["disputeId"]]
        if params.get("orderNumber"):
            found = [d for d in found if d["orderNumber"] == params["orderNumber"]]
        window = found[(page - 1) * size : page * size]
        return {"pageNum": page, "pageSize": size, "total": len(found), "list": [_public(d) for d in window]}

    return await CJ.serve(request, CjCall(), handle)


@router.get("/disputes/getDisputeDetail")
async def dispute_detail(request: Request) -> JSONResponse:
    def handle(world: World) -> dict[str, Any]:
        dispute = world.state.get("cj_dispute", request.query_params.get("disputeId") or "")
        if dispute is None:
            raise CjError(1600300, "Param error: no such dispute")
        return _public(dispute)

    return await CJ.serve(request, CjCall(), handle)
