"""The store's customers: orders for listed products, organic (price and appeal) or ad-driven.

`place_order` is the one way an order comes into the world; the organic `OrderSimulator` and the ad
platforms' simulators both call it. Orders are Shopify documents (kind `shopify_order`) with GIDs, one
fulfillment order each, and an `orders/create` webhook queued for delivery when a target is configured.
"""

import json
import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from dropship_sandbox.order_aftermath import draw_store_fate
from dropship_sandbox.order_risk import assess
from dropship_sandbox.world import World

ORDER_NUMBER_START = 1000  # the first order is "#1001", as in a new Shopify store
CHECKOUT_CLOSED = "orders:checkout_closed"  # "1": no order is placed (organic, ads or control)
BAD_ORDER_RATE = 0.04  # share of orders a real store gets that cannot be sent as they are
ORGANIC_BASE_PER_HOUR = 0.04  # expected orders per hour of a product of average appeal at $25
API_VERSION = "2026-10"

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas", "Mia",
    "Mateo", "Amelia", "Ethan", "Harper", "Chloe", "Daniel", "Grace", "Hannah", "Jack", "Lena", "Jonas",
    "Priya", "Wei", "Aisha", "Diego", "Sofia", "Kenji", "Fatima", "Oliver",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Young", "Schmidt", "Muller", "Patel", "Nguyen", "Kim", "O'Brien",
)  # fmt: skip
STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Pine Rd", "Lakeview Dr", "Hillcrest Ave",
    "Park Blvd", "Sunset Ave", "River Rd", "Church St",
)  # fmt: skip
# (city, province, province code, zip, phone prefix) by country
PLACES: dict[str, tuple[str, float, tuple[tuple[str, str, str, str, str], ...]]] = {
    "US": (
        "United States",
        0.74,
        (
            ("Austin", "Texas", "TX", "78701", "+1512555"),
            ("Denver", "Colorado", "CO", "80202", "+1303555"),
            ("Seattle", "Washington", "WA", "98101", "+1206555"),
            ("Columbus", "Ohio", "OH", "43215", "+1614555"),
            ("Orlando", "Florida", "FL", "32801", "+1407555"),
            ("Brooklyn", "New York", "NY", "11201", "+1718555"),
            ("San Diego", "California", "CA", "92101", "+1619555"),
            ("Nashville", "Tennessee", "TN", "37203", "+1615555"),
        ),
    ),
    "CA": (
        "Canada",
        0.08,
        (
            ("Toronto", "Ontario", "ON", "M5V 2T6", "+1416555"),
            ("Vancouver", "British Columbia", "BC", "V6B 1A1", "+1604555"),
        ),
    ),
    "GB": (
        "United Kingdom",
        0.07,
        (
            ("London", "England", "ENG", "SW1A 1AA", "+44207946"),
            ("Manchester", "England", "ENG", "M1 1AE", "+44161496"),
        ),
    ),
    "DE": (
        "Germany",
        0.06,
        (("Berlin", "Berlin", "BE", "10115", "+4930901"), ("Munich", "Bavaria", "BY", "80331", "+4989901")),
    ),
    "AU": (
        "Australia",
        0.05,
        (
            ("Sydney", "New South Wales", "NSW", "2000", "+61291"),
            ("Melbourne", "Victoria", "VIC", "3000", "+61391"),
        ),
    ),
}
DEFECTS = ("unknown_sku", "no_address", "no_phone", "unsupported_country")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _pid_of(product: dict[str, Any]) -> str | None:
    return next((t[4:] for t in product.get("tags", []) if t.startswith("pid:")), None)


def _on_sale(product: dict[str, Any]) -> list[dict[str, Any]]:
    """The variants a customer can buy: Shopify's checkout refuses the others."""
    from dropship_sandbox.apis.shopify.products import available_for_sale  # products imports the world

    return [
        v for v in product.get("variants") or [] if available_for_sale(v, product.get("status", "ACTIVE"))
    ]


def listed_products(world: World) -> dict[str, dict[str, Any]]:
    """Active store products that came from the supplier and have a variant for sale, by CJ pid."""
    found = {}
    for product in world.state.all("shopify_product"):
        pid = _pid_of(product)
        if pid and product.get("status", "ACTIVE") == "ACTIVE" and _on_sale(product):
            found[pid] = product
    return found


def _count_unshippable(world: World, pid: str, lines: list[dict[str, Any]]) -> None:
    """Ground truth for the audit: a line of a variant the supplier has too few units of (or a product it no
    longer sells) is a sale that cannot be shipped. The catalog sync exists to keep this at zero."""
    supplier = world.state.get("cj_product", pid) or {}
    by_sku = {v["variantSku"]: v for v in supplier.get("variants") or []}
    for line in lines:
        variant = by_sku.get(line.get("sku") or "")
        if variant is None:
            continue
        if int(variant.get("inventoryNum") or 0) < line["quantity"] or supplier.get("saleStatus") != 3:
            world.state.audit_increment("oos_sales", variant["vid"])


def _address(rng: random.Random, country: str, first: str, last: str) -> dict[str, Any]:
    name, _, places = PLACES[country]
    city, province, code, zip_code, phone = rng.choice(places)
    return {
        "name": f"{first} {last}",
        "firstName": first,
        "lastName": last,
        "address1": f"{rng.randint(1, 9800)} {rng.choice(STREETS)}",
        "address2": f"Apt {rng.randint(1, 40)}" if rng.random() < 0.25 else None,
        "city": city,
        "province": province,
        "provinceCode": code,
        "zip": zip_code,
        "country": name,
        "countryCodeV2": country,
        "phone": f"{phone}{rng.randint(1000, 9999)}",
    }


def _country(rng: random.Random) -> str:
    roll = rng.random()
    for code, (_, share, _) in PLACES.items():
        if roll < share:
            return code
        roll -= share
    return "US"


def _lines(
    world: World, product: dict[str, Any], rng: random.Random, defect: str | None
) -> list[dict[str, Any]]:
    variants = _on_sale(product)
    count = 1 if rng.random() < 0.78 else min(len(variants), rng.randint(2, 3))
    chosen = rng.sample(variants, max(1, count))
    lines = []
    for variant in chosen:
        lines.append(
            {
                "id": world.new_id("line_item", 13_000_000_000_000),
                "title": product["title"],
                "variantTitle": variant.get("title"),
                "name": f"{product['title']} - {variant.get('title')}",
                "sku": variant.get("sku"),
                "variantId": variant["id"],
                "productId": product["id"],
                "quantity": 1 if rng.random() < 0.85 else 2,
                "price": variant.get("price") or "0.00",
            }
        )
    if defect == "unknown_sku":
        # A line the supplier does not know: a variant removed from the store after checkout opened.
        lines.append(
            {
                "id": world.new_id("line_item", 13_000_000_000_000),
                "title": "Gift Wrap",
                "variantTitle": "Default Title",
                "name": "Gift Wrap",
                "sku": f"CUSTOM-{rng.randint(100, 999)}",
                "variantId": None,
                "productId": None,
                "quantity": 1,
                "price": "2.99",
            }
        )
    return lines


def place_order(
    world: World, pid: str, placed_at: datetime, source: str, rng: random.Random
) -> dict[str, Any] | None:
    """A customer orders the listed store product of CJ product `pid`; None if it is not listed.

    `rng` draws the customer, address and basket, so a caller seeding it per (entity, time bucket)
    gets the same order on every replay. `source` is "organic", "meta" or "tiktok".
    """
    with world.lock, world.state:
        if world.state.meta(CHECKOUT_CLOSED) == "1":  # the soak's settle phase: no new customers
            return None
        product = listed_products(world).get(pid)
        if product is None:
            return None
        defect = rng.choice(DEFECTS) if rng.random() < BAD_ORDER_RATE else None
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country = "BR" if defect == "unsupported_country" else _country(rng)
        if country == "BR":
            address: dict[str, Any] | None = {
                "name": f"{first} {last}",
                "firstName": first,
                "lastName": last,
                "address1": f"Rua das Flores {rng.randint(1, 999)}",
                "address2": None,
                "city": "Sao Paulo",
                "province": "Sao Paulo",
                "provinceCode": "SP",
                "zip": "01310-100",
                "country": "Brazil",
                "countryCodeV2": "BR",
                "phone": f"+5511955{rng.randint(10000, 99999)}",
            }
        else:
            address = _address(rng, country, first, last)
        if defect == "no_address":
            address = None
        elif defect == "no_phone" and address is not None:
            address["phone"] = None
        lines = _lines(world, product, rng, defect)
        _count_unshippable(world, pid, lines)
        subtotal = sum(Decimal(line["price"]) * line["quantity"] for line in lines)
        shipping = Decimal("0.00") if subtotal >= 35 else Decimal("4.99")
        number = world.new_id("order_number", ORDER_NUMBER_START)
        order_id = world.new_id("order", 5_600_000_000_000)
        stamp = iso(placed_at)
        email_user = f"{first}.{last}".lower().replace("'", "")
        doc: dict[str, Any] = {
            "id": order_id,
            "name": f"#{number}",
            "number": number,
            "email": f"{email_user}{rng.randint(1, 99)}@example.com",
            "phone": address["phone"] if address else None,
            "customer": {
                "id": world.new_id("customer", 7_000_000_000_000),
                "firstName": first,
                "lastName": last,
            },
            "createdAt": stamp,
            "updatedAt": stamp,
            "processedAt": stamp,
            "cancelledAt": None,
            "displayFinancialStatus": "PAID",
            "displayFulfillmentStatus": "UNFULFILLED",
            "currencyCode": "USD",
            "subtotalPrice": f"{subtotal:.2f}",
            "shippingPrice": f"{shipping:.2f}",
            "totalPrice": f"{subtotal + shipping:.2f}",
            "shippingAddress": address,
            "lineItems": lines,
            "sourceName": "web",
            "tags": [f"source:{source}"],
            "source": source,
            "fulfillmentOrders": [
                {
                    "id": world.new_id("fulfillment_order", 6_100_000_000_000),
                    "status": "OPEN",
                    "requestStatus": "UNSUBMITTED",
                    "lineItems": [
                        {
                            "id": world.new_id("fulfillment_order_line", 12_700_000_000_000),
                            "lineItemId": line["id"],
                            "totalQuantity": line["quantity"],
                            "remainingQuantity": line["quantity"],
                        }
                        for line in lines
                    ],
                }
            ],
            "fulfillments": [],
            "_sim": {"defect": defect, "pid": pid, "browser": shopper_browser(world, order_id)},
        }
        from dropship_sandbox.parcels import record_payment  # parcels imports the API pipeline

        record_payment(world, doc)  # the gateway, its fees and the presentment currency, drawn once
        assess(world, doc)  # Shopify's risk assessment and address validation of the new order
        world.state.put("shopify_order", str(order_id), doc)
        draw_store_fate(world, doc)  # a cancellation within hours, a refund, a chargeback (order_aftermath)
        for fo in doc["fulfillmentOrders"]:
            world.state.put("shopify_fulfillment_order", str(fo["id"]), {"order_id": str(order_id)})
        world.state.audit_increment("orders_placed", f"gid://shopify/Order/{order_id}")
        from dropship_sandbox.webhooks import queue_webhook  # imported here: webhooks imports this module

        queue_webhook(world, "orders/create", rest_payload(world, doc))
        return doc


USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
)


def shopper_browser(world: World, order_id: int) -> dict[str, str]:
    """The browser the order was placed from (Shopify's `client_details`): its own seeded draw, so the
    order's other draws are unchanged. Documentation addresses (RFC 5737), never a real shopper's."""
    rng = world.rng("shopper_browser", order_id)
    return {
        "browser_ip": f"203.0.113.{rng.randint(1, 254)}",
        "user_agent": rng.choice(USER_AGENTS),
        "accept_language": "en-US,en;q=0.9",
    }


def rest_payload(world: World, doc: dict[str, Any]) -> dict[str, Any]:
    """The order as the `orders/create` webhook carries it: REST field names, numeric ids, and the
    shopper's browser (`browser_ip`, `client_details`) as Shopify records it for an online order."""
    address = doc["shippingAddress"]
    browser = (doc.get("_sim") or {}).get("browser") or {}
    return {
        "id": doc["id"],
        "browser_ip": browser.get("browser_ip"),
        "client_details": {
            "browser_ip": browser.get("browser_ip"),
            "user_agent": browser.get("user_agent"),
            "accept_language": browser.get("accept_language"),
            "browser_height": None,
            "browser_width": None,
            "session_hash": None,
        }
        if browser
        else None,
        "admin_graphql_api_id": f"gid://shopify/Order/{doc['id']}",
        "name": doc["name"],
        "order_number": doc["number"],
        "email": doc["email"],
        "phone": doc["phone"],
        "created_at": doc["createdAt"],
        "updated_at": doc["updatedAt"],
        "processed_at": doc["processedAt"],
        "cancelled_at": None,
        "currency": doc["currencyCode"],
        "subtotal_price": doc["subtotalPrice"],
        "total_price": doc["totalPrice"],
        "financial_status": doc["displayFinancialStatus"].lower(),
        "fulfillment_status": None,
        "source_name": doc["sourceName"],
        "tags": ", ".join(doc["tags"]),
        "customer": {
            "id": doc["customer"]["id"],
            "first_name": doc["customer"]["firstName"],
            "last_name": doc["customer"]["lastName"],
        },
        "line_items": [
            {
                "id": line["id"],
                "admin_graphql_api_id": f"gid://shopify/LineItem/{line['id']}",
                "variant_id": line["variantId"],
                "product_id": line["productId"],
                "sku": line["sku"],
                "name": line["name"],
                "title": line["title"],
                "quantity": line["quantity"],
                "price": line["price"],
            }
            for line in doc["lineItems"]
        ],
        "shipping_address": None
        if address is None
        else {
            "name": address["name"],
            "first_name": address["firstName"],
            "last_name": address["lastName"],
            "address1": address["address1"],
            "address2": address["address2"],
            "city": address["city"],
            "province": address["province"],
            "province_code": address["provinceCode"],
            "zip": address["zip"],
            "country": address["country"],
            "country_code": address["countryCodeV2"],
            "phone": address["phone"],
        },
    }


def _hours(start: datetime, end: datetime) -> list[datetime]:
    first = start.replace(minute=0, second=0, microsecond=0)
    count = math.ceil((end - first).total_seconds() / 3600)
    return [first + timedelta(hours=h) for h in range(max(count, 0))]


def organic_rate(price: float, appeal: float) -> float:
    """Expected organic orders per hour: appeal lifts it, price lowers it (elasticity ~1)."""
    return ORGANIC_BASE_PER_HOUR * (appeal / 0.29) * min(3.0, 25.0 / max(price, 1.0))


def _poisson(rng: random.Random, mean: float) -> int:
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


class OrderSimulator:
    """Organic orders for every listed product, drawn per (product, simulated hour)."""

    name = "shop_orders"

    def advance(self, world: World, start: datetime, end: datetime) -> None:
        multiplier = float(world.state.meta("orders:organic_multiplier", "1") or 1)
        if multiplier <= 0:
            return
        products = listed_products(world)
        if not products:
            return
        for hour in _hours(start, end):
            for pid, product in products.items():
                listed_at = datetime.fromisoformat(product["createdAt"].replace("Z", "+00:00"))
                supplier = world.state.get("cj_product", pid) or {}
                appeal = float((supplier.get("_sim") or {}).get("appeal", 0.29))
                price = min(float(v.get("price") or 0) or 25.0 for v in product["variants"])
                rng = world.rng("organic_orders", pid, hour.isoformat())
                for _ in range(_poisson(rng, organic_rate(price, appeal) * multiplier)):
                    placed_at = hour + timedelta(seconds=rng.uniform(0, 3600))
                    customer_rng = random.Random(rng.getrandbits(64))
                    if start <= placed_at < end and placed_at >= listed_at:
                        place_order(world, pid, placed_at, "organic", customer_rng)


def set_organic_multiplier(world: World, multiplier: float) -> None:
    with world.lock, world.state:
        world.state.set_meta("orders:organic_multiplier", json.dumps(float(multiplier)))
