"""What happens to a parcel after CJ prints its label, and what the store's payment gateway charged.

Each CJ order paid for draws its parcel's fate once, seeded by its order number: the hours from label to
the carrier's first scan, and at the configured rates a stall (scans stop for days, then resume), a lost
parcel (scans stop for good), a returned one (the carrier says "Returned"), a changed tracking number
(CJ re-labels it: `trackNumber` changes 3-5 days after the first scan) and a supplier charge that differs
from the quote (postage re-weighed at dispatch: getOrderDetail's `postageAmount` changes). The views are
computed from the clock, so getOrderDetail, the order list and `/logistic/trackInfo` always agree.

Each Shopify order's sale carries a gateway (Shopify Payments or PayPal) with its fees (Shopify reports
them for its own gateway only, as in `OrderTransaction.fees`), and a share of orders is presented in the
customer's currency (`presentmentMoney`), the shop's stays USD.

Ground truth goes in the audit: `parcels_stalled`, `parcels_lost`, `parcels_returned`,
`tracking_numbers_changed`, `supplier_costs_changed` per order number, and `gateway_fees` ("<order
GID> <fee>") per order.

Rates: `POST /_sandbox/parcels/settings` with any of `PARCEL_DEFAULTS` (all 0 by default: the demo runs
clean; `REALISTIC` is what the soak sets).
"""

import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from dropship_sandbox.apis.pipeline import world_of
from dropship_sandbox.world import World

SETTINGS_KEY = "parcels:settings"
PARCEL_DEFAULTS: dict[str, float] = {
    "stall_rate": 0.0,  # share of parcels whose scans stop for `stall_days`, then resume
    "lost_rate": 0.0,  # share of parcels whose scans stop for good
    "returned_rate": 0.0,  # share the carrier reports "Returned"
    "retrack_rate": 0.0,  # share whose tracking number CJ changes after dispatch
    "cost_change_rate": 0.0,  # share whose actual postage differs from the quote
    "presentment_rate": 0.0,  # share of orders paid in the customer's own currency (outside the US)
    "paypal_rate": 0.0,  # share of orders paid through PayPal (fees not reported by Shopify)
    "first_scan_hours_min": 2.0,
    "first_scan_hours_max": 30.0,
    "stall_days": 12.0,
}
REALISTIC = {
    "stall_rate": 0.04,
    "lost_rate": 0.01,
    "returned_rate": 0.005,
    "retrack_rate": 0.03,
    "cost_change_rate": 0.15,
    "presentment_rate": 0.5,
    "paypal_rate": 0.2,
}
SCAN_EVERY_HOURS = 18  # a scan at each hub on the way
GATEWAY_FEES = {
    "shopify_payments": (Decimal("0.029"), Decimal("0.30")),
    "paypal": (Decimal("0.0349"), Decimal("0.49")),
}
# Shop currency is USD; what a customer abroad sees, at the store's fixed rates.
PRESENTMENT = {
    "GB": ("GBP", Decimal("0.79")),
    "DE": ("EUR", Decimal("0.92")),
    "FR": ("EUR", Decimal("0.92")),
    "NL": ("EUR", Decimal("0.92")),
    "ES": ("EUR", Decimal("0.92")),
    "IT": ("EUR", Decimal("0.92")),
    "CA": ("CAD", Decimal("1.36")),
    "AU": ("AUD", Decimal("1.52")),
}
CENT = Decimal("0.01")


def settings(world: World) -> dict[str, float]:
    return {**PARCEL_DEFAULTS, **json.loads(world.state.meta(SETTINGS_KEY, "{}") or "{}")}


def set_settings(world: World, change: dict[str, Any]) -> dict[str, float]:
    unknown = set(change) - set(PARCEL_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown parcel settings: {sorted(unknown)}")
    with world.lock, world.state:
        merged = {**settings(world), **{k: float(v) for k, v in change.items()}}
        world.state.set_meta(SETTINGS_KEY, json.dumps(merged))
    return merged


# --- CJ: a parcel's fate ---------------------------------------------------------------------------------
def draw_fate(world: World, order: dict[str, Any]) -> None:
    """Draw the parcel of a paid CJ order (once: an order that has a fate keeps it). Changes `_sim` in
    place: a lost or returned parcel is never delivered; a stalled one is delivered `stall_days` late."""
    sim = order["_sim"]
    if sim.get("parcel") or not sim.get("shipped_at"):
        return
    rates = settings(world)
    number = order["orderNum"]
    rng = world.rng("parcel", number)
    roll = rng.random()
    fate = "normal"
    for name, rate in (
        ("lost", rates["lost_rate"]),
        ("returned", rates["returned_rate"]),
        ("stall", rates["stall_rate"]),
    ):
        if roll < rate:
            fate = name
            break
        roll -= rate
    first_scan = rng.uniform(rates["first_scan_hours_min"], rates["first_scan_hours_max"])
    shipped = datetime.fromisoformat(sim["shipped_at"])
    delivered = datetime.fromisoformat(sim["delivered_at"]) if sim.get("delivered_at") else None
    if delivered:  # the carrier scans a parcel before it delivers it
        first_scan = min(first_scan, (delivered - shipped).total_seconds() / 3600 / 2)
    parcel: dict[str, Any] = {"fate": fate, "first_scan_hours": first_scan, "stall_days": rates["stall_days"]}
    if fate in ("lost", "returned"):
        parcel["quiet_from"] = (shipped + timedelta(hours=first_scan + rng.uniform(24, 72))).isoformat()
        sim["delivered_at"] = None
        world.state.audit_increment("parcels_lost" if fate == "lost" else "parcels_returned", number)
    elif fate == "stall":
        quiet_from = shipped + timedelta(hours=first_scan + rng.uniform(12, 48))
        parcel["quiet_from"] = quiet_from.isoformat()
        parcel["quiet_until"] = (quiet_from + timedelta(days=rates["stall_days"])).isoformat()
        if delivered:
            sim["delivered_at"] = (delivered + timedelta(days=rates["stall_days"])).isoformat()
        world.state.audit_increment("parcels_stalled", number)
    if rng.random() < rates["retrack_rate"]:
        # Re-labelled at a hub, 3-5 days after the first scan (after the customer was emailed the first).
        offset = rng.uniform(first_scan + 72, first_scan + 120)
        parcel["retrack_at"] = (shipped + timedelta(hours=offset)).isoformat()
        parcel["retrack_number"] = f"CJPKR{rng.randint(10**11, 10**12 - 1)}YQ"
        world.state.put("cj_track", parcel["retrack_number"], {"orderId": order["orderId"]})
        world.state.audit_increment("tracking_numbers_changed", number)
    if rng.random() < rates["cost_change_rate"]:
        # Re-weighed at dispatch: postage up (mostly) or down by up to 30 %.
        quoted = Decimal(str(order["postageAmount"]))
        factor = Decimal(str(round(rng.uniform(0.85, 1.3), 2)))
        actual = (quoted * factor).quantize(CENT, rounding=ROUND_HALF_UP)
        if actual != quoted:
            parcel["actual_postage"] = str(actual)
            world.state.audit_increment("supplier_costs_changed", number)
    sim["parcel"] = parcel


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def current_track_number(world: World, order: dict[str, Any]) -> str | None:
    if not order.get("trackNumber"):
        return None
    parcel = order["_sim"].get("parcel") or {}
    retrack = _at(parcel.get("retrack_at"))
    if retrack and world.now() >= retrack:
        return str(parcel["retrack_number"])
    return str(order["trackNumber"])


def order_view(world: World, order: dict[str, Any]) -> dict[str, Any]:
    """The public CJ order as of now: its current tracking number, and the postage actually charged once
    it left the warehouse."""
    view = {k: v for k, v in order.items() if not k.startswith("_")}
    parcel = order.get("_sim", {}).get("parcel") or {}
    number = current_track_number(world, order)
    if number and number != order.get("trackNumber"):
        view["trackNumber"] = number
        view["trackingUrl"] = f"https://cjpacket.com/?trackingNumber={number}"
    if parcel.get("actual_postage") and order["orderStatus"] in ("SHIPPED", "DELIVERED"):
        postage = Decimal(parcel["actual_postage"])
        view["postageAmount"] = float(postage)
        view["orderAmount"] = float(Decimal(str(order["productAmount"])) + postage)
    return view


def _cj_date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def track(world: World, order: dict[str, Any], number: str) -> dict[str, Any]:
    """`/logistic/trackInfo`'s entry for one tracking number as of now. `deliveryTime` is the latest
    scan ("" before the first one); `trackingStatus` "Not Found" before it, then "In transit", and
    "Delivered" / "Returned" at the end."""
    sim = order["_sim"]
    now = world.now()
    shipped = datetime.fromisoformat(sim["shipped_at"])
    parcel = sim.get("parcel") or {"first_scan_hours": 12.0, "fate": "normal"}
    first = shipped + timedelta(hours=parcel["first_scan_hours"])
    delivered = order["orderStatus"] == "DELIVERED"
    status, last = "Not Found", None
    if now >= first:
        end = now
        quiet_from, quiet_until = _at(parcel.get("quiet_from")), _at(parcel.get("quiet_until"))
        if delivered and order.get("deliveryDate"):
            end = datetime.strptime(order["deliveryDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=now.tzinfo)
        scans = int((end - first).total_seconds() // (SCAN_EVERY_HOURS * 3600))
        last = first + timedelta(hours=SCAN_EVERY_HOURS * scans)
        if quiet_from and last > quiet_from and not (quiet_until and now >= quiet_until):
            steps = int((quiet_from - first).total_seconds() // (SCAN_EVERY_HOURS * 3600))
            last = first + timedelta(hours=SCAN_EVERY_HOURS * steps)
        status = "In transit"
        if delivered:
            status, last = "Delivered", end
        elif parcel["fate"] == "returned" and quiet_from and now >= quiet_from + timedelta(days=5):
            status, last = "Returned", quiet_from + timedelta(days=5)
    days = max(0, (now - shipped).days)
    return {
        "trackingNumber": number,
        "logisticName": order["logisticName"],
        "trackingFrom": order["fromCountryCode"],
        "trackingTo": order["shippingCountryCode"],
        "deliveryDay": str(days),
        "deliveryTime": _cj_date(last),
        "trackingStatus": status,
        "lastMileCarrier": sim["last_mile"],
        "lastTrackNumber": number,
    }


# --- Shopify: the sale's gateway and fees, the presentment currency ------------------------------------
def payment(world: World, doc: dict[str, Any]) -> dict[str, Any]:
    """The order's gateway, its fees (shop currency) and the presentment money, drawn once per order."""
    sim = doc.setdefault("_sim", {})
    if "payment" in sim:
        return sim["payment"]
    rates = settings(world)
    rng = world.rng("payment", doc["id"])
    gateway = "paypal" if rng.random() < rates["paypal_rate"] else "shopify_payments"
    total = Decimal(doc["totalPrice"])
    rate, fixed = GATEWAY_FEES[gateway]
    fee = (total * rate + fixed).quantize(CENT, rounding=ROUND_HALF_UP)
    country = ((doc.get("shippingAddress") or {}).get("countryCodeV2") or "US").upper()
    currency, amount = doc.get("currencyCode", "USD"), total
    if country in PRESENTMENT and rng.random() < rates["presentment_rate"]:
        currency, fx = PRESENTMENT[country]
        amount = (total * fx).quantize(CENT, rounding=ROUND_HALF_UP)
    sim["payment"] = {
        "gateway": gateway,
        "fee": str(fee),
        "reported": gateway == "shopify_payments",
        "presentment_currency": currency,
        "presentment_total": str(amount),
    }
    return sim["payment"]


def record_payment(world: World, doc: dict[str, Any]) -> None:
    """Draw the payment at checkout and record its fee in the audit (`gateway_fees`, key "<order GID>
    <fee>"): the money ground truth the soak sums."""
    paid = payment(world, doc)
    world.state.audit_increment("gateway_fees", f"gid://shopify/Order/{doc['id']} {paid['fee']}")


def sale_fees(world: World, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """`OrderTransaction.fees` of the sale: Shopify Payments' fee; none for another gateway."""
    paid = payment(world, doc)
    if not paid["reported"]:
        return []
    currency = doc.get("currencyCode", "USD")
    rate, fixed = GATEWAY_FEES[paid["gateway"]]
    money = {"amount": paid["fee"], "currencyCode": currency}
    return [
        {
            "id": f"gid://shopify/TransactionFee/{doc['id']}",
            "amount": money,
            "flatFee": {"amount": f"{fixed:.2f}", "currencyCode": currency},
            "rate": str(rate),
            "rateName": "Shopify Payments",
            "type": "payment",
            "taxAmount": {"amount": "0.00", "currencyCode": currency},
        }
    ]


def presentment_money(world: World, doc: dict[str, Any], shop_amount: str) -> dict[str, Any]:
    """A money bag of the order: the shop's USD and the customer's currency at the order's rate."""
    paid = payment(world, doc)
    shop = {"amount": shop_amount, "currencyCode": doc.get("currencyCode", "USD")}
    currency = paid["presentment_currency"]
    if currency == shop["currencyCode"]:
        return {"shopMoney": shop, "presentmentMoney": shop}
    fx = dict(PRESENTMENT.values())[currency] if currency in dict(PRESENTMENT.values()) else Decimal(1)
    amount = (Decimal(shop_amount) * fx).quantize(CENT, rounding=ROUND_HALF_UP)
    return {"shopMoney": shop, "presentmentMoney": {"amount": f"{amount:.2f}", "currencyCode": currency}}


control = APIRouter(prefix="/_sandbox/parcels", tags=["sandbox control"])


@control.get("/settings")
def get_parcel_settings(request: Request) -> dict[str, float]:
    return settings(world_of(request))


@control.post("/settings")
def post_parcel_settings(request: Request, body: dict[str, Any]) -> dict[str, float]:
    """Any rate of `PARCEL_DEFAULTS`, e.g. `{"lost_rate": 0.02}`; `{"realistic": 1}` sets `REALISTIC`."""
    change = dict(REALISTIC) if body.pop("realistic", None) else {}
    change.update(body)
    try:
        return set_settings(world_of(request), change)
    except (ValueError, TypeError) as error:
        raise HTTPException(422, str(error)) from error
