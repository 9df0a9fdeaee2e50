"""The store's shipping settings as Shopify's Admin GraphQL gives them (`deliveryProfiles`, scope
`read_shipping`), parsed into the shipping rules' own types (rules/shipping_claims.py).

A profile is read one at a time: its zones and rates nest two connections deep, and Shopify's calculated
cost multiplies their page sizes (ten zones of ten rates is about 550 points of the single query's 1,000).
A zone or rate list longer than a page marks the profile incomplete, and nothing is promised from it.
"""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dropship_pipelines.resources.shopify.client import ShopifyAdminResource, _parse
from dropship_pipelines.rules.shipping_claims import ShippingProfile, ShippingRate, ShippingZone

ZONES_PER_PAGE = 10
RATES_PER_PAGE = 10

DELIVERY_PROFILES = f"""
query ShippingSettings($after: String) {{
  deliveryProfiles(first: 1, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id name default
      profileLocationGroups {{
        locationGroupZones(first: {ZONES_PER_PAGE}) {{
          pageInfo {{ hasNextPage }}
          nodes {{
            zone {{ name countries {{ code {{ countryCode restOfWorld }} }} }}
            methodDefinitions(first: {RATES_PER_PAGE}) {{
              pageInfo {{ hasNextPage }}
              nodes {{
                name active
                rateProvider {{
                  __typename
                  ... on DeliveryRateDefinition {{ price {{ amount currencyCode }} }}
                }}
                methodConditions {{
                  field operator
                  conditionCriteria {{ __typename ... on MoneyV2 {{ amount currencyCode }} }}
                }}
              }}
            }}
          }}
        }}
      }}
    }}
  }}
}}
"""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Page(_Model):
    has_next_page: bool = Field(alias="hasNextPage")


class _Money(_Model):
    amount: Decimal


class _Criteria(_Model):
    typename: str = Field(alias="__typename")
    amount: Decimal | None = None


class _Condition(_Model):
    field: Literal["TOTAL_PRICE", "TOTAL_WEIGHT"]
    operator: Literal["GREATER_THAN_OR_EQUAL_TO", "LESS_THAN_OR_EQUAL_TO"]
    criteria: _Criteria = Field(alias="conditionCriteria")


class _RateProvider(_Model):
    typename: str = Field(alias="__typename")
    price: _Money | None = None


class _Method(_Model):
    name: str
    active: bool
    rate_provider: _RateProvider = Field(alias="rateProvider")
    conditions: list[_Condition] = Field(alias="methodConditions")

    def rate(self) -> ShippingRate:
        bounds: dict[str, Decimal] = {}
        weight_limited = False
        for condition in self.conditions:
            if condition.field == "TOTAL_WEIGHT" or condition.criteria.amount is None:
                weight_limited = True
                continue
            key = "min_total" if condition.operator == "GREATER_THAN_OR_EQUAL_TO" else "max_total"
            bounds[key] = condition.criteria.amount
        fixed = self.rate_provider.price if self.rate_provider.typename == "DeliveryRateDefinition" else None
        return ShippingRate(
            self.name, fixed.amount if fixed else None, weight_limited=weight_limited, **bounds
        )


class _Methods(_Model):
    page_info: _Page = Field(alias="pageInfo")
    nodes: list[_Method]


class _CountryCode(_Model):
    country_code: str | None = Field(alias="countryCode", default=None)
    rest_of_world: bool = Field(alias="restOfWorld")


class _Country(_Model):
    code: _CountryCode


class _Zone(_Model):
    name: str
    countries: list[_Country]


class _GroupZone(_Model):
    zone: _Zone
    methods: _Methods = Field(alias="methodDefinitions")


class _GroupZones(_Model):
    page_info: _Page = Field(alias="pageInfo")
    nodes: list[_GroupZone]


class _LocationGroup(_Model):
    zones: _GroupZones = Field(alias="locationGroupZones")


class DeliveryProfileNode(_Model):
    """One `DeliveryProfile` node of the query above."""

    name: str
    groups: list[_LocationGroup] = Field(alias="profileLocationGroups")

    def profile(self) -> ShippingProfile:
        zones: list[ShippingZone] = []
        complete = True
        for group in self.groups:
            complete &= not group.zones.page_info.has_next_page
            for item in group.zones.nodes:
                complete &= not item.methods.page_info.has_next_page
                codes = item.zone.countries
                zones.append(
                    ShippingZone(
                        item.zone.name,
                        frozenset(c.code.country_code for c in codes if c.code.country_code),
                        any(c.code.rest_of_world for c in codes),
                        tuple(m.rate() for m in item.methods.nodes if m.active),
                    )
                )
        return ShippingProfile(self.name, tuple(zones), complete)


def shipping_profiles(shopify: ShopifyAdminResource) -> list[ShippingProfile]:
    """The store's delivery profiles with each zone's active rates: what a shipping claim is derived
    from. An answer of another shape is a PayloadError; a missing `read_shipping` scope an ApiError."""
    profiles: list[ShippingProfile] = []
    after = None
    while True:
        page = shopify.execute(DELIVERY_PROFILES, {"after": after})["deliveryProfiles"]
        nodes = _parse(list[DeliveryProfileNode], page["nodes"], "deliveryProfiles")
        profiles.extend(node.profile() for node in nodes)
        if not page["pageInfo"]["hasNextPage"]:
            return profiles
        after = page["pageInfo"]["endCursor"]
