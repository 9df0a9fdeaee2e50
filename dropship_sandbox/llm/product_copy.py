"""Product copy from the supplier's facts: a title, an HTML description and tags that name them."""

import html
import random
from typing import Any

from dropship_sandbox import llm

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
    if facts.get("weight_g"):
        bullets.append(f"Lightweight: {facts['weight_g']} g")
    if days:
        bullets.append(f"Ships in {days} days with tracking")
    description = (
        f"<p>{html.escape(rng.choice(_OPENERS))} {html.escape(name)} - it {_benefit(category)}.</p>"
        "<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in bullets) + "</ul>"
    )
    leaf = category.split("/")[-1].strip() if category else "Gifts"
    tags = sorted({leaf, *(w for w in name.split() if len(w) > 3)} | ({"Free Shipping"} if days else set()))
    return {"title": name[:70], "description_html": description, "tags": tags[:10]}


llm.register("product_copy", good)
