"""What the store earns: the operator's money numbers, as plain functions (no Dagster, no I/O).

    profit = revenue - product cost - shipping - payment fees - ad spend - refunds - chargebacks
             + supplier refunds

- revenue: the total price of every order that was not cancelled, on the day it was placed (UTC), in the
  shop currency (what the customer paid in their presentment currency is kept beside it, not summed).
- product cost and shipping: what the supplier actually charged (CJ's order detail once shipped:
  `supplier_costs`); before that its answer at order time (`supplier_orders`); before the order went to
  the supplier, the listing's unit cost and shipping cost per unit (an estimate: `estimated_cost_orders`).
- payment fees: the fees the order's transactions report (Shopify Payments gives them), else the
  configured rule of its gateway (`GATEWAY_FEES`; the pricing rule for Shopify Payments and unknown
  gateways), `fee_rate x total + fixed_fee` rounded half up to the cent per order (rules/pricing.py).
- ad spend: what the ad platforms report spent that day (`ad_metrics_daily.spend`).
- refunds: what the store refunded the order (the most any ledger knows of: the order's refund
  transactions, the refunds recorded per order, the order actions' executed refunds; each sees the
  same store's refunds, so the largest is the most complete and none is counted twice).
- chargebacks: a disputed amount not won back, plus the dispute fee (Shopify's $15 unless recorded).
- supplier refunds: what the supplier paid back (a lost parcel's dispute won).

Money is summed in integer cents, so totals reconcile with the ledger to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from dropship_pipelines.rules.pricing import CENT, PriceRule, fee_cents, fees

if TYPE_CHECKING:  # pandas/numpy cost ~0.3 s to import: loaded by the functions that compute
    import numpy as np
    import pandas as pd

DISPUTE_FEE = Decimal("15.00")  # Shopify Payments' chargeback fee, when the dispute does not record one
# Gateways whose fees Shopify does not report, at their published standard rate (PriceRule's fee part).
GATEWAY_FEES: dict[str, tuple[Decimal, Decimal]] = {"paypal": (Decimal("0.0349"), Decimal("0.49"))}
ORDER_COLUMNS = (
    "order_id",
    "day",
    "revenue_cents",
    "product_cost_cents",
    "shipping_cents",
    "refund_cents",
    "items",
    "cost_estimated",
)
# True profit's columns of an order row (`OPTIONAL_DEFAULTS` when a frame lacks them).
PROFIT_COLUMNS = (
    "fee_cents",  # the fees the transactions report; -1 when none is reported
    "gateway",
    "chargeback_cents",  # disputed amounts not won plus dispute fees
    "supplier_refund_cents",
)
OPTIONAL_DEFAULTS: dict[str, object] = {
    "fee_cents": -1,
    "gateway": None,
    "chargeback_cents": 0,
    "supplier_refund_cents": 0,
}
DAILY_COLUMNS = (
    "day",
    "orders",
    "items",
    "revenue",
    "product_cost",
    "shipping_cost",
    "payment_fees",
    "refunds",
    "chargebacks",
    "supplier_refunds",
    "ad_spend",
    "profit",
    "aov",
    "estimated_cost_orders",
)


def to_cents(amount: Decimal | float | int | str | None) -> int:
    """Exact cents of a money amount (None is 0)."""
    if amount is None:
        return 0
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_cents(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def order_fee(total_price: Decimal, rule: PriceRule) -> Decimal:
    """The payment processor's fee on one order (the same rule prices are made with)."""
    return fees(total_price, rule)


def order_fee_cents(revenue_cents: pd.Series | np.ndarray, rule: PriceRule) -> np.ndarray:
    """`order_fee` for many orders at once, in exact integer arithmetic (pricing's `fee_cents`)."""
    import numpy as np

    return np.asarray(fee_cents(np.asarray(revenue_cents, dtype=np.int64), rule), dtype=np.int64)


def gateway_rule(gateway: str | None, rule: PriceRule) -> PriceRule:
    """The fee rule of a gateway whose fees are not reported: its configured rate, else the store's."""
    rate = GATEWAY_FEES.get((gateway or "").lower())
    return rule if rate is None else replace(rule, fee_rate=rate[0], fixed_fee=rate[1])


@dataclass(frozen=True)
class FeeTerms:
    """A fee rule as integers: fee cents = (2 x (price cents x per_cent + base) + scale) // (2 x scale),
    pricing's `fee_cents` (rate x price + fixed fee, half up), so a database can apply it exactly."""

    per_cent: int
    base: int
    scale: int


def fee_terms(rule: PriceRule) -> FeeTerms:
    rate, fixed = Fraction(rule.fee_rate), Fraction(rule.fixed_fee) * 100
    return FeeTerms(
        per_cent=rate.numerator * fixed.denominator,
        base=fixed.numerator * rate.denominator,
        scale=rate.denominator * fixed.denominator,
    )


def unreported_fee_rules(rule: PriceRule) -> tuple[dict[str, FeeTerms], FeeTerms]:
    """The fee terms of each configured gateway (lower-case name) and of every other gateway: what an
    order's fees are when its transactions report none (`payment_fee_cents`)."""
    return (
        {gateway: fee_terms(gateway_rule(gateway, rule)) for gateway in GATEWAY_FEES},
        fee_terms(rule),
    )


def payment_fee_cents(frame: pd.DataFrame, rule: PriceRule) -> np.ndarray:
    """Each order's payment fees: the reported ones (`fee_cents` >= 0), else its gateway's rule."""
    import numpy as np

    reported = frame["fee_cents"].to_numpy(dtype=np.int64)
    out = reported.copy()
    missing = reported < 0
    if missing.any():
        gateways = frame["gateway"].fillna("").astype(str).to_numpy()
        revenue = frame["revenue_cents"].to_numpy(dtype=np.int64)
        for gateway in set(gateways[missing]):
            pick = missing & (gateways == gateway)
            out[pick] = order_fee_cents(revenue[pick], gateway_rule(gateway, rule))
    return out


def profit(
    revenue: Decimal,
    product_cost: Decimal,
    shipping: Decimal,
    payment_fees: Decimal,
    ad_spend: Decimal,
    refunds: Decimal = Decimal(0),
    chargebacks: Decimal = Decimal(0),
    supplier_refunds: Decimal = Decimal(0),
) -> Decimal:
    return (
        revenue - product_cost - shipping - payment_fees - ad_spend - refunds - chargebacks + supplier_refunds
    ).quantize(CENT)


def aov(revenue: Decimal, orders: int) -> Decimal | None:
    """Average order value; None when there was no order."""
    return (revenue / orders).quantize(CENT, rounding=ROUND_HALF_UP) if orders else None


def roi(profit_amount: Decimal, total_cost: Decimal) -> float | None:
    """Return on what was spent: profit / (product cost + shipping + payment fees + ad spend)."""
    return round(float(profit_amount / total_cost), 4) if total_cost else None


def roas(revenue: Decimal, ad_spend: Decimal) -> float | None:
    """Return on ad spend: revenue / ad spend."""
    return round(float(revenue / ad_spend), 4) if ad_spend else None


def conversion_rate(orders: int, ad_clicks: int) -> float | None:
    """Orders per ad click. All orders count (organic ones too), so it can exceed 1 with few ads."""
    return round(orders / ad_clicks, 4) if ad_clicks else None


@dataclass(frozen=True)
class Kpis:
    sales: Decimal
    profit: Decimal
    orders: int
    ad_spend: Decimal
    ad_clicks: int
    total_cost: Decimal
    roi: float | None
    roas: float | None
    conversion_rate: float | None
    aov: Decimal | None


def kpis(daily: pd.DataFrame, ad_clicks: int) -> Kpis:
    """Store KPIs over the days in `daily` (rows of `daily_profit_frame`)."""
    sales = sum((Decimal(str(v)) for v in daily["revenue"]), Decimal(0)).quantize(CENT)
    total = {
        col: sum((Decimal(str(v)) for v in daily[col]), Decimal(0)).quantize(CENT)
        for col in ("product_cost", "shipping_cost", "payment_fees", "ad_spend", "refunds", "profit")
    }
    orders = int(daily["orders"].sum()) if len(daily) else 0
    total_cost = total["product_cost"] + total["shipping_cost"] + total["payment_fees"] + total["ad_spend"]
    return Kpis(
        sales=sales,
        profit=total["profit"],
        orders=orders,
        ad_spend=total["ad_spend"],
        ad_clicks=ad_clicks,
        total_cost=total_cost,
        roi=roi(total["profit"], total_cost),
        roas=roas(sales, total["ad_spend"]),
        conversion_rate=conversion_rate(orders, ad_clicks),
        aov=aov(sales, orders),
    )


def daily_profit_frame(orders: pd.DataFrame, ad_spend: pd.DataFrame, rule: PriceRule) -> pd.DataFrame:
    """Sales and profit per day, vectorised.

    `orders`: one row per counted order with ORDER_COLUMNS and PROFIT_COLUMNS (money in integer cents,
    `day` a date).
    `ad_spend`: columns `day`, `spend_cents`. A day with ad spend but no order still gets a row.
    Returns DAILY_COLUMNS with money as Decimal, sorted by day.
    """
    frame = orders.copy()
    for column, default in OPTIONAL_DEFAULTS.items():  # frames built before true profit lack them
        if column not in frame:
            frame[column] = default
    frame = frame.loc[:, [*ORDER_COLUMNS, *PROFIT_COLUMNS]]
    frame["fee_cents"] = payment_fee_cents(frame, rule) if len(frame) else frame["fee_cents"]
    by_day = frame.groupby("day", sort=True).agg(
        orders=("order_id", "count"),
        items=("items", "sum"),
        revenue=("revenue_cents", "sum"),
        product_cost=("product_cost_cents", "sum"),
        shipping_cost=("shipping_cents", "sum"),
        payment_fees=("fee_cents", "sum"),
        refunds=("refund_cents", "sum"),
        chargebacks=("chargeback_cents", "sum"),
        supplier_refunds=("supplier_refund_cents", "sum"),
        estimated_cost_orders=("cost_estimated", "sum"),
    )
    return daily_profit_from_sums(by_day.reset_index(), ad_spend)


# The per-day sums in integer cents a database aggregation returns (`analytics_queries.daily_sums`), the
# same as `daily_profit_frame` groups its order rows into.
DAY_SUMS = (
    "day",
    "orders",
    "items",
    "revenue",
    "product_cost",
    "shipping_cost",
    "payment_fees",
    "refunds",
    "chargebacks",
    "supplier_refunds",
    "estimated_cost_orders",
)


def daily_profit_from_sums(sums: pd.DataFrame, ad_spend: pd.DataFrame) -> pd.DataFrame:
    """DAILY_COLUMNS from per-day sums of the orders (DAY_SUMS, integer cents, one row per day that had
    an order) and the ad spend per day (`day`, `spend_cents`); a day with spend but no order gets a row."""
    by_day = sums.loc[:, list(DAY_SUMS)].set_index("day")
    spend = ad_spend.groupby("day")["spend_cents"].sum().rename("ad_spend")
    daily = by_day.join(spend, how="outer").fillna(0).astype("int64").sort_index()
    daily["profit"] = (
        daily["revenue"]
        - daily["product_cost"]
        - daily["shipping_cost"]
        - daily["payment_fees"]
        - daily["ad_spend"]
        - daily["refunds"]
        - daily["chargebacks"]
        + daily["supplier_refunds"]
    )
    daily.index.name = "day"
    daily = daily.reset_index()
    money = (
        "revenue",
        "product_cost",
        "shipping_cost",
        "payment_fees",
        "refunds",
        "chargebacks",
        "supplier_refunds",
        "ad_spend",
        "profit",
    )
    out = daily[["day", "orders", "items", "estimated_cost_orders"]].copy()
    for col in money:
        out[col] = [from_cents(c) for c in daily[col]]
    out["aov"] = [
        from_cents((r * 2 + o) // (2 * o)) if o else None
        for r, o in zip(daily["revenue"], daily["orders"], strict=True)
    ]
    return out.loc[:, list(DAILY_COLUMNS)]


PRODUCT_MONEY = ("product_cost", "shipping_cost", "payment_fees", "money_back", "order_profit")


def product_profit(orders: pd.DataFrame, lines: pd.DataFrame, rule: PriceRule) -> pd.DataFrame:
    """True profit per product: each order's actual costs, fees and money given back (refunds +
    chargebacks - supplier refunds) shared among its lines by line revenue, to the cent (each order's
    remainder cents go to its largest line, so the products' sums equal the orders' exactly).

    `orders`: ORDER_COLUMNS + PROFIT_COLUMNS rows; `lines`: `order_id`, `pid`, `revenue_cents` (one row
    per line of a counted order with a product). Returns per pid: PRODUCT_MONEY in integer cents, where
    `order_profit` is the orders' profit before ad spend shared by line revenue."""
    import pandas as pd

    empty = pd.DataFrame(columns=["pid", *PRODUCT_MONEY])
    if not len(orders) or not len(lines):
        return empty
    frame = orders.copy()
    frame["fee_cents"] = payment_fee_cents(frame, rule)
    frame["money_back"] = frame["refund_cents"] + frame["chargeback_cents"] - frame["supplier_refund_cents"]
    frame["order_profit"] = (
        frame["revenue_cents"]
        - frame["product_cost_cents"]
        - frame["shipping_cents"]
        - frame["fee_cents"]
        - frame["money_back"]
    )
    amounts = frame.rename(
        columns={
            "product_cost_cents": "product_cost",
            "shipping_cents": "shipping_cost",
            "fee_cents": "payment_fees",
        }
    )[["order_id", *PRODUCT_MONEY]]
    shared = lines.merge(amounts, on="order_id", how="inner")
    if not len(shared):
        return empty
    weight = shared["revenue_cents"].clip(lower=0).astype("int64")
    total = weight.groupby(shared["order_id"]).transform("sum")
    count = shared.groupby("order_id")["pid"].transform("count")
    # an order whose lines are all free shares equally
    weight = weight.where(total > 0, 1)
    total = total.where(total > 0, count)
    largest = shared.assign(w=weight).groupby("order_id")["w"].transform("idxmax") == shared.index
    for column in PRODUCT_MONEY:
        amount = shared[column].astype("int64")
        part = (amount * weight) // total  # floor toward -inf: the remainder is never negative
        remainder = amount - part.groupby(shared["order_id"]).transform("sum")
        shared[column] = part + remainder.where(largest, 0)
    return shared.groupby("pid", as_index=False)[list(PRODUCT_MONEY)].sum()
