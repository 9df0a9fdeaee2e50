"""Orders for support tests: in the store database (what the pipelines read) and in the sandbox (whose
customers then write about them)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import (
    fulfillments,
    store_order_lines,
    store_orders,
    supplier_orders,
)
from dropship_sandbox.support_messages import DAILY_RATE_META
from dropship_sandbox.world import DEFAULT_SIM_START, World

STATES = ("new", "sent", "shipped", "delivered")
FIRST_NAMES = (
    "Alex",
    "Maria",
    "Jonas",
    "Chloé",
    "Sam",
    "Lucía",
    "Emma",
    "Noah",
    "Léa",
    "Ben",
    "Mia",
    "Paul",
    "Ana",
)


@dataclass(frozen=True)
class SeededOrder:
    name: str
    email: str
    state: str
    total: Decimal
    track_number: str | None


def seed_orders(store_url: str, world: World, count: int, *, start: int = 1001) -> list[SeededOrder]:
    """`count` orders placed on the sandbox's first day, cycling through new/sent/shipped/delivered."""
    engine = get_engine(store_url)
    seeded: list[SeededOrder] = []
    with engine.begin() as conn, world.lock, world.state:
        for i in range(count):
            number = start + i
            name, email = f"#{number}", f"customer{number}@example.com"
            state = STATES[i % len(STATES)]
            total = Decimal("19.90") if i % 3 else Decimal("64.50")  # some above the refund limit
            placed = DEFAULT_SIM_START + timedelta(minutes=i)
            order_id = f"gid://shopify/Order/{number}"
            track = f"YT{number:010d}" if state in ("shipped", "delivered") else None
            conn.execute(
                sa.insert(store_orders).values(
                    order_id=order_id,
                    name=name,
                    email=email,
                    customer_name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} Doe",
                    placed_at=placed,
                    store_updated_at=placed,
                    financial_status="PAID",
                    fulfillment_status="FULFILLED" if track else "UNFULFILLED",
                    currency="USD",
                    total_price=total,
                    country_code="US",
                    state="shipped" if track else ("sent" if state == "sent" else "new"),
                )
            )
            conn.execute(
                sa.insert(store_order_lines).values(
                    line_id=f"{order_id}/1",
                    order_id=order_id,
                    title="LED Desk Lamp",
                    quantity=1,
                    unit_price=total,
                )
            )
            if state != "new":
                conn.execute(
                    sa.insert(supplier_orders).values(
                        order_number=f"shopify-{number}",
                        order_id=order_id,
                        cj_order_id=f"CJ{number}",
                        state="created",
                        supplier_status={"sent": "CREATED", "shipped": "SHIPPED", "delivered": "DELIVERED"}[
                            state
                        ],
                        track_number=track,
                        carrier="YunExpress" if track else None,
                        tracking_url=f"https://t.17track.net/en#nums={track}" if track else None,
                    )
                )
            if track:
                conn.execute(
                    sa.insert(fulfillments).values(
                        order_id=order_id,
                        state="posted",
                        track_number=track,
                        carrier="YunExpress",
                        tracking_url=f"https://t.17track.net/en#nums={track}",
                        posted_at=placed + timedelta(hours=30),
                    )
                )
            world.state.put(
                "shopify_order",
                str(number),
                {
                    "name": name,
                    "email": email,
                    "customer": {"firstName": FIRST_NAMES[i % len(FIRST_NAMES)], "lastName": "Doe"},
                    "lineItems": [{"title": "LED Desk Lamp", "quantity": 1}],
                    "createdAt": placed.isoformat(),
                },
            )
            seeded.append(SeededOrder(name, email, state, total, track))
    return seeded


def customers_write(world: World, daily_rate: float, days: float = 1.0) -> None:
    """Let simulated time pass so that customers write (at `daily_rate` per order per day)."""
    with world.lock, world.state:
        world.state.set_meta(DAILY_RATE_META, str(daily_rate))
    world.set_clock(world.now() + timedelta(days=days))
    world.advance()


def outgoing(world: World) -> list[dict]:
    """Every reply the sandbox helpdesk received from us (what customers got)."""
    with world.lock, world.state:
        return [m for m in world.state.all("helpdesk_message") if m["from_agent"] and m.get("public")]


def incoming(world: World) -> list[dict]:
    with world.lock, world.state:
        return [m for m in world.state.all("helpdesk_message") if not m["from_agent"]]


def utc(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)
