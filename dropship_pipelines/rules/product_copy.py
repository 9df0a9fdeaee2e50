"""What product copy must look like before it reaches the store, and the facts it is written from."""

import hashlib
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_TITLE = 255
MAX_TAGS = 20
_UNSAFE_HTML = re.compile(r"<\s*(script|iframe|object|embed|style)|on\w+\s*=|javascript:", re.IGNORECASE)
_ALLOWED_TAGS = re.compile(r"</?(p|ul|ol|li|strong|em|b|i|br|h2|h3|span)\b[^>]*>", re.IGNORECASE)

COPY_SYSTEM_PROMPT = (
    "You write product listings for an online store. Use only the facts given in the JSON block; "
    "never invent materials, sizes, certifications or delivery promises. State a weight only as "
    "weight_g gives it. Never mention shipping costs or free shipping: the store adds its own shipping "
    "terms. Return a title of at most 70 characters, a short HTML description (<p>, <ul>, <li> only) and "
    "up to 10 tags."
)

# Claims a text may make only when the product's facts carry them.
LIGHTWEIGHT_MAX_G = 500  # "lightweight" of a product heavier than this misleads
WEIGHT_TOLERANCE = 0.05  # a stated weight within 5 % of the supplier's (rounding, g <-> oz)
_GRAMS_PER = {"g": 1.0, "gram": 1.0, "grams": 1.0, "kg": 1000.0, "oz": 28.3495, "lb": 453.592, "lbs": 453.592}
_WEIGHT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(kg|grams?|g|oz|lbs?)\b", re.IGNORECASE)
_LIGHT = re.compile(r"\b(light\s?weight|feather\s?light|ultra[- ]?light)\b", re.IGNORECASE)
_FREE_SHIPPING = re.compile(
    r"\bfree\s+(?:tracked\s+|standard\s+|express\s+)?(?:shipping|delivery)\b|\bships?\s+(?:for\s+)?free\b",
    re.IGNORECASE,
)
TYPED_SHIPPING_CLAIM = "states free shipping itself; the store adds its own terms from its shipping settings"


def claim_problems(texts: Iterable[str], facts: dict[str, Any]) -> list[str]:
    """Facts a model's text states that the product's facts do not have: a weight other than the
    supplier's, "lightweight" over LIGHTWEIGHT_MAX_G (or without a known weight), or free shipping at
    all: the model is not told the store's terms, the one claim copy may carry is rendered from them
    (rules/shipping_claims.py)."""
    weight = facts.get("weight_g")
    problems = []
    for text in texts:
        plain = re.sub(r"<[^>]+>", " ", text)
        for amount, unit in _WEIGHT.findall(plain):
            grams = float(amount.replace(",", ".")) * _GRAMS_PER[unit.lower()]
            if not weight or abs(grams - float(weight)) > WEIGHT_TOLERANCE * float(weight):
                problems.append(
                    f"states a weight of {amount} {unit}; the supplier's is {weight or 'unknown'} g"
                )
        if _LIGHT.search(plain) and (not weight or float(weight) > LIGHTWEIGHT_MAX_G):
            problems.append(f"calls the product lightweight at {weight or 'an unknown weight'} g")
        if _FREE_SHIPPING.search(plain):
            problems.append(TYPED_SHIPPING_CLAIM)
    return sorted(set(problems))


def free_shipping_claim(free_shipping_over: str | None) -> str | None:
    """The store's shipping promise as copy states it: "Free shipping over $35.00", "Free shipping", or
    nothing when the store charges shipping on every order (None)."""
    if free_shipping_over is None:
        return None
    return (
        "Free shipping" if Decimal(free_shipping_over) <= 0 else f"Free shipping over ${free_shipping_over}"
    )


class ProductCopy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="Product title, at most 70 characters")
    description_html: str = Field(description="HTML description using <p>, <ul> and <li> only")
    tags: list[str] = Field(description="Up to 10 short tags")


def copy_facts(
    name: str,
    category: str,
    variants: list[str],
    weight_g: float | None,
    shipping_days_max: int | None,
) -> dict[str, Any]:
    """The facts copy is written from. The store's shipping terms are none of them: the listing's claim
    is rendered from the store's settings when it is sent (rules/shipping_claims.py)."""
    return {
        "name": name,
        "category": category,
        "variants": variants,
        "weight_g": round(weight_g) if weight_g else None,
        "shipping_days": shipping_days_max,
    }


def facts_hash(facts: dict[str, Any]) -> str:
    """The copy cache key: the same facts never pay for the same copy twice."""
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def copy_prompt(facts: dict[str, Any]) -> str:
    return "Write the listing for this product.\n```json\n" + json.dumps(facts, sort_keys=True) + "\n```"


def copy_problems(copy: ProductCopy, facts: dict[str, Any]) -> list[str]:
    """Reasons the copy cannot be published as is; empty when it can."""
    problems = []
    title = copy.title.strip()
    if not title:
        problems.append("empty title")
    if len(title) > MAX_TITLE:
        problems.append(f"title longer than {MAX_TITLE} characters")
    if not copy.description_html.strip():
        problems.append("empty description")
    if _UNSAFE_HTML.search(copy.description_html):
        problems.append("description contains unsafe HTML")
    stripped = _ALLOWED_TAGS.sub("", copy.description_html)
    if "<" in stripped:
        problems.append("description uses HTML tags outside <p>, <ul>, <li>, <strong>, <em>")
    if len(copy.tags) > MAX_TAGS or any(len(t) > 255 or not t.strip() for t in copy.tags):
        problems.append("tags missing, empty or too many")
    name_words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", str(facts.get("name", "")))}
    text_words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", title + " " + copy.description_html)}
    if name_words and not name_words & text_words:
        problems.append("copy does not name the product (off-topic answer)")
    problems.extend(claim_problems([title, copy.description_html, *copy.tags], facts))
    return problems
