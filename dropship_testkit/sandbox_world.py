"""Driving and reading the simulated world directly, around the pipelines: its clock, its customers, and
what it received from us."""

from datetime import timedelta
from typing import Any

from dropship_pipelines.rules.fulfillment import supplier_order_number
from dropship_sandbox.support_messages import DAILY_RATE_META
from dropship_sandbox.world import World


def customers_write(world: World, daily_rate: float, days: float = 1.0) -> None:
    """Let simulated time pass so that customers write (at `daily_rate` per order per day)."""
    with world.lock, world.state:
        world.state.set_meta(DAILY_RATE_META, str(daily_rate))
    world.set_clock(world.now() + timedelta(days=days))
    world.advance()


def outgoing(world: World) -> list[dict[str, Any]]:
    """Every reply the sandbox helpdesk received from us (what customers got)."""
    with world.lock, world.state:
        return [m for m in world.state.all("helpdesk_message") if m["from_agent"] and m.get("public")]


def incoming(world: World) -> list[dict[str, Any]]:
    """Every message customers wrote to the sandbox helpdesk."""
    with world.lock, world.state:
        return [m for m in world.state.all("helpdesk_message") if not m["from_agent"]]


def sendable_numbers(orders: list[dict[str, Any]]) -> set[str]:
    """Supplier order numbers of the placed sandbox orders the rules let through (those without a defect)."""
    return {supplier_order_number(o["name"]) for o in orders if o["defect"] is None}
