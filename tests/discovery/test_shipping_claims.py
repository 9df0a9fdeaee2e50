"""Shipping claims come from the store's own shipping settings (issue 11, item 7).

The store's delivery profiles are read over the sandbox's Shopify GraphQL (`deliveryProfiles`); the one
claim a listing's tags or an ad caption carry is rendered from the `free_shipping_over` fact derived from
them, and a claim the model writes itself is dropped (a tag) or refused (any other text)."""

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.shopify.shipping import shipping_profiles
from dropship_pipelines.rules.product_copy import TYPED_SHIPPING_CLAIM
from dropship_pipelines.rules.shipping_claims import (
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    caption_with_claim,
    claims_free_shipping,
    free_shipping_over,
    tags_with_claim,
)
from dropship_pipelines.store.ads_tables import ad_creatives
from dropship_pipelines.store.discovery_tables import product_copy
from dropship_testkit.pipelines import SMALL_VIDEO, build_ads_defs
from dropship_testkit.sandbox_server import RunningSandbox
from tests.ads import helpers as h
from tests.discovery.catalog_helpers import asset_metadata

US_ONLY_FREE = [{"name": "Domestic", "countries": ["US"], "rates": [{"name": "Free", "price": "0"}]}]
PRODUCTS = 3


# --- the rule -------------------------------------------------------------------------------------------
def zone(*rates: ShippingRate, countries: tuple[str, ...] = ("US",), rest: bool = False) -> ShippingZone:
    return ShippingZone("zone", frozenset(countries), rest, rates)


def profile(*zones: ShippingZone, complete: bool = True) -> ShippingProfile:
    return ShippingProfile("General profile", zones, complete)


STANDARD = ShippingRate("Standard", Decimal("4.99"), max_total=Decimal("34.99"))
FREE_OVER_35 = ShippingRate("Free", Decimal("0"), min_total=Decimal("35"))


def test_free_shipping_over_is_the_value_from_which_every_order_ships_free() -> None:
    assert free_shipping_over([profile(zone(STANDARD, FREE_OVER_35))], "US") == Decimal("35")
    assert free_shipping_over([profile(zone(ShippingRate("Free", Decimal("0"))))], "us") == 0
    assert free_shipping_over([profile(zone(STANDARD))], "US") is None  # always charged
    assert free_shipping_over([], "US") is None  # no profile: nothing is promised


def test_a_free_rate_that_not_every_order_gets_promises_nothing() -> None:
    free_small = ShippingRate("Free under $20", Decimal("0"), max_total=Decimal("20"))
    free_light = ShippingRate("Free under 1 kg", Decimal("0"), weight_limited=True)
    carrier = ShippingRate("UPS", None)  # calculated at checkout
    for rate in (free_small, free_light, carrier):
        assert free_shipping_over([profile(zone(STANDARD, rate))], "US") is None, rate


def test_the_country_is_charged_by_its_own_zone_else_the_rest_of_the_world() -> None:
    abroad = zone(ShippingRate("International", Decimal("14.99")), countries=(), rest=True)
    store = [profile(zone(STANDARD, FREE_OVER_35), abroad)]
    assert free_shipping_over(store, "US") == Decimal("35")
    assert free_shipping_over(store, "DE") is None
    assert free_shipping_over([profile(zone(STANDARD, FREE_OVER_35, countries=("CA",)))], "US") is None


def test_every_profile_the_country_ships_from_must_keep_the_promise() -> None:
    free_over_50 = profile(zone(STANDARD, ShippingRate("Free", Decimal("0"), min_total=Decimal("50"))))
    charged = profile(zone(STANDARD))
    general = profile(zone(STANDARD, FREE_OVER_35))
    assert free_shipping_over([general, free_over_50], "US") == Decimal("50")  # the highest threshold
    assert free_shipping_over([general, charged], "US") is None
    assert free_shipping_over([profile(zone(STANDARD, FREE_OVER_35), complete=False)], "US") is None


def test_the_claim_is_rendered_from_the_fact_and_the_models_own_is_dropped() -> None:
    tags = ["Pet", "Free Shipping", "ships free today"]
    assert tags_with_claim(tags, Decimal("35"), 10) == ["Pet", "Free shipping over $35.00"]
    assert tags_with_claim(tags, Decimal("0"), 10) == ["Pet", "Free shipping"]
    assert tags_with_claim(tags, None, 10) == ["Pet"]
    assert caption_with_claim("Lick Mat - Now $14.99.", Decimal("35"), 100) == (
        "Lick Mat - Now $14.99. Free shipping over $35.00."
    )
    assert caption_with_claim("Lick Mat - Now $14.99", None, 100) == "Lick Mat - Now $14.99"
    # A claim never is cut short: it is left out when the caption has no room for it.
    assert caption_with_claim("x" * 90, Decimal("35"), 100) == "x" * 90


# --- end to end over the sandbox's HTTP APIs ------------------------------------------------------------
@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


def shopify(env: dict[str, str]) -> ShopifyAdminResource:
    return ShopifyAdminResource(shop_url=env["SHOPIFY_SHOP_URL"], access_token=env["SHOPIFY_ACCESS_TOKEN"])


def store_texts(env: dict[str, str]) -> list[dict[str, Any]]:
    """Every listing as the store holds it: title, description and tags."""
    data = shopify(env).execute(
        'query { products(first: 50, query: "tag:source:cj") { nodes { title descriptionHtml tags } } }'
    )
    return data["products"]["nodes"]


def claims(texts: list[str]) -> set[str]:
    return {t for t in texts if claims_free_shipping(t)}


def listing_claims(env: dict[str, str]) -> list[set[str]]:
    return [claims([p["title"], p["descriptionHtml"], *p["tags"]]) for p in store_texts(env)]


def make_creatives(defs: dg.Definitions) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("ad_launch_job")
    return job.execute_in_process(
        run_config={"ops": {"ad_creatives": {"config": SMALL_VIDEO}}},
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey("ad_creatives")],
        raise_on_error=False,
    )


def unconditional(text: str) -> bool:
    """A free-shipping claim that names no order value."""
    return claims_free_shipping(text) and not re.search(r"\$\s?\d", text)


def test_charged_under_35_no_listing_or_caption_promises_free_shipping_unconditionally(
    pipeline_env: dict[str, str], sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    # The store's settings: $4.99 under $35, free from $35 (the sandbox world's default), read over HTTP.
    assert free_shipping_over(shipping_profiles(shopify(pipeline_env)), "US") == Decimal("35.00")
    # The model writes "Free Shipping" into every listing's tags and every caption, as in the issue.
    sandbox.control("POST", "/llm", {"mode": "free_shipping", "rate": 1.0})
    defs = build_ads_defs(media_dir=media_dir)
    h.list_products(defs, PRODUCTS)
    found = listing_claims(pipeline_env)
    assert len(found) == PRODUCTS
    assert all(texts == {"Free shipping over $35.00"} for texts in found), found
    # A caption claiming free shipping of the model's own is refused; the product waits for new copy.
    assert make_creatives(defs).success
    rows = h.rows(store_url, ad_creatives)
    assert len(rows) == PRODUCTS and all(r["status"] == "failed" for r in rows)
    assert all(TYPED_SHIPPING_CLAIM in r["error"] for r in rows)

    sandbox.control("POST", "/llm", {"mode": "good", "rate": 0.0})
    assert make_creatives(defs).success
    captions = [r["caption"] for r in h.rows(store_url, ad_creatives)]
    assert len(captions) == PRODUCTS and not any(unconditional(c) for c in captions), captions
    assert all(not claims_free_shipping(c) or "Free shipping over $35.00" in c for c in captions)
    assert any("Free shipping over $35.00" in c for c in captions), captions


def test_free_shipping_everywhere_may_be_claimed(
    pipeline_env: dict[str, str], sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    sandbox.control("POST", "/settings", {"shopify_shipping_zones": US_ONLY_FREE})
    defs = build_ads_defs(media_dir=media_dir)
    h.list_products(defs, PRODUCTS)
    assert listing_claims(pipeline_env) == [{"Free shipping"}] * PRODUCTS
    assert make_creatives(defs).success
    captions = [r["caption"] for r in h.rows(store_url, ad_creatives)]
    assert any(c.endswith("Free shipping.") for c in captions), captions


def test_without_a_delivery_profile_nothing_is_claimed_and_a_change_of_terms_resends_the_listings(
    pipeline_env: dict[str, str], sandbox: RunningSandbox, store_url: str, media_dir: Path
) -> None:
    defs = build_ads_defs(media_dir=media_dir)
    h.list_products(defs, PRODUCTS)
    assert listing_claims(pipeline_env) == [{"Free shipping over $35.00"}] * PRODUCTS
    copies = {r["pid"]: r["generated_at"] for r in h.rows(store_url, product_copy)}

    sandbox.control("POST", "/settings", {"shopify_shipping_zones": None})  # the profile is gone
    assert shipping_profiles(shopify(pipeline_env)) == []
    result = h.list_products(defs, PRODUCTS)
    # Every listing is sent again without its claim, and no copy was written again for it.
    assert asset_metadata(result, "store_listings")["updated"].value == PRODUCTS
    found = listing_claims(pipeline_env)
    assert len(found) == 2 * PRODUCTS and all(texts == set() for texts in found), found
    again = {r["pid"]: r["generated_at"] for r in h.rows(store_url, product_copy)}
    assert all(again[pid] == generated for pid, generated in copies.items())
    assert make_creatives(defs).success
    captions = [r["caption"] for r in h.rows(store_url, ad_creatives)]
    assert len(captions) == 2 * PRODUCTS and not any(claims_free_shipping(c) for c in captions), captions


def test_a_store_that_did_not_grant_read_shipping_is_told_which_scope_is_missing(
    pipeline_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    sandbox.control("POST", "/settings", {"shopify_granted_scopes": ["write_products"]})
    with pytest.raises(Exception, match="read_shipping"):
        shipping_profiles(shopify(pipeline_env))
