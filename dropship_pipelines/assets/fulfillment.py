"""Order fulfillment: store orders -> orders at the supplier -> tracking back to the customer, once each."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg

from dropship_pipelines.assets.metadata import preview_table, reasons_table
from dropship_pipelines.resources.cj import CJDropshippingResource
from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.shopify import ShopifyAdminResource, ShopifyUserError
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.rules.fulfillment import (
    OrderFacts,
    OrderLine,
    ShippingChoice,
    carrier_phone,
    choose_shipping,
    order_problem,
    supplier_order_number,
    tracking_url,
)
from dropship_pipelines.store import fulfillment_queries as q

GROUP = "fulfillment"
OWNERS = ["team:store"]
ORDERS_CURSOR = "shopify_orders_updated_at"
DUPLICATE_ORDER = 1603003  # CJ: "Order exist, please do not duplicate create"
SHIPPED = ("SHIPPED", "DELIVERED")


class StoreOrdersConfig(dg.Config):
    # Re-read this much before the cursor: same-second updates, the search index trailing writes by seconds,
    # clock skew. Not more: every order changed in the overlap (our own fulfillments too) is read again on
    # each run, at ~11 Shopify points per order (10 minutes after a 1,000-order burst: ~110 s a run).
    overlap_minutes: int = 2
    page_size: int = 20  # x lineItems(first: 10) keeps a page under Shopify's 1,000-point query cap


class SupplierOrdersConfig(dg.Config):
    max_orders_per_run: int = 2000
    max_shipping_days: int = 15
    value_of_a_day: float = 0.50  # USD a faster route may cost per worst-case transit day saved
    quote_max_age_hours: int = 24
    pay_with_balance: bool = True  # payType 2: CJ pays from the account balance and ships


class TrackingConfig(dg.Config):
    batch_size: int = 100  # supplier orders per `/shopping/order/list` call
    max_attempts: int = 5  # fulfillment posts refused this often wait for a human


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _order_rows(
    node: dict[str, Any], by_variant: dict[str, tuple[str, str]], by_sku: dict[str, tuple[str, str]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    address = node.get("shippingAddress")
    customer = node.get("customer") or {}
    source = next((t[7:] for t in node.get("tags") or [] if t.startswith("source:")), "organic")
    order = {
        "order_id": node["id"],
        "name": node["name"],
        "email": node.get("email"),
        "customer_name": " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
        or None,
        "placed_at": _parse_time(node["createdAt"]),
        "store_updated_at": _parse_time(node["updatedAt"]),
        "financial_status": node.get("displayFinancialStatus") or "UNKNOWN",
        "fulfillment_status": node.get("displayFulfillmentStatus") or "UNFULFILLED",
        "cancelled_at": _parse_time(node["cancelledAt"]) if node.get("cancelledAt") else None,
        "currency": node["totalPriceSet"]["shopMoney"]["currencyCode"],
        "total_price": Decimal(node["totalPriceSet"]["shopMoney"]["amount"]),
        "shipping_address": address,
        "country_code": (address or {}).get("countryCodeV2"),
        "state": "new",
        "problem": None,
        "source": source[:16],
    }
    lines = []
    for line in node["lineItems"]["nodes"]:
        variant_id = (line.get("variant") or {}).get("id")
        mapped = by_variant.get(variant_id or "") or by_sku.get(line.get("sku") or "")
        lines.append(
            {
                "line_id": line["id"],
                "order_id": node["id"],
                "store_variant_id": variant_id,
                "sku": line.get("sku"),
                "title": (line.get("name") or "")[:300],
                "quantity": int(line["quantity"]),
                "unit_price": Decimal(line["originalUnitPriceSet"]["shopMoney"]["amount"]),
                "vid": mapped[0] if mapped else None,
                "pid": mapped[1] if mapped else None,
            }
        )
    return order, lines


@dg.asset(group_name=GROUP, kinds={"python", "shopify"}, owners=OWNERS, pool="shopify")
def store_orders(
    context: dg.AssetExecutionContext,
    config: StoreOrdersConfig,
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Every order placed on the Shopify store, read incrementally by last change.

    The cursor is the newest `updatedAt` seen; each run re-reads an overlap before it, so orders that
    share a second with the cursor or land on a page boundary are never skipped (re-reads are upserts)."""
    engine = store_db.engine()
    with engine.connect() as conn:
        cursor = q.get_cursor(conn, ORDERS_CURSOR)
        by_variant, by_sku = q.variant_map(conn)
    since = _iso(_parse_time(cursor) - timedelta(minutes=config.overlap_minutes)) if cursor else None
    newest = _parse_time(cursor) if cursor else None
    seen, new_rows, unmapped = 0, [], 0
    batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    def flush() -> None:
        nonlocal unmapped
        if not batch:
            return
        orders = [o for o, _ in batch]
        with engine.begin() as conn:
            known = q.known_order_ids(conn, [o["order_id"] for o in orders])
            q.save_orders(conn, orders, [line for _, lines in batch for line in lines])
        for order, lines in batch:
            if order["order_id"] not in known:
                new_rows.append(order)
                unmapped += sum(1 for line in lines if not line["vid"])
        batch.clear()

    for node in shopify.orders_since(since, config.page_size):
        seen += 1
        batch.append(_order_rows(node, by_variant, by_sku))
        updated = _parse_time(node["updatedAt"])
        newest = updated if newest is None or updated > newest else newest
        if len(batch) >= 200:
            flush()
    flush()
    if newest is not None:
        with engine.begin() as conn:
            q.set_cursor(conn, ORDERS_CURSOR, _iso(newest))
    for order in new_rows[:50]:
        context.log.info("order %s (%s): new, from %s", order["name"], order["order_id"], order["source"])
    with engine.connect() as conn:
        states = q.state_counts(conn)
    return dg.MaterializeResult(
        metadata={
            "read": seen,
            "new": len(new_rows),
            "unmapped_lines": unmapped,
            "cursor": _iso(newest) if newest else "",
            "by_state": dg.MetadataValue.json(states),
            "new_orders": preview_table(
                [{**o, "total": o["total_price"]} for o in new_rows[:10]],
                ("name", "order_id", "placed_at", "total", "country_code", "source"),
            ),
        }
    )


def _facts(order: dict[str, Any], lines: list[OrderLine]) -> OrderFacts:
    return OrderFacts(
        order_id=order["order_id"],
        name=order["name"],
        financial_status=order["financial_status"],
        cancelled=order["cancelled_at"] is not None,
        address=order["shipping_address"],
        lines=tuple(lines),
    )


def _cj_order(
    order: dict[str, Any], number: str, lines: list[OrderLine], route: str, pay: bool
) -> dict[str, Any]:
    address = order["shipping_address"]
    return {
        "orderNumber": number,
        "shippingZip": address.get("zip") or "",
        "shippingCountryCode": address["countryCodeV2"],
        "shippingCountry": address.get("country") or address["countryCodeV2"],
        "shippingProvince": address.get("province") or address.get("provinceCode") or address["city"],
        "shippingCity": address["city"],
        "shippingCounty": "",
        "shippingPhone": carrier_phone(address.get("phone") or ""),
        "shippingCustomerName": address["name"],
        "shippingAddress": address["address1"],
        "shippingAddress2": address.get("address2") or "",
        "email": order.get("email") or "",
        "remark": "",
        "payType": 2 if pay else 3,
        "shopAmount": float(order["total_price"]),
        "logisticName": route,
        "fromCountryCode": "CN",
        "platform": "shopify",
        "iossType": 1,
        "products": [
            {"vid": line.vid, "quantity": line.quantity, "storeLineItemId": line.line_id} for line in lines
        ],
    }


def _route(
    cj: CJDropshippingResource,
    store_db: StoreDatabase,
    config: SupplierOrdersConfig,
    country: str,
    lines: list[OrderLine],
) -> ShippingChoice | None:
    basket = sorted((line.vid or "", line.quantity) for line in lines)
    key = f"{country}|" + ",".join(f"{vid}:{qty}" for vid, qty in basket)
    engine = store_db.engine()
    with engine.connect() as conn:
        options = q.freight_quote(conn, key, q.now() - timedelta(hours=config.quote_max_age_hours))
    if options is None:
        quoted = cj.freight_for_order(country, [{"vid": vid, "quantity": qty} for vid, qty in basket])
        options = [
            {"name": o.name, "price": str(o.price), "days_min": o.days[0], "days_max": o.days[1]}
            for o in quoted
        ]
        with engine.begin() as conn:
            q.save_freight_quote(conn, key, options)
    choices = [ShippingChoice(o["name"], Decimal(o["price"]), o["days_min"], o["days_max"]) for o in options]
    return choose_shipping(choices, config.max_shipping_days, Decimal(str(config.value_of_a_day)))


@dg.asset(group_name=GROUP, kinds={"python", "cj"}, owners=OWNERS, pool="cj", deps=[store_orders])
def supplier_orders(
    context: dg.AssetExecutionContext,
    config: SupplierOrdersConfig,
    cj: CJDropshippingResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Each sendable store order placed once at the supplier (CJ), paid from the balance, on the best route.

    The supplier order number is derived from the store order ("#1001" -> "shopify-1001") and the ledger
    row is written before CJ is called. A row found pending means an earlier run may have died after CJ
    accepted: CJ is asked for that number first, and CJ's own "order exists" (1603003) is read the same
    way, so no order ever reaches the supplier twice. Orders that cannot be sent are held with a reason."""
    engine = store_db.engine()
    with engine.connect() as conn:
        work = q.orders_to_send(conn, config.max_orders_per_run)
        by_variant, by_sku = q.variant_map(conn)
    sent: list[dict[str, Any]] = []
    held: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    recovered = 0
    for order in work:
        lines = []
        for line in order["lines"]:
            mapped = by_variant.get(line["store_variant_id"] or "") or by_sku.get(line["sku"] or "")
            vid = mapped[0] if mapped else None
            if vid != line["vid"]:
                with engine.begin() as conn:
                    q.set_line_mapping(conn, line["line_id"], vid, mapped[1] if mapped else None)
            lines.append(OrderLine(line["line_id"], line["sku"], line["quantity"], vid))
        problem = order_problem(_facts(order, lines))
        if problem:
            if order["problem"] != problem:
                with engine.begin() as conn:
                    q.hold_order(conn, order["order_id"], problem)
                context.log.warning("order %s (%s): held: %s", order["name"], order["order_id"], problem)
            held.append((order["name"], problem))
            continue
        number = supplier_order_number(order["name"])
        with engine.connect() as conn:
            ledger = q.supplier_order(conn, number)
        try:
            if ledger is not None:
                # Sent before and not confirmed: the supplier may already have it.
                existing = cj.order_detail(number)
                if existing is not None:
                    with engine.begin() as conn:
                        q.finish_supplier_order(conn, number, order["order_id"], existing)
                    recovered += 1
                    context.log.info(
                        "order %s: already at the supplier as %s", number, existing.get("orderId")
                    )
                    continue
            route = _route(cj, store_db, config, order["shipping_address"]["countryCodeV2"], lines)
        except PermanentApiError as error:
            with engine.begin() as conn:
                q.hold_order(conn, order["order_id"], f"no shipping quote: {error}"[:2000])
            held.append((order["name"], f"no shipping quote: {error}"[:200]))
            continue
        except ApiError as error:
            failed.append((order["name"], str(error)[:200]))
            context.log.warning("order %s: supplier unavailable, next run retries: %s", number, error)
            continue
        if route is None:
            reason = f"no shipping route to {order['shipping_address']['countryCodeV2']}"
            with engine.begin() as conn:
                q.hold_order(conn, order["order_id"], reason)
            held.append((order["name"], reason))
            continue
        with engine.begin() as conn:
            q.begin_supplier_order(conn, number, order["order_id"], route.name)
        payload = _cj_order(order, number, lines, route.name, config.pay_with_balance)
        try:
            try:
                created = cj.create_order(payload)
            except PermanentApiError as error:
                if error.code != DUPLICATE_ORDER:
                    raise
                # An earlier attempt whose answer was lost got through: read the order CJ has.
                created = cj.order_detail(number)
                if created is None:
                    raise
                recovered += 1
        except ApiError as error:
            permanent = isinstance(error, PermanentApiError)
            with engine.begin() as conn:
                q.fail_supplier_order(conn, number, order["order_id"], str(error), permanent=permanent)
            (held if permanent else failed).append((order["name"], str(error)[:200]))
            context.log.warning(
                "order %s: supplier %s: %s",
                number,
                "refused" if permanent else "unavailable, will retry",
                error,
            )
            continue
        with engine.begin() as conn:
            q.finish_supplier_order(conn, number, order["order_id"], created)
        sent.append(
            {
                "order_number": number,
                "cj_order_id": created.get("orderId"),
                "route": route.name,
                "cost": created.get("orderAmount"),
                "customer_paid": order["total_price"],
            }
        )
        context.log.info(
            "order %s: placed at the supplier as %s via %s", number, created.get("orderId"), route.name
        )
    return dg.MaterializeResult(
        metadata={
            "candidates": len(work),
            "sent": len(sent),
            "recovered": recovered,
            "held": len(held),
            "failed_will_retry": len(failed),
            "held_orders": reasons_table(held[:20], ("order", "reason")),
            "failures": reasons_table(failed[:20], ("order", "error")),
            "preview": preview_table(
                sent[:10], ("order_number", "cj_order_id", "route", "cost", "customer_paid")
            ),
        }
    )


def _existing_fulfillment(order: dict[str, Any], track: str) -> dict[str, Any] | None:
    """The store's fulfillment carrying our tracking number, if the order has one."""
    return next(
        (f for f in order["fulfillments"] if any(t.get("number") == track for t in f["trackingInfo"])), None
    )


def _fulfil(
    context: dg.AssetExecutionContext,
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
    row: dict[str, Any],
) -> str:
    """Post one fulfillment with tracking; "posted", "found" (already on the store) or "failed"."""
    engine = store_db.engine()
    order_id, track = row["order_id"], row["track_number"]
    url = tracking_url(row["carrier"], track, row["tracking_url"])
    with engine.begin() as conn:
        q.begin_fulfillment(conn, order_id, track, row["carrier"], url)
    try:
        order = shopify.fulfillment_orders(order_id)
        if order is None:
            raise PermanentApiError("shopify", f"order {order_id} not found on the store")
        open_ids = [
            fo["id"] for fo in order["fulfillmentOrders"]["nodes"] if fo["status"] in ("OPEN", "IN_PROGRESS")
        ]
        if not open_ids:
            # Nothing left to fulfil: an earlier run posted it and died before recording it.
            done = _existing_fulfillment(order, track)
            if done is None:
                raise PermanentApiError("shopify", f"order {order_id} has no open fulfillment order")
            with engine.begin() as conn:
                q.finish_fulfillment(conn, order_id, done["id"], notified=True)
            return "found"
        try:
            result = shopify.create_fulfillment(
                open_ids,
                {"company": row["carrier"], "number": track, "url": url},
                notify_customer=True,
                message="Shipped by our supplier",
            )
        except ShopifyUserError:
            # A retried post whose first answer was lost is refused as "not open": read what is there.
            result = _existing_fulfillment(shopify.fulfillment_orders(order_id) or order, track)
            if result is None:
                raise
    except ApiError as error:
        permanent = isinstance(error, (PermanentApiError, ShopifyUserError))
        with engine.begin() as conn:
            q.fail_fulfillment(conn, order_id, str(error), permanent=permanent)
        context.log.warning("order %s: fulfillment not posted: %s", order_id, error)
        return "failed"
    with engine.begin() as conn:
        q.finish_fulfillment(conn, order_id, result["id"], notified=True)
    context.log.info("order %s: fulfilled with tracking %s, customer notified", order_id, track)
    return "posted"


@dg.asset(
    group_name=GROUP, kinds={"python", "cj", "shopify"}, owners=OWNERS, pool="shopify", deps=[supplier_orders]
)
def shipment_tracking(
    context: dg.AssetExecutionContext,
    config: TrackingConfig,
    cj: CJDropshippingResource,
    shopify: ShopifyAdminResource,
    store_db: StoreDatabase,
) -> dg.MaterializeResult:
    """Tracking numbers from the supplier, posted once per order to the store, which emails the customer.

    Supplier orders are polled in batches; a shipped one gets a fulfillment with its tracking number and
    `notifyCustomer`. The ledger row is written first and the store's own fulfillment orders are read
    before posting, so a run killed after Shopify accepted never fulfils (or emails) twice."""
    engine = store_db.engine()
    with engine.connect() as conn:
        awaiting = q.orders_awaiting_shipment(conn)
    by_cj = {r["cj_order_id"]: r for r in awaiting if r["cj_order_id"]}
    ids = list(by_cj)
    poll_errors = 0
    for start in range(0, len(ids), config.batch_size):
        try:
            details = cj.orders_by_ids(ids[start : start + config.batch_size])
        except ApiError as error:
            poll_errors += 1
            context.log.warning("supplier status poll failed, next run retries: %s", error)
            continue
        with engine.begin() as conn:
            for detail in details:
                row = by_cj.get(detail.get("orderId"))
                if row is None:
                    continue
                if (detail.get("orderStatus"), detail.get("trackNumber")) != (
                    row["supplier_status"],
                    row["track_number"],
                ):
                    q.update_supplier_status(conn, row["order_number"], detail, detail.get("logisticName"))
                row.update(
                    supplier_status=detail.get("orderStatus"),
                    track_number=detail.get("trackNumber") or None,
                    carrier=detail.get("logisticName"),
                    tracking_url=detail.get("trackingUrl") or None,
                )
    outcomes: dict[str, int] = {"posted": 0, "found": 0, "failed": 0}
    shipped = []
    for row in awaiting:
        if row["supplier_status"] not in SHIPPED or not row["track_number"]:
            continue
        with engine.connect() as conn:
            ledger = q.fulfillment(conn, row["order_id"])
        if ledger is not None and ledger["state"] == "failed" and ledger["attempts"] >= config.max_attempts:
            continue
        outcome = _fulfil(context, shopify, store_db, row)
        outcomes[outcome] += 1
        shipped.append({"order_id": row["order_id"], "track_number": row["track_number"], "outcome": outcome})
    statuses: dict[str, int] = {}
    for row in awaiting:
        statuses[row["supplier_status"] or "unknown"] = (
            statuses.get(row["supplier_status"] or "unknown", 0) + 1
        )
    return dg.MaterializeResult(
        metadata={
            "awaiting_shipment": len(awaiting),
            "supplier_status": dg.MetadataValue.json(statuses),
            "fulfilled": outcomes["posted"],
            "already_fulfilled": outcomes["found"],
            "failed": outcomes["failed"],
            "poll_errors": poll_errors,
            "preview": preview_table(shipped[:10], ("order_id", "track_number", "outcome")),
        }
    )
