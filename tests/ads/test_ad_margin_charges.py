"""Ad margins from what CJ actually charged (`supplier_costs`) where it has charged, else the listing's
quote: against a real store database, through the optimiser's own judgement."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dropship_pipelines.rules.pricing import PriceRule
from dropship_pipelines.services import ads
from dropship_pipelines.store import ad_margin_queries as margin_q
from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.discovery_tables import listings
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders
from dropship_pipelines.store.profit_tables import supplier_costs
from tests.ads.test_ads_service import POLICY, seed_campaign, seed_days

PLACED = datetime(2026, 11, 5, 12, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return get_engine(f"sqlite:///{tmp_path}/store.db")


def seed_listing(engine: Engine, pid: str) -> None:
    """At $40 from a quote of $14 + $4.84 shipping (breakeven ROAS 2.03 on the quote)."""
    with engine.begin() as conn:
        conn.execute(
            listings.insert().values(
                pid=pid,
                handle=pid.lower(),
                status="listed",
                title=pid,
                price=Decimal("40"),
                unit_cost=Decimal("14"),
                shipping_cost=Decimal("4.84"),
            )
        )


def seed_order(
    engine: Engine,
    n: int,
    lines: list[tuple[str, int]],
    charged: tuple[str, str] | None,
    cancelled: bool = False,
) -> None:
    order_id = f"gid://shopify/Order/{n}"
    with engine.begin() as conn:
        conn.execute(
            store_orders.insert().values(
                order_id=order_id,
                name=f"#{1000 + n}",
                placed_at=PLACED,
                store_updated_at=PLACED,
                financial_status="PAID",
                fulfillment_status="FULFILLED",
                cancelled_at=PLACED if cancelled else None,
                total_price=Decimal("40") * sum(q for _, q in lines),
                state="shipped",
                source="meta",
            )
        )
        for i, (pid, quantity) in enumerate(lines):
            conn.execute(
                store_order_lines.insert().values(
                    line_id=f"{order_id}/{i}",
                    order_id=order_id,
                    quantity=quantity,
                    unit_price=Decimal("40"),
                    pid=pid,
                )
            )
        if charged:
            conn.execute(
                supplier_costs.insert().values(
                    order_number=f"S{n}",
                    order_id=order_id,
                    product_amount=Decimal(charged[0]),
                    postage_amount=Decimal(charged[1]),
                )
            )


def test_margins_use_cj_charges_where_present_and_fall_back_to_the_quote(engine: Engine) -> None:
    seed_listing(engine, "P1")
    seed_listing(engine, "P2")
    seed_order(engine, 1, [("P1", 1)], ("20", "6"))  # CJ charged more than the quote after weighing
    seed_order(engine, 2, [("P1", 2)], ("36", "10"))
    seed_order(engine, 3, [("P1", 1), ("P2", 1)], ("90", "40"))  # one charge for two products: no owner
    seed_order(engine, 4, [("P1", 1)], ("99", "99"), cancelled=True)
    seed_order(engine, 5, [("P1", 1)], None)  # not charged yet
    seed_order(engine, 6, [("P2", 1)], None)
    with engine.connect() as conn:
        margins = margin_q.product_margins(conn, PriceRule(), ["P1", "P2"])
    charged, quoted = margins["P1"], margins["P2"]
    # (20 + 36) / 3 units, (6 + 10) / 3 units.
    assert (charged.supplier_cost, charged.shipping) == (Decimal("18.67"), Decimal("5.33"))
    assert charged.basis == "supplier charges (2 orders)"
    assert (quoted.supplier_cost, quoted.shipping) == (Decimal("14"), Decimal("4.84"))
    assert quoted.basis == "listing"
    assert charged.breakeven_roas is not None and quoted.breakeven_roas is not None
    assert charged.breakeven_roas > quoted.breakeven_roas


def test_the_optimiser_judges_on_the_charged_margin(engine: Engine) -> None:
    """ROAS 2.5 pays on the quote (breakeven 2.03) but not on what CJ really charged (about 2.9)."""
    seed_listing(engine, "P1")
    seed_order(engine, 1, [("P1", 1)], ("20", "6"))
    seed_campaign(engine)
    seed_days(engine, "20", "50", 5)
    with engine.connect() as conn:
        [(_, decision)] = ads.judge_campaigns(conn, POLICY).decisions
    assert decision.action == "pause", decision.reason
    assert decision.inputs["margin"]["basis"] == "supplier charges (1 orders)"
    assert decision.inputs["margin"]["supplier_cost"] == "20.00"
