"""What each advertised product earns per sale, from the ledger: the inputs of its breakeven ROAS.

- Price: the listing's price basis (`listings.price`, the lowest variant's price).
- Supplier cost and shipping: what CJ actually charged for the product once it shipped
  (`supplier_costs`, CJ's order detail after weighing and dispatch), per unit, over the product's
  orders that hold nothing else (an order of several products has one charge for all, which no line
  owns alone). A product with no such charge yet falls back to the quote it was priced from (the
  listing's `unit_cost` and `shipping_cost`); `ProductMargin.basis` says which it is.
- Payment fees: the store's fee rule on that price (`rules.pricing.fees`).
- Refunds: the share of the product's sales refunded so far, from the refunds the ledger records as made
  (`order_refunds` when the refunds workflow records them there, else the executed refund actions), over
  the revenue of the orders that contain the product.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dropship_pipelines.rules.ad_rules import CENT, ProductMargin
from dropship_pipelines.rules.pricing import PriceRule, fees
from dropship_pipelines.store.discovery_tables import listings
from dropship_pipelines.store.fulfillment_tables import store_order_lines, store_orders
from dropship_pipelines.store.order_action_tables import order_actions
from dropship_pipelines.store.profit_tables import supplier_costs

BASIS_LISTING = "listing"
BASIS_CHARGED = "supplier charges"


def _refunds_by_order(conn: Connection) -> sa.Subquery:
    """order_id -> refunded amount, from the richest record of refunds this ledger has."""
    try:
        from dropship_pipelines.store.refund_tables import order_refunds
    except ImportError:
        order_refunds = None
    if order_refunds is not None and sa.inspect(conn).has_table(order_refunds.name):
        r = order_refunds.c
        return (
            sa.select(r.order_id, sa.func.sum(r.amount).label("refunded"))
            .where(r.kind.in_(("refund", "chargeback")))
            .group_by(r.order_id)
            .subquery()
        )
    a = order_actions.c
    return (
        sa.select(a.order_id, sa.func.sum(a.amount).label("refunded"))
        .where(a.kind == "refund", a.state == "done")
        .group_by(a.order_id)
        .subquery()
    )


def refund_rates(conn: Connection, pids: list[str]) -> dict[str, float]:
    """pid -> refunded / revenue over the store orders containing it (orders without refunds count 0)."""
    if not pids:
        return {}
    refunds = _refunds_by_order(conn)
    lines, orders = store_order_lines.c, store_orders.c
    per_order = (
        sa.select(lines.pid, lines.order_id)
        .where(lines.pid.in_(pids))
        .group_by(lines.pid, lines.order_id)
        .subquery()
    )
    query = (
        sa.select(
            per_order.c.pid,
            sa.func.sum(orders.total_price).label("revenue"),
            sa.func.sum(sa.func.coalesce(refunds.c.refunded, 0)).label("refunded"),
        )
        .select_from(
            per_order.join(store_orders, orders.order_id == per_order.c.order_id).outerjoin(
                refunds, refunds.c.order_id == per_order.c.order_id
            )
        )
        .where(orders.cancelled_at.is_(None))
        .group_by(per_order.c.pid)
    )
    rates = {}
    for pid, revenue, refunded in conn.execute(query):
        revenue, refunded = Decimal(str(revenue or 0)), Decimal(str(refunded or 0))
        rates[pid] = min(1.0, float(refunded / revenue)) if revenue > 0 else 0.0
    return rates


@dataclass(frozen=True)
class ChargedCosts:
    """What CJ charged for a product, per unit, over `orders` single-product orders."""

    unit_cost: Decimal
    shipping: Decimal
    orders: int
    units: int


def charged_costs(conn: Connection, pids: list[str]) -> dict[str, ChargedCosts]:
    """pid -> CJ's actual charges per unit (product and postage), over the not-cancelled store orders
    whose every line is that product and whose supplier order CJ has charged (`supplier_costs`)."""
    if not pids:
        return {}
    lines, orders, costs = store_order_lines.c, store_orders.c, supplier_costs.c
    single = (
        sa.select(
            lines.order_id,
            sa.func.min(lines.pid).label("pid"),
            sa.func.sum(lines.quantity).label("units"),
        )
        .group_by(lines.order_id)
        .having(sa.func.count(sa.distinct(lines.pid)) == 1)
        .having(sa.func.count(lines.pid) == sa.func.count())  # no unmapped line beside it
        .subquery()
    )
    query = (
        sa.select(
            single.c.pid,
            sa.func.count().label("orders"),
            sa.func.sum(single.c.units).label("units"),
            sa.func.sum(costs.product_amount).label("product"),
            sa.func.sum(costs.postage_amount).label("postage"),
        )
        .select_from(
            single.join(supplier_costs, costs.order_id == single.c.order_id).join(
                store_orders, orders.order_id == single.c.order_id
            )
        )
        .where(single.c.pid.in_(sorted(set(pids))), orders.cancelled_at.is_(None), single.c.units > 0)
        .group_by(single.c.pid)
    )
    charged = {}
    for pid, count, units, product, postage in conn.execute(query):
        units = int(units)
        charged[pid] = ChargedCosts(
            unit_cost=(Decimal(str(product)) / units).quantize(CENT, ROUND_HALF_UP),
            shipping=(Decimal(str(postage)) / units).quantize(CENT, ROUND_HALF_UP),
            orders=int(count),
            units=units,
        )
    return charged


def product_margins(conn: Connection, rule: PriceRule, pids: list[str]) -> dict[str, ProductMargin]:
    """pid -> its `ProductMargin`, for the products of `pids` the ledger has a listing of: CJ's actual
    charges where it has charged any, else the listing's quote."""
    if not pids:
        return {}
    t = listings.c
    rows = conn.execute(
        sa.select(t.pid, t.price, t.unit_cost, t.shipping_cost).where(t.pid.in_(sorted(set(pids))))
    ).all()
    rates = refund_rates(conn, [r.pid for r in rows])
    charged = charged_costs(conn, [r.pid for r in rows])
    margins = {}
    for row in rows:
        price = Decimal(str(row.price))
        actual = charged.get(row.pid)
        margins[row.pid] = ProductMargin(
            pid=row.pid,
            price=price,
            supplier_cost=actual.unit_cost if actual else Decimal(str(row.unit_cost)),
            shipping=actual.shipping if actual else Decimal(str(row.shipping_cost)),
            fees=fees(price, rule),
            refund_rate=rates.get(row.pid, 0.0),
            basis=f"{BASIS_CHARGED} ({actual.orders} orders)" if actual else BASIS_LISTING,
        )
    return margins


def listing_states(conn: Connection, pids: list[str]) -> dict[str, Any]:
    """pid -> its listing's status (listed, or whatever the catalog sync set when it unpublished it)."""
    if not pids:
        return {}
    t = listings.c
    return dict(conn.execute(sa.select(t.pid, t.status).where(t.pid.in_(sorted(set(pids))))).all())
