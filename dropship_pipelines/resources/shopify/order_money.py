"""An order's money after checkout as Shopify reports it: its refunds (shop and presentment currency) and
its payment disputes (chargebacks and inquiries, `Order.disputes` and `ShopifyPaymentsDispute`).

Read with the client's `execute` (its cost bucket, retries and error mapping), parsed into typed models
here: nothing past this module indexes a raw node."""

from datetime import datetime
from decimal import Decimal

from pydantic import AliasPath, Field

from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, _parse
from dropship_pipelines.resources.shopify.models import ShopifyModel

_MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"
ORDER_MONEY = f"""
query OrderMoney($id: ID!) {{
  order(id: $id) {{
    id name cancelledAt updatedAt displayFinancialStatus
    totalPriceSet {{ {_MONEY} }}
    refunds(first: 50) {{ id note createdAt totalRefundedSet {{ {_MONEY} }} }}
    disputes {{ id initiatedAs status }}
  }}
}}
"""

DISPUTE = """
query Dispute($id: ID!) {
  dispute(id: $id) {
    id status type initiatedAt finalizedOn
    amount { amount currencyCode }
    reasonDetails { reason }
  }
}
"""


class MoneyBag(ShopifyModel):
    amount: Decimal = Field(validation_alias=AliasPath("shopMoney", "amount"))
    currency: str = Field(validation_alias=AliasPath("shopMoney", "currencyCode"))
    presentment_amount: Decimal | None = Field(
        default=None, validation_alias=AliasPath("presentmentMoney", "amount")
    )
    presentment_currency: str | None = Field(
        default=None, validation_alias=AliasPath("presentmentMoney", "currencyCode")
    )


class StoreRefund(ShopifyModel):
    id: str
    note: str | None = None
    created_at: datetime = Field(alias="createdAt")
    money: MoneyBag = Field(alias="totalRefundedSet")


class DisputeSummary(ShopifyModel):
    id: str
    initiated_as: str = Field(alias="initiatedAs")  # CHARGEBACK | INQUIRY
    status: str


class PaymentDispute(ShopifyModel):
    id: str
    status: str  # NEEDS_RESPONSE | UNDER_REVIEW | WON | LOST | ACCEPTED
    type: str  # CHARGEBACK | INQUIRY
    initiated_at: datetime = Field(alias="initiatedAt")
    amount: Decimal = Field(validation_alias=AliasPath("amount", "amount"))
    currency: str = Field(validation_alias=AliasPath("amount", "currencyCode"))
    reason: str | None = Field(default=None, validation_alias=AliasPath("reasonDetails", "reason"))


class OrderMoney(ShopifyModel):
    id: str
    name: str
    cancelled_at: datetime | None = Field(default=None, alias="cancelledAt")
    updated_at: datetime = Field(alias="updatedAt")
    financial_status: str | None = Field(default=None, alias="displayFinancialStatus")
    total: MoneyBag = Field(alias="totalPriceSet")
    refunds: list[StoreRefund] = Field(default_factory=list)
    disputes: list[DisputeSummary] = Field(default_factory=list)


def order_money(shopify: ShopifyAdminResource, order_id: str) -> OrderMoney | None:
    """The order's refunds and dispute summaries; None when the store has no such order."""
    order = shopify.execute(ORDER_MONEY, {"id": order_id})["order"]
    return _parse(OrderMoney, order, f"order {order_id} money") if order else None


def payment_dispute(shopify: ShopifyAdminResource, dispute_id: str) -> PaymentDispute | None:
    """One dispute's amount, status and reason (`ShopifyPaymentsDispute`)."""
    found = shopify.execute(DISPUTE, {"id": dispute_id})["dispute"]
    return _parse(PaymentDispute, found, f"dispute {dispute_id}") if found else None
