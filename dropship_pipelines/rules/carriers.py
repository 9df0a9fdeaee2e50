"""Carrier names as Shopify knows them, so the customer's tracking link works.

Shopify builds the tracking URL itself (and follows the shipment's status) only for the tracking companies
on its supported list (FulfillmentTrackingInfo.company, "Supported tracking companies"), spelt exactly as
there. CJ names its routes by product ("CJPacket Ordinary", "YunExpress Special Line", "USPS+", "4PX
Global Priority"); this maps a route, or the last-mile carrier CJ reports, to Shopify's spelling. A route
with no Shopify name keeps CJ's name and the tracking URL is always sent, so the link still works.

Plain functions, no I/O.
"""

import re
from dataclasses import dataclass

# Shopify's spelling (the supported-companies list), keyed by a normalised prefix of CJ's name. Longest
# prefix wins ("dhl ecommerce" before "dhl"). CJPacket is CJ's own line and not on Shopify's list.
SHOPIFY_CARRIERS: dict[str, str] = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl ecommerce asia": "DHL eCommerce Asia",
    "dhl ecommerce": "DHL eCommerce",
    "dhl paket": "Deutsche Post",
    "dhl": "DHL Express",
    "yunexpress": "YunExpress",
    "yun express": "YunExpress",
    "4px": "4PX",
    "china post": "China Post",
    "china ems": "China EMS (ePacket)",
    "epacket": "China EMS (ePacket)",
    "yanwen": "Yanwen",
    "sf express": "SF Express",
    "cainiao": "Cainiao",
    "canada post": "Canada Post",
    "royal mail": "Royal Mail",
    "australia post": "Australia Post",
    "deutsche post": "Deutsche Post",
    "la poste": "La Poste",
    "colissimo": "Colissimo",
    "postnl": "PostNL",
    "correos": "Correos",
    "poste italiane": "Poste Italiane",
    "evri": "Evri",
    "dpd": "DPD",
    "gls": "GLS",
}
_BY_LENGTH = sorted(SHOPIFY_CARRIERS, key=len, reverse=True)


@dataclass(frozen=True)
class ShopifyTracking:
    """What the fulfillment's `trackingInfo` carries."""

    company: str | None  # Shopify's name when it knows the carrier, else the supplier's own name
    url: str  # always sent: Shopify's own link for a known company, ours for the rest
    known: bool  # whether Shopify knows `company` (its link and shipment status then work)


def _words(name: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).split()


def shopify_company(name: str | None) -> str | None:
    """Shopify's name of the carrier `name` (a CJ route or a last-mile carrier), None when not on its list."""
    if not name or not name.strip():
        return None
    words = _words(name)
    for prefix in _BY_LENGTH:
        wanted = prefix.split()
        if words[: len(wanted)] == wanted:  # whole words: "UPS" is not the start of "Upstate Post"
            return SHOPIFY_CARRIERS[prefix]
    return None


def shopify_tracking(route: str | None, last_mile: str | None, url: str) -> ShopifyTracking:
    """The tracking company to post for a parcel on `route`: the route's Shopify name, else the last-mile
    carrier's (CJ hands many parcels to USPS or a national post), else the route's own name. `url` (the
    supplier's tracking page or a universal tracker) is kept in every case."""
    if not url:
        raise ValueError("a tracking url is required (an unknown carrier has no other link)")
    for name in (route, last_mile):
        company = shopify_company(name)
        if company:
            return ShopifyTracking(company, url, True)
    return ShopifyTracking((route or last_mile or "").strip() or None, url, False)
