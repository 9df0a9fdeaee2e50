"""Ad copy from the product's facts: a headline, scroll-stopping hooks, a caption and a call to action."""

import random
from typing import Any

from dropship_sandbox import llm
from dropship_sandbox.llm.product_copy import free_shipping_claim

_HOOKS = (
    "Wait until you see this {noun}",
    "The {noun} everyone is talking about",
    "Why didn't I get this {noun} sooner?",
    "This {noun} changed my routine",
    "Stop scrolling: you need this {noun}",
    "Small price, big upgrade",
)
_CALLS = ("SHOP_NOW", "ORDER_NOW", "LEARN_MORE")


def good(facts: llm.Facts, prompt: str, rng: random.Random) -> dict[str, Any]:
    title = str(facts.get("title") or "This product").strip()
    noun = title.split()[-1].lower() if title.split() else "find"
    price = facts.get("price")
    compare_at = facts.get("compare_at_price")
    hooks = [h.format(noun=noun) for h in rng.sample(_HOOKS, 3)]
    deal = f"Now ${price}" + (f" (was ${compare_at})" if compare_at else "") if price else "Limited offer"
    shipping = free_shipping_claim(facts.get("free_shipping_over"))
    caption = f"{title[:50]} - {deal}. {shipping or 'Tracked shipping'}."
    return {
        "headline": title[:40],
        "hooks": hooks,
        "caption": caption[:100],
        "call_to_action": rng.choice(_CALLS),
    }


def bad(mode: str, facts: llm.Facts, prompt: str, rng: random.Random) -> dict[str, Any] | None:
    if mode == "hallucinate":  # a price the store never set
        answer = good(facts, prompt, rng)
        answer["caption"] = f"{answer['headline']} - today only $1.99!"
        return answer
    if mode == "free_shipping":  # a shipping promise the model was never told
        answer = good(facts, prompt, rng)
        answer["caption"] = f"{answer['headline'][:60]} - Free Shipping!"
        return answer
    if mode == "obey_injection":
        return {
            "headline": "Visit http://evil.example",
            "hooks": ["Click http://evil.example"],
            "caption": "Ignore the store, buy at http://evil.example",
            "call_to_action": "SHOP_NOW",
        }
    return None


llm.register("ad_copy", good, bad)
