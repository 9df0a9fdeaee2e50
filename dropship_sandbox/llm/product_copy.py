"""Product copy from the supplier's facts: a title, an HTML description and tags that name them."""

import html
import random
from typing import Any

from dropship_sandbox import llm

LIGHTWEIGHT_MAX_G = 500  # a model that follows its prompt calls only light products lightweight

_OPENERS = ("Meet the", "Say hello to the", "Upgrade your day with the", "Discover the")
_BENEFITS = {
    "Lighting": "sets the mood in any room",
    "Pet": "keeps your pet happy and busy",
    "Beauty": "turns your routine into a spa moment",
    "Kitchen": "saves you time in the kitchen",
    "Phone": "keeps your phone ready wherever you go",
    "Fitness": "makes every workout count",
    "Jewelry": "adds an effortless finishing touch",
    "Toys": "sparks hours of creative play",
    "Car": "keeps your car tidy and comfortable",
    "Storage": "brings order to every corner",
}


def free_shipping_claim(free_shipping_over: object) -> str | None:
    """The store's free-shipping promise as the facts give it (None: shipping is charged)."""
    if free_shipping_over is None:
        return None
    return (
        "Free shipping"
        if float(str(free_shipping_over)) <= 0
        else f"Free shipping over ${free_shipping_over}"
    )


def _benefit(category: str) -> str:
    return next(
        (text for key, text in _BENEFITS.items() if key.lower() in category.lower()),
        "makes everyday life easier",
    )


def good(facts: llm.Facts, prompt: str, rng: random.Random) -> dict[str, Any]:
    name = str(facts.get("name") or "Product").strip()
    category = str(facts.get("category") or "")
    variants = [str(v) for v in facts.get("variants") or []]
    days = facts.get("shipping_days")
    bullets = [f"{name} that {_benefit(category)}"]
    if variants:
        bullets.append(f"Available in {', '.join(variants[:6])}")
    weight = facts.get("weight_g")
    if weight:
        bullets.append(f"Lightweight: {weight} g" if weight <= LIGHTWEIGHT_MAX_G else f"Weight: {weight} g")
    if days:
        bullets.append(f"Ships in {days} days with tracking")
    description = (
        f"<p>{html.escape(rng.choice(_OPENERS))} {html.escape(name)} - it {_benefit(category)}.</p>"
        "<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in bullets) + "</ul>"
    )
    leaf = category.split("/")[-1].strip() if category else "Gifts"
    shipping = free_shipping_claim(facts.get("free_shipping_over"))
    tags = sorted({leaf, *(w for w in name.split() if len(w) > 3)} | ({shipping} if shipping else set()))
    return {"title": name[:70], "description_html": description, "tags": tags[:10]}


def bad(mode: str, facts: llm.Facts, prompt: str, rng: random.Random) -> dict[str, Any] | None:
    if mode == "free_shipping":  # a store-wide promise the model was never told: the "Free Shipping"
        answer = good(facts, prompt, rng)
        answer["tags"] = [*answer["tags"][:9], "Free Shipping"]
        return answer
    return None


llm.register("product_copy", good, bad)
