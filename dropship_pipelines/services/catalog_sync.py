"""The catalog sync's ledger protocol: the supplier's word on each listed product (from its webhook
messages, or asked in the hourly reconcile) turned into the store's prices, sold-out variants and
published state, each store write claimed in the ledger before it is made.

One listing at a time, `sync_listing`:
1. record what the supplier says (cost, stock, whether it still offers each variant and the product);
2. decide, by the rules (`rules/pricing.py`, `rules/catalog.py`): each variant's price (the rule's price,
   moved at most the daily limit from where the day began, never under break-even), whether it is on sale,
   whether the listing is published;
3. nothing differs from what the store has: done. Else claim the listing's next write number
   (compare-and-set in `listing_publication`) with the whole plan, make the store writes (unpublish first,
   publish last, so nothing unsellable is on sale in between), then record the outcome: prices and their
   lineage (supplier cost, shipping, rule version, run), stock state, published state.

A claim left by a dead run (older than the lease) is resolved against the store: the plan is recorded as
done where the store shows it, else the claim is failed and the listing decided afresh.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from dropship_pipelines.resources.errors import ApiError, PermanentApiError
from dropship_pipelines.resources.shopify.catalog import (
    VariantChange,
    listing_state,
    set_published,
    update_variants,
)
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.supplier import BasketLine, FreightOption, Supplier
from dropship_pipelines.resources.supplier_events import SupplierStock
from dropship_pipelines.rules.catalog import (
    CatalogPolicy,
    break_even,
    limited_price,
    listing_on_sale,
    new_variants_allowed,
    variant_sellable,
)
from dropship_pipelines.rules.pricing import PriceRule, compare_at_price, retail_price
from dropship_pipelines.services.in_flight import each_in_flight
from dropship_pipelines.store import catalog_queries as q

Log = logging.Logger | logging.LoggerAdapter[Any]
LEASE = timedelta(minutes=10)  # a claim older than this belongs to a run that died
NO_SUCH_PRODUCT = {1602001, 1602002}  # not found / removed from the shelves: the supplier no longer sells it
MAX_SHIPPING_DAYS = 20


class CatalogSupplier(Supplier, SupplierStock):
    """A supplier with its stock endpoint (CJ)."""


@dataclass(frozen=True)
class Observation:
    """What the supplier says of one listed product now; None / missing: it did not say (keep the last)."""

    pid: str
    still_sold: bool | None = None
    costs: dict[str, Decimal | None] = field(default_factory=dict)  # vid -> its price at the supplier
    stock: dict[str, int] = field(default_factory=dict)  # vid -> units
    offered: frozenset[str] | None = None  # the variants the product still has
    shipping: Decimal | None = None  # to the listing's own market
    markets: list[dict[str, Any]] = field(default_factory=list)  # market_shipping rows


@dataclass
class SyncRun:
    products: int = 0
    variants: int = 0
    repriced: int = 0
    sold_out: int = 0
    back_in_stock: int = 0
    unpublished: int = 0
    republished: int = 0
    unchanged: int = 0
    busy: int = 0  # another run holds the listing's claim
    resolved: int = 0  # dead runs' claims resolved
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: "SyncRun") -> None:
        for name in (
            "products", "variants", "repriced", "sold_out", "back_in_stock", "unpublished",
            "republished", "unchanged", "busy", "resolved",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _cheapest(options: list[FreightOption]) -> FreightOption | None:
    fitting = [o for o in options if o.days_max <= MAX_SHIPPING_DAYS]
    return min(fitting or options, key=lambda o: (o.price, o.days_max)) if options else None


# --- 1. what the supplier says ----------------------------------------------------------------------------
def observe(
    supplier: CatalogSupplier, pid: str, markets: list[str], home: str, route: str | None = None
) -> Observation:
    """Ask the supplier about one listed product: its variants and costs, their stock, shipping to each
    main market (the listing's own market `home` prices it, by its own `route` while the supplier still
    offers it: the price does not move for a cheaper route the listing was not chosen with). A product the
    supplier no longer has is
    `still_sold=False`; other errors are raised to the caller."""
    try:
        detail = supplier.product_detail(pid)
    except PermanentApiError as error:
        if error.code in NO_SUCH_PRODUCT:
            return Observation(pid, still_sold=False)
        raise
    stock = supplier.product_stock(pid)
    shipping = None
    rows = []
    if detail.variants:
        basket = [BasketLine(detail.variants[0].vid, 1)]
        for country in dict.fromkeys([home, *markets]):
            options = supplier.freight_options(country, basket)
            same = [o for o in options if country == home and o.name == route]
            route_there = same[0] if same else _cheapest(options)
            rows.append(
                {
                    "pid": pid,
                    "country": country,
                    "logistic_name": route_there.name if route_there else None,
                    "cost": route_there.price if route_there else None,
                    "days_max": route_there.days_max if route_there else None,
                    "checked_at": q.now(),
                }
            )
            if country == home and route_there is not None:
                shipping = _money(route_there.price)
    return Observation(
        pid,
        still_sold=True,
        costs={v.vid: _money(v.price) for v in detail.variants},
        stock=stock,
        offered=frozenset(v.vid for v in detail.variants),
        shipping=shipping,
        markets=rows,
    )


# --- 2. the decision --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    pid: str
    product_id: str
    priced: list[dict[str, Any]]  # lineage rows of the variants whose price changes
    stock: dict[str, bool]  # vid -> on sale, for the variants whose sale state changes
    changes: list[VariantChange]
    publish: bool | None  # None: leave the status as it is
    still_sold: bool
    reason: str | None

    @property
    def empty(self) -> bool:
        return not self.changes and self.publish is None

    def detail(self) -> dict[str, Any]:
        return {
            "priced": [
                {k: str(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in self.priced
            ],
            "stock": self.stock,
            "publish": self.publish,
            "still_sold": self.still_sold,
            "reason": self.reason,
        }


def decide(
    item: dict[str, Any],
    obs: Observation,
    rule: PriceRule,
    policy: CatalogPolicy,
    day_start: dict[str, Decimal],
) -> Plan:
    """What the store should show for one listing, given what it shows and what the supplier said."""
    publication = item.get("publication") or {}
    still_sold = (
        obs.still_sold if obs.still_sold is not None else publication.get("still_sold", True) is not False
    )
    version = rule.fingerprint()
    stored_shipping = _money(item["shipping_cost"]) or Decimal("0")
    shipping = obs.shipping if obs.shipping is not None else stored_shipping
    priced, stock, changes = [], {}, []
    sellable = 0
    for v in item["variants"]:
        vid = v["vid"]
        current = _money(v["price"])
        cost = obs.costs.get(vid) or _money(v.get("supply_cost")) or _money(v["unit_cost"])
        units = obs.stock.get(vid, v.get("stock"))
        offered = vid in obs.offered if obs.offered is not None else v.get("offered") is not False
        on_sale = still_sold and variant_sellable(units, offered, policy) if units is not None else still_sold
        sellable += on_sale
        was_on_sale = v.get("store_in_stock") is not False
        new_price = None
        if cost is not None:
            target = retail_price(cost, shipping, rule)
            floor = break_even(cost, shipping, rule)
            price = limited_price(target, day_start.get(vid, current), floor, policy, rule.ending)
            if price != current:
                new_price = price
                reason = (
                    "rule" if item["rule_fingerprint"] != version
                    else "cost" if cost != _money(v["unit_cost"])
                    else "shipping" if shipping != stored_shipping
                    else "limit"  # a move the daily limit held back yesterday
                )  # fmt: skip
                priced.append(
                    {
                        "vid": vid,
                        "store_variant_id": v["store_variant_id"],
                        "price": price,
                        "compare_at_price": compare_at_price(price, rule),
                        "previous_price": current,
                        "rule_price": target,
                        "supplier_cost": cost,
                        "shipping_cost": shipping,
                        "reason": reason,
                    }
                )
        if on_sale != was_on_sale:
            stock[vid] = on_sale
        if new_price is not None or on_sale != was_on_sale:
            changes.append(
                VariantChange(
                    v["store_variant_id"],
                    price=new_price,
                    compare_at_price=compare_at_price(new_price, rule) if new_price is not None else None,
                    in_stock=on_sale if on_sale != was_on_sale else None,
                )
            )
    published = publication.get("published", True) is not False
    wanted = listing_on_sale(still_sold, sellable)
    reason = (
        None
        if wanted
        else ("the supplier no longer sells it" if not still_sold else "every variant sold out")
    )
    return Plan(
        item["pid"],
        item["store_product_id"],
        priced,
        stock,
        [c for c in changes if c.variant_id],
        wanted if wanted != published else None,
        still_sold,
        reason,
    )


# --- 3. claim, write, record ------------------------------------------------------------------------------
def _record(engine: Engine, plan: Plan, key: str, rule_version: str, run_id: str | None) -> None:
    with engine.begin() as conn:
        if plan.priced:
            q.save_prices(conn, plan.pid, plan.priced, rule_version, run_id)
        q.save_stock_state(conn, plan.stock)
        if plan.publish is not None:
            q.save_publication(conn, plan.pid, plan.publish, plan.still_sold, plan.reason, run_id)
        q.finish_write(conn, key, "done")


def _write(shopify: ShopifyAdminResource, plan: Plan) -> None:
    if plan.publish is False:
        set_published(shopify, plan.product_id, False)  # off sale first: nothing unsellable is bought
    update_variants(shopify, plan.product_id, plan.changes)
    if plan.publish is True:
        set_published(shopify, plan.product_id, True)  # on sale last: its variants are right by then


def _resolve_dead(
    engine: Engine, shopify: ShopifyAdminResource, pid: str, product_id: str, run: SyncRun
) -> None:
    """Claims of runs that died: done where the store shows their plan, else failed (decided afresh)."""
    with engine.connect() as conn:
        dead = q.dead_claims(conn, pid, LEASE)
    if not dead:
        return
    store = listing_state(shopify, product_id)
    for claim in dead:
        detail = claim.detail
        by_id = {v.id: v for v in store.variants} if store else {}
        prices_landed = store is not None and all(
            (c.get("store_variant_id") in by_id and by_id[c["store_variant_id"]].price == Decimal(c["price"]))
            for c in detail.get("priced", [])
        )
        status_landed = store is not None and (
            detail.get("publish") is None or store.published == detail["publish"]
        )
        if prices_landed and status_landed:
            priced = [
                {k: (Decimal(v) if k in q.MONEY_KEYS and v is not None else v) for k, v in row.items()}
                for row in detail.get("priced", [])
            ]
            plan = Plan(pid, product_id, priced, detail.get("stock", {}), [], detail.get("publish"),
                        detail.get("still_sold", True), detail.get("reason"))  # fmt: skip
            _record(engine, plan, claim.write_key, detail.get("rule_version", ""), claim.run_id)
        else:
            with engine.begin() as conn:
                q.finish_write(conn, claim.write_key, "failed", "the run died before the store had it all")
        run.resolved += 1


def _adopt_prices(engine: Engine, item: dict[str, Any], plan: Plan, run_id: str | None) -> None:
    """A price listed before lineage was kept gets its lineage row (reason `adopted`) from the ledger's
    cost and shipping, so that every price on the store has one."""
    changing = {row["vid"] for row in plan.priced}
    with engine.begin() as conn:
        known = q.has_lineage(conn, [v["vid"] for v in item["variants"]])
        rows = [
            {
                "vid": v["vid"],
                "price": _money(v["price"]),
                "compare_at_price": _money(v["compare_at_price"]),
                "previous_price": None,
                "rule_price": _money(v["price"]),
                "supplier_cost": _money(v["unit_cost"]),
                "shipping_cost": _money(item["shipping_cost"]) or Decimal("0"),
                "reason": "adopted",
            }
            for v in item["variants"]
            if v["vid"] not in known and v["vid"] not in changing
        ]
        q.insert_lineage(conn, item["pid"], rows, item["rule_fingerprint"] or "unknown", run_id)


def sync_listing(
    engine: Engine,
    shopify: ShopifyAdminResource,
    obs: Observation,
    rule: PriceRule,
    policy: CatalogPolicy,
    run_id: str | None,
    log: Log,
) -> SyncRun:
    """Bring one listing in line with what the supplier said (steps 1-3 of the module docstring)."""
    run = SyncRun(products=1)
    with engine.begin() as conn:
        found = q.listed(conn, [obs.pid])
        if not found:
            return SyncRun()
        item = found[0]
        q.ensure_publication(conn, obs.pid, item["store_product_id"])
        supply = [
            {
                "vid": v["vid"],
                "pid": obs.pid,
                "cost": obs.costs.get(v["vid"]) or v.get("supply_cost") or v["unit_cost"],
                "stock": obs.stock.get(v["vid"], v.get("stock")),
                "offered": (v["vid"] in obs.offered)
                if obs.offered is not None
                else v.get("offered") is not False,
                "store_in_stock": v.get("store_in_stock") is not False,
                "source": "reconcile" if obs.offered is not None else "webhook",
                "checked_at": q.now(),
            }
            for v in item["variants"]
        ]
        q.save_supply(conn, supply)
        if obs.markets:
            q.save_shipping(conn, obs.markets)
        busy = q.live_claim(conn, obs.pid, LEASE) is not None
    run.variants = len(item["variants"])
    if busy:
        run.busy = 1
        return run
    try:
        _resolve_dead(engine, shopify, obs.pid, item["store_product_id"], run)
    except ApiError as error:
        run.failures.append((obs.pid, f"resolving a dead run's write: {error}"))
        return run
    with engine.begin() as conn:
        item = q.listed(conn, [obs.pid])[0]
        # A write claimed since the first look is in the making: its run records it (with what it decided).
        # One claimed after this read fails our compare-and-set instead (`decided_at`).
        busy = q.live_claim(conn, obs.pid, LEASE) is not None
        day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        day_start = q.day_start_prices(conn, [v["vid"] for v in item["variants"]], day)
    if busy:
        run.busy = 1
        return run
    decided_at = int((item.get("publication") or {}).get("write_seq") or 0)  # what the decision saw
    plan = decide(item, obs, rule, policy, day_start)
    _adopt_prices(engine, item, plan, run_id)
    if plan.empty:
        run.unchanged = 1
        return run
    version = rule.fingerprint()
    with engine.begin() as conn:
        key = q.claim_write(
            conn, obs.pid, "listing", {**plan.detail(), "rule_version": version}, run_id, decided_at
        )
    if key is None:
        run.busy = 1
        return run
    try:
        _write(shopify, plan)
    except ApiError as error:
        with engine.begin() as conn:
            q.finish_write(conn, key, "failed", str(error))
        run.failures.append((obs.pid, str(error)[:300]))
        log.warning("product %s: catalog sync write failed: %s", obs.pid, error)
        return run
    _record(engine, plan, key, version, run_id)
    run.repriced = len(plan.priced)
    run.sold_out = sum(1 for on in plan.stock.values() if not on)
    run.back_in_stock = sum(1 for on in plan.stock.values() if on)
    run.unpublished = int(plan.publish is False)
    run.republished = int(plan.publish is True)
    log.info(
        "product %s: %d repriced, %d sold out, %d back%s",
        obs.pid,
        run.repriced,
        run.sold_out,
        run.back_in_stock,
        {True: ", republished", False: f", unpublished ({plan.reason})", None: ""}[plan.publish],
    )
    return run


# --- the two paths ----------------------------------------------------------------------------------------
def reconcile(
    supplier: CatalogSupplier,
    shopify: ShopifyAdminResource,
    engine: Engine,
    rule: PriceRule,
    policy: CatalogPolicy,
    *,
    markets: list[str],
    home: str,
    run_id: str | None,
    log: Log,
    limit: int | None = None,
) -> SyncRun:
    """Every listed product asked of the supplier and brought in line (a few at a time: the supplier's
    endpoints are paced each at its own limit)."""
    started = datetime.now(UTC)
    with engine.connect() as conn:
        pids = [item["pid"] for item in q.listed(conn)]
        routes = q.listing_routes(conn)
    total = SyncRun()

    def one(pid: str) -> None:
        try:
            obs = observe(supplier, pid, markets, home, routes.get(pid))
        except ApiError as error:
            total.failures.append((pid, f"supplier: {error}"[:300]))
            log.warning("product %s: supplier lookup failed: %s", pid, error)
            return
        total.add(sync_listing(engine, shopify, obs, rule, policy, run_id, log))

    each_in_flight(one, pids[:limit] if limit is not None else pids)
    total.seconds = (datetime.now(UTC) - started).total_seconds()
    return total


def process_events(
    supplier: CatalogSupplier,
    shopify: ShopifyAdminResource,
    engine: Engine,
    rule: PriceRule,
    policy: CatalogPolicy,
    *,
    home: str,
    run_id: str | None,
    log: Log,
    limit: int = 500,
) -> tuple[SyncRun, int]:
    """The recorded webhook messages, oldest first: a stock message is applied as it says; a product
    message is confirmed by asking the supplier about the product (as CJ advises). Returns the sync and
    how many messages were handled."""
    with engine.connect() as conn:
        events = q.pending_events(conn, limit)
        vids = [vid for e in events for vid in (e.payload or {}).get("stock", {})]
        vids += [(e.payload or {}).get("vid") for e in events if (e.payload or {}).get("kind") == "variant"]
        pid_of = q.pids_of_variants(conn, vids)
        listed = {item["pid"] for item in q.listed(conn)}
        routes = q.listing_routes(conn)
    stock: dict[str, dict[str, int]] = {}
    asked: set[str] = set()
    by_pid: dict[str, list[int]] = {}
    ignored = []
    for event in events:
        payload = event.payload or {}
        if payload.get("kind") == "stock":
            touched = {pid_of[v] for v in payload.get("stock", {}) if v in pid_of}
            for vid, units in payload.get("stock", {}).items():
                if vid in pid_of:
                    stock.setdefault(pid_of[vid], {})[vid] = int(units)
        elif payload.get("kind") == "product" and payload.get("pid") in listed:
            touched = {payload["pid"]}
            asked.add(payload["pid"])
        elif payload.get("kind") == "variant" and payload.get("vid") in pid_of:
            touched = {pid_of[payload["vid"]]}  # a variant's price or shape changed: ask about its product
            asked |= touched
        else:
            touched = set()
        for pid in touched:
            by_pid.setdefault(pid, []).append(event.seq)
        if not touched:
            ignored.append(event.seq)
    with engine.begin() as conn:
        q.finish_events(conn, ignored, "processed", "not about a listed product")
    total = SyncRun()

    def one(pid: str) -> None:
        try:
            if pid in asked:
                fresh = observe(supplier, pid, [], home, routes.get(pid))
                obs = Observation(
                    pid, fresh.still_sold, fresh.costs, {**fresh.stock, **stock.get(pid, {})},
                    fresh.offered, fresh.shipping, fresh.markets,
                )  # fmt: skip
            else:
                obs = Observation(pid, stock=stock.get(pid, {}))
            result = sync_listing(engine, shopify, obs, rule, policy, run_id, log)
        except ApiError as error:
            with engine.begin() as conn:
                q.finish_events(conn, by_pid[pid], "failed", f"{error}")
            total.failures.append((pid, str(error)[:300]))
            return
        total.add(result)
        with engine.begin() as conn:
            if result.busy:
                return  # the run holding the claim may have decided on older facts: handled next time
            q.finish_events(
                conn, by_pid[pid], "processed", "ok" if not result.failures else result.failures[0][1]
            )

    each_in_flight(one, list(by_pid))
    return total, len(events)


# --- what the discovery workflow's listing step asks of the catalog sync ---------------------------------
def as_the_store_has_it(
    engine: Engine, item: dict[str, Any], priced: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A listed product re-sent for its copy keeps what the catalog sync set: each variant's current price
    (the daily limit and its lineage hold), its sold-out state, and the listing's published state."""
    with engine.connect() as conn:
        found = q.listed(conn, [item["pid"]])
    if not found:
        return item, priced
    current = {v["vid"]: v for v in found[0]["variants"]}
    kept = []
    for row in priced:
        now = current.get(row["vid"])
        if now is None:
            kept.append(row)
            continue
        kept.append(
            {
                **row,
                "price": _money(now["price"]),
                "compare_at_price": _money(now["compare_at_price"]),
                "unit_cost": _money(now["unit_cost"]),
                "in_stock": now.get("store_in_stock") is not False,
            }
        )
    published = (found[0].get("publication") or {}).get("published", True) is not False
    return {**item, "published": published}, kept


def record_listed_prices(
    conn: Any, item: dict[str, Any], priced: list[dict[str, Any]], rule_version: str, run_id: str | None
) -> None:
    """The lineage of a new listing's first prices (in the listing's own transaction)."""
    shipping = _money(item["shipping_cost"]) or Decimal("0")
    q.insert_lineage(
        conn,
        item["pid"],
        [
            {
                "vid": v["vid"],
                "price": v["price"],
                "compare_at_price": v["compare_at_price"],
                "previous_price": None,
                "rule_price": v["price"],
                "supplier_cost": v["unit_cost"],
                "shipping_cost": shipping,
                "reason": "listed",
            }
            for v in priced
        ],
        rule_version,
        run_id,
    )


def variants_allowed_today(
    shopify: ShopifyAdminResource, engine: Engine, policy: CatalogPolicy
) -> int | None:
    """How many new variants the store takes today (None: no cap): Shopify's 1,000 a day once the store
    holds 50,000, counted at the store and by what this store listed today."""
    from dropship_pipelines.resources.shopify.catalog import store_variant_count

    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as conn:
        created_today = q.variants_listed_since(conn, day)
    return new_variants_allowed(store_variant_count(shopify), created_today, policy)
