"""Ad delivery: ACTIVE campaigns on the simulated Meta and TikTok accrue impressions, clicks, spend and
purchases each simulated day, from their budget, their creative and the product's appeal.

Both platform routers keep their objects in the same shape (`{platform}_campaign|adset|ad` documents with
`active`, `budget`, `created` and the children's ids), so one simulator serves both. Each (campaign, day)
draws a full-day plan from `world.rng(platform, campaign, day, budget)`; a step of the clock takes the
share of that plan that falls inside the step, so the numbers do not depend on how often the world is
asked. Purchases happen at drawn moments of the day and become store orders (`shop_orders.place_order`).
Work is done in steps of `STEP` simulated minutes so that a busy API does not redo it on every request.

Creative tests: an ad set with several live ads splits its budget evenly between them, each with its own
plan. The first ad of an ad set converts at the product's rate; each later one (a challenger variant)
converts at a seeded multiple of it (`variant_factor`), so one of them really wins. Every ad's own numbers
are kept beside the campaign's (`ad_days`): Meta's insights at level=ad and TikTok's AUCTION_AD report.
"""

import math
import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dropship_sandbox import conversions
from dropship_sandbox.world import DEFAULT_SIM_START, World

PLATFORMS = ("meta", "tiktok")
STEP = timedelta(minutes=10)
DAY = timedelta(days=1)
CURSOR_KEY = "ad_delivery:until"
_PID = re.compile(r"pid:([A-Za-z0-9-]+)")

# Auction prices per platform: CPM range in USD (TikTok inventory is cheaper, its buyers convert less).
CPM_RANGE = {"meta": (8.0, 14.0), "tiktok": (5.0, 10.0)}
BASE_CTR = {"meta": 0.010, "tiktok": 0.012}
BASE_CVR = {"meta": 0.030, "tiktok": 0.024}
# A challenger ad's conversion rate as a multiple of its ad set's first ad: clearly worse or clearly better.
VARIANT_FACTORS = (0.35, 0.5, 2.0, 2.6)


def pid_from_name(name: str) -> str | None:
    """The supplier product a campaign advertises, from the `pid:<pid>` token in its name."""
    match = _PID.search(name or "")
    return match.group(1) if match else None


def product_traits(world: World, pid: str | None) -> dict[str, Any]:
    """Appeal (hidden supplier trait) and store price of the advertised product, looked up once."""
    traits: dict[str, Any] = {"pid": pid, "appeal": 0.3, "price": 25.0, "listed": False}
    if not pid:
        return traits
    product = world.state.get("cj_product", pid)
    if product:
        traits["appeal"] = float(product["_sim"]["appeal"])
    tag = f"pid:{pid}"
    for doc in world.state.all("shopify_product"):
        if tag in doc.get("tags", []):
            prices = [float(v["price"]) for v in doc.get("variants", []) if v.get("price")]
            if prices:
                traits["price"] = min(prices)
            traits["listed"] = True
            traits["store_product_id"] = str(doc["id"])
            break
    return traits


def register_campaign(world: World, platform: str, campaign: dict[str, Any]) -> None:
    """Called by a router when it creates a campaign: audit at the source, attach the product's traits."""
    pid = pid_from_name(campaign["name"])
    campaign["_sim"] = product_traits(world, pid)
    world.state.audit_increment("campaigns_created", f"{platform}:{pid or campaign['name']}")


def live_ads(world: World, platform: str, campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """The campaign's ads that can deliver now (active, in an active ad set), in creation order."""
    ads: list[dict[str, Any]] = []
    for adset_id in campaign.get("adset_ids", []):
        adset = world.state.get(f"{platform}_adset", adset_id)
        if not adset or not adset.get("active"):
            continue
        for ad_id in adset.get("ad_ids", []):
            ad = world.state.get(f"{platform}_ad", ad_id)
            if ad and ad.get("active"):
                ads.append(ad | {"_first": ad_id == adset["ad_ids"][0]})
    return ads


def variant_factor(world: World, platform: str, ad: dict[str, Any]) -> float:
    """An ad's conversion rate as a multiple of its ad set's first ad's (1.0 for the first ad)."""
    if ad.get("_first", True):
        return 1.0
    return world.rng("ad_variant", platform, ad["id"]).choice(VARIANT_FACTORS)


def delivery_inputs(world: World, platform: str, campaign: dict[str, Any]) -> tuple[float, float]:
    """(daily budget that can spend now, creative quality) — zero budget unless something can deliver."""
    budget = 0.0
    qualities: list[float] = []
    for adset_id in campaign.get("adset_ids", []):
        adset = world.state.get(f"{platform}_adset", adset_id)
        if not adset or not adset.get("active"):
            continue
        ads = [world.state.get(f"{platform}_ad", ad_id) for ad_id in adset.get("ad_ids", [])]
        live_ads = [ad for ad in ads if ad and ad.get("active")]
        if not live_ads:
            continue
        qualities += [float(ad.get("quality", 1.0)) for ad in live_ads]
        budget += float(adset.get("budget") or 0.0)
    if campaign.get("budget"):  # campaign budget optimisation: the campaign's budget is the one that spends
        budget = float(campaign["budget"]) if qualities else 0.0
    return budget, (max(qualities) if qualities else 1.0)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def day_plan(
    world: World,
    platform: str,
    campaign: dict[str, Any],
    day: date,
    budget: float,
    quality: float,
    boost: float = 1.0,
    ad_id: str | None = None,
    cvr_factor: float = 1.0,
) -> dict[str, Any]:
    """What a full day at this budget brings: deterministic per (platform, campaign, day, budget) and, for
    one ad of several, per ad; `boost` is what the conversions reported before the day taught the platform
    (`conversions.delivery_boost`), `cvr_factor` the ad's conversion rate against its ad set's first."""
    key = [platform, campaign["id"], day.isoformat(), round(budget, 2)] + ([ad_id] if ad_id else [])
    rng = world.rng("ad_delivery", *key)
    traits = campaign.get("_sim") or {}
    appeal, price = float(traits.get("appeal", 0.3)), float(traits.get("price", 25.0))
    spend = budget * rng.uniform(0.86, 1.0)  # pacing rarely spends the full budget
    impressions = spend / rng.uniform(*CPM_RANGE[platform]) * 1000
    ctr = BASE_CTR[platform] * (0.5 + 2 * appeal) * quality * rng.uniform(0.85, 1.15)
    clicks = impressions * ctr
    price_factor = min(1.5, max(0.5, 30.0 / max(price, 1.0)))
    cvr = (
        BASE_CVR[platform] * (0.4 + 2.5 * appeal) * price_factor * rng.uniform(0.8, 1.2) * boost * cvr_factor
    )
    purchases = _poisson(rng, clicks * cvr)
    moments = sorted(rng.random() for _ in range(purchases))
    return {"spend": spend, "impressions": impressions, "clicks": clicks, "moments": moments, "price": price}


def _place_order(
    world: World, pid: str, placed_at: datetime, source: str, rng: random.Random, price: float
) -> tuple[float, str | None] | None:
    """A purchase becomes a store order: (its value, the order subtotal; its GID), or None if the store
    refused it."""
    try:
        from dropship_sandbox import shop_orders
    except ImportError:  # the store simulation is not there: the pixel still saw a purchase
        return price, None
    order = shop_orders.place_order(world, pid, placed_at, source, rng)
    if order is None:
        return None
    try:
        return float(order.get("subtotalPrice") or price), conversions.order_gid(order)
    except (TypeError, ValueError):
        return price, conversions.order_gid(order)


def _empty_day() -> dict[str, float]:
    return {"spend": 0.0, "impressions": 0.0, "clicks": 0.0, "purchases": 0, "revenue": 0.0}


class AdDelivery:
    """The world's ad auctions: moves every delivering campaign forward with the clock."""

    name = "ad_delivery"

    def advance(self, world: World, start: datetime, end: datetime) -> None:
        stored = world.state.meta(CURSOR_KEY)
        until = datetime.fromisoformat(stored) if stored else max(start, DEFAULT_SIM_START)
        target = DEFAULT_SIM_START + ((end - DEFAULT_SIM_START) // STEP) * STEP
        if target <= until:
            return
        for platform in PLATFORMS:
            for campaign in world.state.all(f"{platform}_campaign"):
                if campaign.get("active"):
                    self._deliver(world, platform, campaign, until, target)
        world.state.set_meta(CURSOR_KEY, target.isoformat())

    def _deliver(
        self, world: World, platform: str, campaign: dict[str, Any], since: datetime, until: datetime
    ) -> None:
        begin = max(since, datetime.fromisoformat(campaign["created"]))
        if begin >= until:
            return
        budget, quality = delivery_inputs(world, platform, campaign)
        if budget <= 0:
            return
        key = f"{platform}:{campaign['id']}"
        stats = world.state.get("ad_stats", key) or {
            "platform": platform,
            "campaign_id": campaign["id"],
            "days": {},
        }
        traits = campaign.get("_sim") or {}
        # Days are the ad account's reporting days, in its time zone (23 or 25 hours at a DST change).
        day = conversions.local_day(platform, begin)
        boosts = stats.setdefault("boost", {})
        pixel_rate = float(getattr(world.settings, "pixel_match_rate", 1.0))
        while True:
            day_start, day_end = conversions.day_bounds(platform, day)
            if day_start >= until:
                break
            lo, hi = max(begin, day_start), min(until, day_end)
            if hi > lo:
                # The day's boost is fixed at its first delivery: later restatements of the week before
                # do not redraw a day already under way.
                boost = boosts.setdefault(day.isoformat(), conversions.delivery_boost(stats, day))
                length = day_end - day_start
                share = (hi - lo) / length
                row = stats["days"].setdefault(day.isoformat(), _empty_day())
                first, last = (lo - day_start) / length, (hi - day_start) / length
                for ad_id, plan, salt in self._plans(world, platform, campaign, day, budget, quality, boost):
                    ad_row = (
                        stats.setdefault("ads", {})
                        .setdefault(ad_id, {})
                        .setdefault(day.isoformat(), _empty_day())
                    )
                    for metric in ("spend", "impressions", "clicks"):
                        row[metric] += plan[metric] * share
                        ad_row[metric] += plan[metric] * share
                    self._purchases(world, platform, campaign, traits, day, day_start, length, first, last,
                                    plan, salt, ad_id, row, ad_row, pixel_rate)  # fmt: skip
            day += timedelta(days=1)
        world.state.put("ad_stats", key, stats)

    @staticmethod
    def _plans(
        world: World,
        platform: str,
        campaign: dict[str, Any],
        day: date,
        budget: float,
        quality: float,
        boost: float,
    ) -> list[tuple[str, dict[str, Any], tuple[Any, ...]]]:
        """(ad id, its day plan, its order-draw salt) per live ad: one ad takes the ad set's whole plan (as
        before creative tests); several split the budget evenly, each at its own conversion rate."""
        ads = live_ads(world, platform, campaign)
        if len(ads) <= 1:
            ad_id = ads[0]["id"] if ads else ""
            factor = variant_factor(world, platform, ads[0]) if ads else 1.0  # a winner keeps its rate
            plan = day_plan(world, platform, campaign, day, budget, quality, boost, cvr_factor=factor)
            return [(ad_id, plan, ())]
        share = budget / len(ads)
        return [
            (
                ad["id"],
                day_plan(
                    world,
                    platform,
                    campaign,
                    day,
                    share,
                    float(ad.get("quality", 1.0)),
                    boost,
                    ad_id=ad["id"],
                    cvr_factor=variant_factor(world, platform, ad),
                ),
                (ad["id"],),
            )
            for ad in ads
        ]

    @staticmethod
    def _purchases(
        world: World,
        platform: str,
        campaign: dict[str, Any],
        traits: dict[str, Any],
        day: date,
        day_start: datetime,
        length: timedelta,
        first: float,
        last: float,
        plan: dict[str, Any],
        salt: tuple[Any, ...],
        ad_id: str,
        row: dict[str, float],
        ad_row: dict[str, float],
        pixel_rate: float,
    ) -> None:
        """The plan's purchases inside [first, last) of the day: store orders, the pixel's share counted."""
        for n, moment in enumerate(plan["moments"]):
            if not first <= moment < last:
                continue
            placed_at = day_start + moment * length
            value: float = plan["price"]
            order_id: str | None = None
            if traits.get("listed"):
                order_rng = world.rng("ad_order", platform, campaign["id"], day.isoformat(), *salt, n)
                placed = _place_order(
                    world,
                    traits["pid"],
                    placed_at.astimezone(UTC),
                    platform,
                    order_rng,
                    plan["price"],
                )
                if placed is None:
                    continue
                value, order_id = placed
            # The browser pixel sees only its share; the rest waits for the store's server event.
            seen = (
                world.rng("pixel", platform, campaign["id"], day.isoformat(), *salt, n).random() < pixel_rate
            )
            if order_id is not None:
                conversions.record_ad_order(
                    world, platform, campaign["id"], day, order_id, value, seen, ad_id=ad_id
                )
            if seen or order_id is None:
                for counted in (row, ad_row):
                    counted["purchases"] += 1
                    counted["revenue"] += value


def ad_days(world: World, platform: str, campaign_id: str) -> dict[str, dict[str, dict[str, float]]]:
    """ad id -> accrued totals per day (ISO date) of one campaign's ads; empty when none delivered."""
    stats = world.state.get("ad_stats", f"{platform}:{campaign_id}")
    return {ad_id: days for ad_id, days in (stats or {}).get("ads", {}).items() if ad_id}


def campaign_days(world: World, platform: str, campaign_id: str) -> dict[str, dict[str, float]]:
    """Accrued totals per day (ISO date) for one campaign; empty when it never delivered."""
    stats = world.state.get("ad_stats", f"{platform}:{campaign_id}")
    return stats["days"] if stats else {}
