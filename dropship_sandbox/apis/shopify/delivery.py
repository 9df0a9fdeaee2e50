"""Shipping settings: `deliveryProfiles`, the store's delivery profile with its zones and rates.

The world's `shopify_shipping_zones` is the merchant's shipping page: each zone's countries ("*" for the
rest of the world) and rates, a rate's `min_total` / `max_total` being its order-price conditions. They are
answered as Shopify nests them: one default "General profile", one location group, its zones, and per
zone the method definitions with a `DeliveryRateDefinition` price and `TOTAL_PRICE` conditions. None (no
profile) answers an empty connection, as a shop that never set up shipping.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from dropship_sandbox.apis.shopify.common import connection, gid, world_of
from dropship_sandbox.apis.shopify.registry import query_field

CURRENCY = "USD"
_COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany"}


def _money(value: Any, where: str) -> dict[str, Any]:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"shopify_shipping_zones: {where} is not an amount: {value!r}") from exc
    return {"amount": f"{amount:.2f}", "currencyCode": CURRENCY}


def _method(zone_index: int, rate_index: int, rate: dict[str, Any]) -> dict[str, Any]:
    number = (zone_index + 1) * 100 + rate_index + 1
    conditions = []
    for key, operator in (("min_total", "GREATER_THAN_OR_EQUAL_TO"), ("max_total", "LESS_THAN_OR_EQUAL_TO")):
        if rate.get(key) is not None:
            conditions.append(
                {
                    "id": gid("DeliveryCondition", number * 10 + len(conditions) + 1),
                    "field": "TOTAL_PRICE",
                    "operator": operator,
                    "conditionCriteria": {"__typename": "MoneyV2", **_money(rate[key], key)},
                }
            )
    return {
        "id": gid("DeliveryMethodDefinition", number),
        "name": str(rate.get("name") or "Shipping"),
        "active": bool(rate.get("active", True)),
        "description": None,
        "rateProvider": {
            "__typename": "DeliveryRateDefinition",
            "id": gid("DeliveryRateDefinition", number),
            "price": _money(rate.get("price"), f"the price of {rate.get('name')!r}"),
        },
        "methodConditions": conditions,
    }


def _country(code: str, number: int) -> dict[str, Any]:
    rest = code == "*"
    return {
        "id": gid("DeliveryCountry", number),
        "name": "Rest of World" if rest else _COUNTRY_NAMES.get(code, code),
        "code": {"countryCode": None if rest else code, "restOfWorld": rest},
    }


def _zone_view(index: int, zone: dict[str, Any]) -> dict[str, Any]:
    methods = [_method(index, i, rate) for i, rate in enumerate(zone.get("rates") or [])]

    def method_definitions(
        info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        eligible: bool | None = None,
        type: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        # Every method here is a merchant's flat rate, each eligible: a PARTICIPANT filter finds none.
        chosen = [] if type == "PARTICIPANT" or eligible is False else methods
        return connection(chosen, first, after, key=lambda m: m["id"])

    return {
        "zone": {
            "id": gid("DeliveryZone", index + 1),
            "name": str(zone.get("name") or f"Zone {index + 1}"),
            "countries": [
                _country(str(code), (index + 1) * 100 + n)
                for n, code in enumerate(zone.get("countries") or [])
            ],
        },
        "methodDefinitions": method_definitions,
    }


def _profile_view(zones: list[dict[str, Any]]) -> dict[str, Any]:
    group_zones = [_zone_view(i, zone) for i, zone in enumerate(zones)]
    group = {
        "locationGroup": {"id": gid("DeliveryLocationGroup", 1)},
        "locationGroupZones": lambda info, first=None, after=None, **_: connection(
            group_zones, first, after, key=lambda z: z["zone"]["id"]
        ),
    }
    return {
        "id": gid("DeliveryProfile", 1),
        "name": "General profile",
        "default": True,
        "activeMethodDefinitionsCount": sum(len(z.get("rates") or []) for z in zones),
        "profileLocationGroups": lambda info, locationGroupId=None: (
            [group] if locationGroupId in (None, group["locationGroup"]["id"]) else []
        ),
    }


@query_field("deliveryProfiles")
def resolve_delivery_profiles(
    root: Any, info: GraphQLResolveInfo, first: int | None = None, after: str | None = None, **_: Any
) -> dict[str, Any]:
    zones = world_of(info).settings.shopify_shipping_zones
    profiles = [] if zones is None else [_profile_view(zones)]
    return connection(profiles, first, after, key=lambda p: p["id"])
