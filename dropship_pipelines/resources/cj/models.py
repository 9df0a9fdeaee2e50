"""CJ API 2.0 payloads as typed models, parsed at the edge (field names as CJ spells them).

`mapping.py` turns them into the supplier-neutral models of `resources/supplier.py`."""

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CjModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _optional_decimal(value: Any) -> Decimal | None:
    """CJ sends prices as numbers, strings, ranges ("2.02 -- 14.10") or nothing; keep the lowest."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and "--" in value:
        value = value.split("--")[0].strip()
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _optional_float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class CjListedProduct(CjModel):
    pid: str
    sku: str = Field(alias="productSku")
    name: str = Field(alias="productNameEn")
    image_url: str | None = Field(default=None, alias="productImage")
    sell_price: Decimal | None = Field(default=None, alias="sellPrice")
    category: str = Field(default="", alias="categoryName")
    listed_num: int = Field(default=0, alias="listedNum")
    created: str | None = Field(default=None, alias="createTime")

    _price = field_validator("sell_price", mode="before")(_optional_decimal)

    @field_validator("listed_num", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> int:
        return int(value or 0)

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> str:
        return value or ""


class CjProductPage(CjModel):
    page: int = Field(alias="pageNum")
    size: int = Field(alias="pageSize")
    total: int
    items: list[dict[str, Any]] = Field(alias="list")


class CjVariant(CjModel):
    vid: str
    sku: str = Field(alias="variantSku")
    name: str | None = Field(default=None, alias="variantNameEn")
    key: str | None = Field(default=None, alias="variantKey")
    price: Decimal | None = Field(default=None, alias="variantSellPrice")
    weight_g: float | None = Field(default=None, alias="variantWeight")
    image_url: str | None = Field(default=None, alias="variantImage")

    _price = field_validator("price", mode="before")(_optional_decimal)
    _weight = field_validator("weight_g", mode="before")(_optional_float)


class CjProductDetail(CjModel):
    pid: str
    sku: str = Field(alias="productSku")
    name: str = Field(alias="productNameEn")
    category: str = Field(default="", alias="categoryName")
    description_html: str = Field(default="", alias="description")
    image_url: str | None = Field(default=None, alias="productImage")
    image_urls: list[str] = Field(default_factory=list, alias="productImageSet")
    option_name: str | None = Field(default=None, alias="productKeyEn")
    weight_g: float | None = Field(default=None, alias="productWeight")
    sell_price: Decimal | None = Field(default=None, alias="sellPrice")
    variants: list[CjVariant] = Field(default_factory=list)

    _price = field_validator("sell_price", mode="before")(_optional_decimal)
    _weight = field_validator("weight_g", mode="before")(_optional_float)

    @field_validator("image_urls", mode="before")
    @classmethod
    def _images(cls, value: Any) -> list[str]:
        return [str(v) for v in value] if isinstance(value, list) else []


class CjFreightOption(CjModel):
    name: str = Field(alias="logisticName")
    price: Decimal = Field(alias="logisticPrice")
    aging: str = Field(alias="logisticAging")

    @property
    def days(self) -> tuple[int, int]:
        """'2-5' -> (2, 5); a single number counts as both ends."""
        low, _, high = self.aging.replace(" ", "").partition("-")
        return int(low), int(high or low)


class CjOrder(CjModel):
    """An order as `createOrderV2`, `getOrderDetail` and `/shopping/order/list` answer it."""

    order_id: str = Field(alias="orderId")
    order_number: str | None = Field(default=None, alias="orderNumber")
    order_num: str | None = Field(default=None, alias="orderNum")
    status: str | None = Field(default=None, alias="orderStatus")
    logistic_name: str | None = Field(default=None, alias="logisticName")
    product_amount: Decimal | None = Field(default=None, alias="productAmount")
    postage_amount: Decimal | None = Field(default=None, alias="postageAmount")
    order_amount: Decimal | None = Field(default=None, alias="orderAmount")
    track_number: str | None = Field(default=None, alias="trackNumber")
    tracking_url: str | None = Field(default=None, alias="trackingUrl")
    # [{"code": 1001, "message": "..."}]: CJ holds the order (createOrderV2 and order detail report it)
    intercept_reasons: list[dict[str, Any]] = Field(default_factory=list, alias="interceptOrderReasons")

    _amounts = field_validator("product_amount", "postage_amount", "order_amount", mode="before")(
        _optional_decimal
    )

    @field_validator("order_id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        return str(value) if value not in (None, "") else ""

    @field_validator("intercept_reasons", mode="before")
    @classmethod
    def _reasons(cls, value: Any) -> list[Any]:
        return list(value) if isinstance(value, list) else []  # CJ sends null when there are none


class CjTrack(CjModel):
    track_number: str = Field(alias="trackingNumber")
    status: str | None = Field(default=None, alias="trackingStatus")
    logistic_name: str | None = Field(default=None, alias="logisticName")
    last_mile_carrier: str | None = Field(default=None, alias="lastMileCarrier")
    # CJ's latest tracking event time ("yyyy-MM-dd HH:mm:ss", UTC like its other dates; "" before a scan)
    delivery_time: str | None = Field(default=None, alias="deliveryTime")
