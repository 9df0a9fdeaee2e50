"""CJ's payloads onto the supplier-neutral models (`resources/supplier.py`), and back for an order."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from dropship_pipelines.resources.cj.models import (
    CjFreightOption,
    CjListedProduct,
    CjOrder,
    CjProductDetail,
    CjTrack,
)
from dropship_pipelines.resources.supplier import (
    BasketLine,
    CatalogProduct,
    FreightOption,
    ProductDetail,
    ProductVariant,
    SupplierOrder,
    SupplierOrderRequest,
    TrackingEvent,
)
from dropship_pipelines.rules.fulfillment import carrier_phone

WAREHOUSE_COUNTRY = "CN"  # every route starts at CJ's Chinese warehouses
STORE_PLATFORM = "shopify"
PAY_FROM_BALANCE, PAY_LATER = 2, 3  # CJ's payType: 2 pays from the balance and ships, 3 waits for payment
IOSS_BY_CJ = 1  # CJ declares EU import VAT (IOSS) itself


def catalog_product(raw: dict[str, Any]) -> CatalogProduct:
    """One `/product/list` record; a malformed one keeps what can be read and says what is wrong."""
    content_hash = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    try:
        item = CjListedProduct.model_validate(raw)
    except ValidationError as exc:
        return CatalogProduct(
            pid=str(raw.get("pid") or ""),
            sku=str(raw.get("productSku") or ""),
            name=str(raw.get("productNameEn") or ""),
            content_hash=content_hash,
            malformed=f"malformed record: {exc.errors()[0]['msg']}",
        )
    return CatalogProduct(
        pid=item.pid,
        sku=item.sku,
        name=item.name,
        content_hash=content_hash,
        category=item.category,
        sell_price=item.sell_price,
        listed_num=item.listed_num,
        image_url=item.image_url,
        created_at=item.created,
    )


def product_detail(detail: CjProductDetail) -> ProductDetail:
    return ProductDetail(
        pid=detail.pid,
        sku=detail.sku,
        name=detail.name,
        category=detail.category,
        description_html=detail.description_html,
        image_urls=detail.image_urls or ([detail.image_url] if detail.image_url else []),
        option_name=detail.option_name,
        weight_g=detail.weight_g,
        sell_price=detail.sell_price,
        variants=[
            ProductVariant(
                vid=v.vid,
                sku=v.sku,
                option_value=v.key or v.name or "Default",
                price=v.price,
                weight_g=v.weight_g,
                image_url=v.image_url or None,
            )
            for v in detail.variants
        ],
    )


def freight_option(option: CjFreightOption) -> FreightOption:
    days_min, days_max = option.days
    return FreightOption(option.name, option.price, days_min, days_max)


def freight_body(country: str, basket: list[BasketLine], zip_code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "startCountryCode": WAREHOUSE_COUNTRY,
        "endCountryCode": country,
        "products": [{"vid": line.vid, "quantity": line.quantity} for line in basket],
    }
    if zip_code:
        body["zip"] = zip_code
    return body


def order_body(order: SupplierOrderRequest) -> dict[str, Any]:
    """The `createOrderV2` body of one order."""
    address = order.address
    return {
        "orderNumber": order.order_number,
        "shippingZip": address.zip,
        "shippingCountryCode": address.country_code,
        "shippingCountry": address.country or address.country_code,
        "shippingProvince": address.province or address.city,
        "shippingCity": address.city,
        "shippingCounty": "",
        "shippingPhone": carrier_phone(address.phone),
        "shippingCustomerName": address.name,
        "shippingAddress": address.address1,
        "shippingAddress2": address.address2,
        "email": order.email,
        "remark": "",
        "payType": PAY_FROM_BALANCE if order.pay_from_balance else PAY_LATER,
        "shopAmount": float(order.customer_paid),
        "logisticName": order.route,
        "fromCountryCode": WAREHOUSE_COUNTRY,
        "platform": STORE_PLATFORM,
        "iossType": IOSS_BY_CJ,
        "products": [
            {"vid": line.vid, "quantity": line.quantity, "storeLineItemId": line.store_line_id}
            for line in order.lines
        ],
    }


def supplier_order(order: CjOrder) -> SupplierOrder:
    return SupplierOrder(
        supplier_order_id=order.order_id,
        order_number=order.order_number or order.order_num,
        status=order.status,
        route=order.logistic_name,
        product_amount=order.product_amount,
        postage_amount=order.postage_amount,
        total_amount=order.order_amount,
        track_number=order.track_number or None,
        tracking_url=order.tracking_url or None,
        hold_reasons=tuple(
            f"{r.get('code')}: {r.get('message')}" for r in order.intercept_reasons if isinstance(r, dict)
        ),
    )


def cj_time(value: str | None) -> datetime | None:
    """A CJ date ("2021-06-17 07:04:04", UTC) as an aware datetime; None when empty or not a date."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def tracking_event(track: CjTrack) -> TrackingEvent:
    return TrackingEvent(
        track_number=track.track_number,
        status=track.status,
        carrier=track.last_mile_carrier or track.logistic_name,
        event_at=cj_time(track.delivery_time),
        last_mile_carrier=track.last_mile_carrier,
    )
