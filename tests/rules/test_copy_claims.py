"""Copy states only the product's facts: weights as the supplier gives them, "lightweight" only for light
products, and no free shipping of the model's own (the store's claim is rendered from its settings:
tests/discovery/test_shipping_claims.py)."""

from decimal import Decimal

from dropship_pipelines.rules.ad_copy import AdCopy, ad_copy_facts
from dropship_pipelines.rules.ad_copy import copy_problems as ad_problems
from dropship_pipelines.rules.product_copy import (
    TYPED_SHIPPING_CLAIM,
    ProductCopy,
    claim_problems,
    copy_facts,
    copy_problems,
    free_shipping_claim,
)

LICK_MAT = copy_facts("Silicone Lick Mat", "Pet / Feeding", ["Blue"], 1332.0, 9)
EARRINGS = copy_facts("Pearl Drop Earrings", "Jewelry", ["Gold"], 12.0, 9)


def listing(description: str, tags: list[str] | None = None) -> ProductCopy:
    return ProductCopy(title="Silicone Lick Mat", description_html=description, tags=tags or ["Pet"])


def test_lightweight_is_refused_for_a_heavy_product_and_kept_for_a_light_one() -> None:
    problems = copy_problems(listing("<ul><li>Lightweight: 1332 g</li></ul>"), LICK_MAT)
    assert problems == ["calls the product lightweight at 1332 g"]
    assert claim_problems(["<li>Lightweight: 12 g</li>"], EARRINGS) == []
    assert copy_problems(listing("<ul><li>Weight: 1332 g</li></ul>"), LICK_MAT) == []


def test_a_weight_the_supplier_did_not_give_is_refused() -> None:
    assert claim_problems(["Only 300 g"], LICK_MAT) == ["states a weight of 300 g; the supplier's is 1332 g"]
    assert claim_problems(["1.33 kg of silicone"], LICK_MAT) == []  # the same weight in kg
    no_weight = copy_facts("Silicone Lick Mat", "Pet", [], None, 9)
    assert claim_problems(["Weighs 2 lb"], no_weight) == [
        "states a weight of 2 lb; the supplier's is unknown g"
    ]


def test_free_shipping_is_never_the_models_to_state() -> None:
    # The model is not told the store's terms: whatever they are, a claim it writes is a guess.
    for text in ("<p>A lick mat. Free shipping!</p>", "<p>Ships free over $35.00</p>"):
        assert copy_problems(listing(text), LICK_MAT) == [TYPED_SHIPPING_CLAIM]
    assert copy_problems(listing("<p>A lick mat.</p>", ["Pet", "Free Shipping"]), LICK_MAT) == [
        TYPED_SHIPPING_CLAIM
    ]
    assert "free_shipping_over" not in LICK_MAT  # not a fact the copy is written from
    assert free_shipping_claim("35.00") == "Free shipping over $35.00"
    assert free_shipping_claim(None) is None and free_shipping_claim("0.00") == "Free shipping"


def test_ad_captions_follow_the_same_facts() -> None:
    facts = ad_copy_facts("Silicone Lick Mat", Decimal("14.99"), None, "Pet / Feeding", weight_g=1332.0)
    ad = AdCopy(
        headline="Calm pets, clean bowls",
        hooks=["Lightweight and tough", "Keeps them busy"],
        caption="Silicone Lick Mat - Now $14.99. Free tracked shipping.",
        call_to_action="SHOP_NOW",
    )
    assert ad_problems(ad, facts) == ["calls the product lightweight at 1332 g", TYPED_SHIPPING_CLAIM]
    # Facts an ad did not have before keep the creatives' content hash: unknown ones are left out.
    assert "free_shipping_over" not in facts and "weight_g" not in ad_copy_facts(
        "Lamp", Decimal("5"), None, None
    )
