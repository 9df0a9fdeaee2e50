"""What the store may promise about shipping, from its own shipping settings, and how copy states it.

A shipping claim is never written by the model: the LLM is not told the store's terms, a free-shipping
claim in its answer is dropped (a tag) or refused (any other text), and the one claim copy may carry is
rendered here from `free_shipping_over`, the fact read from the store's delivery profiles:

- None: some order to the country pays shipping at every value (or the store has no profile): no claim.
- 0: every order ships free: "Free shipping".
- T: every order of T or more ships free, smaller ones pay: "Free shipping over $T".
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from dropship_pipelines.rules.product_copy import _FREE_SHIPPING, free_shipping_claim


@dataclass(frozen=True)
class ShippingRate:
    """One active shipping method of a zone, as the store's settings define it."""

    name: str
    price: Decimal | None  # None: calculated by a carrier at checkout (its price is not known here)
    min_total: Decimal | None = None  # applies to orders of at least this value (TOTAL_PRICE >=)
    max_total: Decimal | None = None  # applies to orders of at most this value (TOTAL_PRICE <=)
    weight_limited: bool = False  # a TOTAL_WEIGHT condition: not every order qualifies by value alone


@dataclass(frozen=True)
class ShippingZone:
    name: str
    countries: frozenset[str]  # ISO 3166-1 alpha-2
    rest_of_world: bool
    rates: tuple[ShippingRate, ...]


@dataclass(frozen=True)
class ShippingProfile:
    name: str
    zones: tuple[ShippingZone, ...]
    complete: bool = True  # False: more zones or rates than were read; nothing is promised from it


def zone_for(profile: ShippingProfile, country: str) -> ShippingZone | None:
    """The zone an order to `country` is charged by: the one naming it, else the rest of the world."""
    code = country.upper()
    named = next((z for z in profile.zones if code in z.countries), None)
    return named or next((z for z in profile.zones if z.rest_of_world), None)


def _free_over(zone: ShippingZone) -> Decimal | None:
    """The lowest order value from which this zone always has a free rate (None: it never always has)."""
    bounds = [
        rate.min_total or Decimal(0)
        for rate in zone.rates
        if rate.price is not None
        and rate.price == 0
        and rate.max_total is None  # free up to some value only is no promise "over" anything
        and not rate.weight_limited
    ]
    return min(bounds) if bounds else None


def free_shipping_over(profiles: Sequence[ShippingProfile], country: str) -> Decimal | None:
    """The fact copy's shipping claim is rendered from: the order value from which every order to
    `country` ships free, whichever profile its product is in (the highest of the profiles' thresholds);
    None when any profile shipping there charges at every value, was not read whole, or there is none."""
    thresholds = []
    for profile in profiles:
        if not profile.complete:
            return None
        zone = zone_for(profile, country)
        if zone is None:
            continue  # this profile's products do not ship to the country at all
        threshold = _free_over(zone)
        if threshold is None:
            return None
        thresholds.append(threshold)
    return max(thresholds) if thresholds else None


def shipping_claim(free_over: Decimal | None) -> str | None:
    """The claim copy may make: "Free shipping", "Free shipping over $35.00", or None."""
    return free_shipping_claim(None if free_over is None else f"{free_over:.2f}")


def claims_free_shipping(text: str) -> bool:
    return bool(_FREE_SHIPPING.search(re.sub(r"<[^>]+>", " ", text)))


def without_shipping_claims(tags: Iterable[str]) -> list[str]:
    """Tags without any free-shipping claim (a model's "Free Shipping" tag is dropped, not trusted)."""
    return [t for t in tags if not claims_free_shipping(t)]


def tags_with_claim(tags: Iterable[str], free_over: Decimal | None, max_tags: int) -> list[str]:
    """The listing's tags: its own, free of shipping claims, plus the store's claim when it has one."""
    kept = without_shipping_claims(tags)
    claim = shipping_claim(free_over)
    if claim is None:
        return kept
    return [*kept[: max_tags - 1], claim]


def caption_with_claim(caption: str, free_over: Decimal | None, max_length: int) -> str:
    """The ad caption: the model's (claim_problems refused any shipping claim in it), then the store's
    claim when there is one and it fits; a claim is never cut short, it is left out."""
    claim = shipping_claim(free_over)
    text = caption.strip()
    if claim is None:
        return text
    joined = f"{text} {claim}." if text.endswith((".", "!", "?")) else f"{text}. {claim}."
    return joined if len(joined) <= max_length else text
