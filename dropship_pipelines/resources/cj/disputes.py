"""CJ's dispute API (developers.cjdropshipping.com/en/api/api2/api/dispute.html): the products of an
order that can be disputed, the confirmation of what is disputed, creating, listing and cancelling.

Opening a dispute: `GET /disputes/disputeProducts?orderId=` (the lines and what each may claim), `POST
/disputes/disputeConfirmInfo` (CJ checks the lines and amounts), `POST /disputes/create` with our unique
`businessDisputeId`; `GET /disputes/getDisputeList?orderId=` finds a dispute by that id after a lost
answer. We always ask for a refund (`expectType` 1) to the CJ balance (`refundType` 1): the balance pays
the next orders."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError, field_validator

from dropship_pipelines.resources.cj.client import API, CJDropshippingResource
from dropship_pipelines.resources.cj.models import CjModel, _optional_decimal
from dropship_pipelines.resources.errors import PayloadError, PermanentApiError
from dropship_pipelines.resources.supplier_disputes import (
    DisputeRefusedError,
    DisputeRequest,
    SupplierDispute,
)

EXPECT_REFUND = 1
REFUND_TO_BALANCE = 1
# CJ's dispute reason ids (the reason list of CJ's dispute form; the documented API takes the id only):
# our supplier-neutral reasons mapped onto them.
DISPUTE_REASON_IDS = {
    "cancel_before_shipping": 1,  # "I want to cancel the order" (paid, not shipped)
    "supplier_cancelled": 2,  # "The order was cancelled by the supplier"
    "out_of_stock": 3,  # "Out of stock"
    "lost_parcel": 4,  # "Package lost / not received"
    "damaged_parcel": 5,  # "Product damaged"
}
NOT_DISPUTABLE_CODES = {1600300, 1603100}  # param error (no such order, nothing to dispute), not found


class CjDisputeProduct(CjModel):
    line_item_id: str | None = Field(default=None, alias="lineItemId")
    can_choose: bool = Field(default=False, alias="canChoose")
    price: Decimal | None = None
    quantity: int = 0

    _price = field_validator("price", mode="before")(_optional_decimal)


class CjDisputeProducts(CjModel):
    order_id: str = Field(alias="orderId")
    products: list[CjDisputeProduct] = Field(default_factory=list, alias="productInfoList")


class CjDispute(CjModel):
    dispute_id: str = Field(alias="id")
    business_id: str | None = Field(default=None, alias="businessDisputeId")
    order_id: str = Field(alias="orderId")
    status: str | None = None
    money: Decimal | None = None
    refund_money: Decimal | None = Field(default=None, alias="refundMoney")

    _money = field_validator("money", "refund_money", mode="before")(_optional_decimal)

    @field_validator("dispute_id", "order_id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return str(value) if value not in (None, "") else ""


def _dispute(raw: CjDispute) -> SupplierDispute:
    return SupplierDispute(
        dispute_id=raw.dispute_id,
        key=raw.business_id,
        supplier_order_id=raw.order_id,
        status=raw.status,
        amount=raw.money,
        refunded=raw.refund_money,
    )


@dataclass
class CjDisputes:
    """The `SupplierDisputes` of CJ, over the CJ client's transport (token, pacing, retries)."""

    cj: CJDropshippingResource

    def disputes(self, supplier_order_id: str) -> list[SupplierDispute]:
        data = self.cj.call(
            "GET",
            "/disputes/getDisputeList",
            params={"orderId": supplier_order_id, "pageNum": 1, "pageSize": 50},
        )
        items = data.get("list") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise PayloadError(API, "/disputes/getDisputeList: answer has no list")
        try:
            return [_dispute(CjDispute.model_validate(item)) for item in items]
        except ValidationError as exc:
            raise PayloadError(
                API, f"/disputes/getDisputeList: unexpected shape: {exc.errors()[:2]}"
            ) from exc

    def find_dispute(self, supplier_order_id: str, key: str) -> SupplierDispute | None:
        return next((d for d in self.disputes(supplier_order_id) if d.key == key), None)

    def open_dispute(self, request: DisputeRequest) -> SupplierDispute:
        reason_id = DISPUTE_REASON_IDS.get(request.reason)
        if reason_id is None:
            raise ValueError(f"no CJ dispute reason for {request.reason!r}")
        if not request.key or len(request.key) > 100:
            raise ValueError("a CJ businessDisputeId is 1 to 100 characters")
        try:
            data = self.cj.call(
                "GET", "/disputes/disputeProducts", params={"orderId": request.supplier_order_id}
            )
            offered = CjDisputeProducts.model_validate(data)
        except ValidationError as exc:
            raise PayloadError(API, "/disputes/disputeProducts: unexpected shape") from exc
        except PermanentApiError as error:
            if error.code in NOT_DISPUTABLE_CODES:
                raise DisputeRefusedError(API, str(error), code=error.code) from error
            raise
        lines = [
            {"lineItemId": p.line_item_id, "quantity": p.quantity, "price": f"{p.price or 0:.2f}"}
            for p in offered.products
            if p.can_choose and p.quantity > 0
        ]
        if not lines:
            raise DisputeRefusedError(
                API, f"order {request.supplier_order_id}: no product can be disputed (one is open already?)"
            )
        try:
            self.cj.call(
                "POST",
                "/disputes/disputeConfirmInfo",
                body={"orderId": request.supplier_order_id, "productInfoList": lines},
            )
            data = self.cj.call(
                "POST",
                "/disputes/create",
                body={
                    "businessDisputeId": request.key,
                    "orderId": request.supplier_order_id,
                    "disputeReasonId": reason_id,
                    "expectType": EXPECT_REFUND,
                    "refundType": REFUND_TO_BALANCE,
                    "messageText": request.message[:500],
                    "imageUrl": request.evidence_urls[:5],
                    "productInfoList": lines,
                },
            )
        except PermanentApiError as error:
            if error.code in NOT_DISPUTABLE_CODES:
                raise DisputeRefusedError(API, str(error), code=error.code) from error
            raise
        dispute_id = data.get("id") if isinstance(data, dict) else data
        if dispute_id in (None, ""):
            raise PayloadError(API, f"/disputes/create {request.key}: answer has no dispute id")
        amount = sum((Decimal(line["price"]) * line["quantity"] for line in lines), Decimal(0))
        return SupplierDispute(
            str(dispute_id), request.key, request.supplier_order_id, status="PROCESSING", amount=amount
        )
