"""Purchases reported to the ad platforms: one server-side purchase event per ad-attributed order and
platform (Meta's Conversions API, TikTok's Events API), so the platforms learn which clicks bought.

- Which orders: store orders that came from an ad (`store_orders.source` meta | tiktok), not cancelled,
  placed within the platforms' 7-day acceptance window (counted back from the ad accounts' reporting day).
  Each is reported to both platforms: each attributes it to its own click, if it had one, and otherwise
  only learns about the buyer (as a store's server events do live).
- Claimed before sent: a row in `ad_purchase_events` per (order, platform) is INSERTed (`pending`) before
  the event is sent; a second run's INSERT loses, so two overlapping runs from any instances send each
  event once. A row left `pending` by a run that died (older than `CLAIM_LEASE`) or `failed` is taken by
  compare-and-set on its attempts and sent again: the platforms deduplicate on the event id (the order
  id) within 48 hours, so a resend after a lost answer is counted once there.
- The customer's email and phone leave only as SHA-256 digests (`PurchaseEvent`); logs name the order.
- The shopper's browser (user agent, IP) comes from the order's `client_details` in Shopify's
  `orders/create` webhook as the receiver recorded it (`webhook_events`): Meta requires the user agent on
  every website event. An order without one (made by staff, imported) is reported as `other`, not as a
  website event.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from dropship_pipelines.resources.ad_platforms import AdPlatform, PurchaseEvent
from dropship_pipelines.resources.errors import ApiError
from dropship_pipelines.store.ads_tables import ad_purchase_events
from dropship_pipelines.store.discovery_tables import listings
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders, webhook_events

AD_SOURCES = ("meta", "tiktok")
ORDERS_CREATE = "orders/create"
ACCEPTED_DAYS = 7  # both platforms refuse events older than this
CLAIM_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
BATCH = 500  # events per request (both take up to 1,000)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConversionsReport:
    sent: dict[str, int] = field(default_factory=dict)  # platform -> events sent this run
    claimed_elsewhere: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (platform:order, reason)


def ad_orders(conn: Connection, since: datetime) -> list[dict[str, Any]]:
    """Ad-attributed, not cancelled orders placed since `since`, with their products' pids."""
    o, lines = store_orders.c, store_order_lines.c
    rows = conn.execute(
        sa.select(o.order_id, o.placed_at, o.total_price, o.currency, o.email, o.shipping_address).where(
            o.source.in_(AD_SOURCES), o.cancelled_at.is_(None), o.placed_at >= since
        )
    ).all()
    orders = {r.order_id: dict(r._mapping) | {"pids": []} for r in rows}
    if orders:
        for order_id, pid in conn.execute(
            sa.select(lines.order_id, lines.pid).where(
                lines.order_id.in_(list(orders)), lines.pid.is_not(None)
            )
        ):
            if pid not in orders[order_id]["pids"]:
                orders[order_id]["pids"].append(pid)
        for order_id, browser in order_browsers(conn, list(orders)).items():
            orders[order_id] |= browser
    return sorted(orders.values(), key=lambda r: (r["placed_at"], r["order_id"]))


def order_browsers(conn: Connection, order_ids: list[str]) -> dict[str, dict[str, str | None]]:
    """order id -> {user_agent, client_ip} from its `orders/create` webhook's `client_details` (and
    `browser_ip`), for the orders that have one."""
    w = webhook_events.c
    found: dict[str, dict[str, str | None]] = {}
    for start in range(0, len(order_ids), BATCH):
        rows = conn.execute(
            sa.select(w.resource_id, w.payload).where(
                w.topic == ORDERS_CREATE, w.resource_id.in_(order_ids[start : start + BATCH])
            )
        )
        for resource_id, payload in rows:
            details = (payload or {}).get("client_details") or {}
            agent = details.get("user_agent") or None
            ip = details.get("browser_ip") or (payload or {}).get("browser_ip") or None
            if agent or ip:
                found[resource_id] = {"user_agent": agent, "client_ip": ip}
    return found


def purchase_event(order: Mapping[str, Any], handles: Mapping[str, str], store_url: str) -> PurchaseEvent:
    address = order.get("shipping_address") or {}
    pids = tuple(order["pids"])
    handle = handles.get(pids[0]) if pids else None
    url = f"{store_url.rstrip('/')}/products/{handle}" if handle else store_url.rstrip("/")
    placed = order["placed_at"]
    return PurchaseEvent(
        order_id=order["order_id"],
        event_time=placed if placed.tzinfo else placed.replace(tzinfo=UTC),
        value=Decimal(str(order["total_price"])),
        currency=order.get("currency") or "USD",
        url=url,
        email=order.get("email"),
        phone=address.get("phone") if isinstance(address, dict) else None,
        content_ids=pids,
        user_agent=order.get("user_agent"),
        client_ip=order.get("client_ip"),
    )


def _insert_or_nothing(conn: Connection, row: dict[str, Any]) -> bool:
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(ad_purchase_events)
    return conn.execute(insert.values(**row).on_conflict_do_nothing()).rowcount == 1


def claim(conn: Connection, event: PurchaseEvent, platform: str, run_id: str) -> bool:
    """Claim one (order, platform) event before it is sent; False: another run has (or had) it."""
    row = {
        "order_id": event.order_id,
        "platform": platform,
        "event_id": event.order_id,
        "state": "pending",
        "value": event.value,
        "currency": event.currency,
        "event_time": event.event_time,
        "attempts": 1,
        "run_id": run_id,
        "updated_at": now(),
    }
    if _insert_or_nothing(conn, row):
        return True
    t = ad_purchase_events.c
    seen = conn.execute(
        sa.select(t.state, t.attempts, t.updated_at).where(
            t.order_id == event.order_id, t.platform == platform
        )
    ).one()
    updated = seen.updated_at if seen.updated_at.tzinfo else seen.updated_at.replace(tzinfo=UTC)
    retry = seen.state == "failed" or (seen.state == "pending" and updated < now() - CLAIM_LEASE)
    if not retry or seen.attempts >= MAX_ATTEMPTS:
        return False
    taken = conn.execute(
        ad_purchase_events.update()
        .where(t.order_id == event.order_id, t.platform == platform, t.attempts == seen.attempts)
        .values(state="pending", attempts=t.attempts + 1, run_id=run_id, updated_at=now())
    )
    return taken.rowcount == 1


def _resolve(conn: Connection, platform: str, order_ids: list[str], state: str, error: str | None) -> None:
    t = ad_purchase_events.c
    values: dict[str, Any] = {"state": state, "last_error": error, "updated_at": now()}
    if state == "sent":
        values["sent_at"] = now()
    conn.execute(
        ad_purchase_events.update().where(t.platform == platform, t.order_id.in_(order_ids)).values(**values)
    )


def recent_window(conn: Connection) -> datetime | None:
    """Where the platforms' acceptance window starts, counted back from the newest ad order (the store's
    own clock, which in the sandbox is the world's, not this machine's); None without ad orders."""
    newest = conn.execute(
        sa.select(sa.func.max(store_orders.c.placed_at)).where(store_orders.c.source.in_(AD_SOURCES))
    ).scalar()
    if newest is None:
        return None
    newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    return newest - timedelta(days=ACCEPTED_DAYS)


def unreported(conn: Connection, since: datetime, platforms: list[str]) -> list[dict[str, Any]]:
    """Ad orders some platform has no sent (or in-flight) event for: the sensor's and the asset's work."""
    t = ad_purchase_events.c
    done = {
        (r.order_id, r.platform)
        for r in conn.execute(sa.select(t.order_id, t.platform).where(t.state.in_(("sent", "pending"))))
    }
    return [o for o in ad_orders(conn, since) if any((o["order_id"], p) not in done for p in platforms)]


def report_purchases(
    engine: Engine,
    platforms: Mapping[str, AdPlatform],
    store_url: str,
    *,
    reporting_day: date,
    run_id: str,
    log: logging.Logger,
) -> ConversionsReport:
    """Send every ad order's purchase event to each platform once, claimed in the ledger first."""
    since = datetime.combine(reporting_day - timedelta(days=ACCEPTED_DAYS - 1), datetime.min.time(), UTC)
    with engine.connect() as conn:
        orders = unreported(conn, since, list(platforms))
        pids = sorted({pid for o in orders for pid in o["pids"]})
        handles = dict(
            conn.execute(sa.select(listings.c.pid, listings.c.handle).where(listings.c.pid.in_(pids))).all()
        )
    events = [purchase_event(order, handles, store_url) for order in orders]
    report = ConversionsReport()
    for name, platform in platforms.items():
        claimed = []
        for event in events:
            with engine.begin() as conn:
                if claim(conn, event, name, run_id):
                    claimed.append(event)
                else:
                    report.claimed_elsewhere += 1
        report.sent[name] = 0
        for start in range(0, len(claimed), BATCH):
            batch = claimed[start : start + BATCH]
            ids = [e.order_id for e in batch]
            try:
                platform.send_purchase_events(batch)
            except (ApiError, ValueError) as error:
                with engine.begin() as conn:
                    _resolve(conn, name, ids, "failed", str(error)[:2000])
                report.failures += [(f"{name}:{i}", str(error)[:200]) for i in ids]
                log.warning("%d purchase event(s) to %s failed: %s", len(ids), name, error)
                continue
            with engine.begin() as conn:
                _resolve(conn, name, ids, "sent", None)
            report.sent[name] += len(batch)
            log.info("%d purchase event(s) sent to %s (orders %s..%s)", len(ids), name, ids[0], ids[-1])
    return report
