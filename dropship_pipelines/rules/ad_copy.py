"""Ad copy: what the LLM is asked, the shape its answer must have and what makes an answer unusable.

The facts (title, price, compare-at price, category) go to the model as a JSON block; the answer is a
headline, 2-4 hooks (one per video scene), a caption that fits TikTok's 100-character ad text and a
call to action both platforms accept. An answer naming a price the store does not charge, a link, or
chatbot talk is rejected and retried on the next run.
"""

import hashlib
import json
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from dropship_pipelines.rules.product_copy import claim_problems

CALLS_TO_ACTION = {"SHOP_NOW": "Shop now", "ORDER_NOW": "Order now", "LEARN_MORE": "Learn more"}
MAX_CAPTION = 100  # TikTok's ad_text limit; Meta allows more
MAX_HOOK = 60
MAX_HEADLINE = 40
_PRICE = re.compile(r"\$\s?(\d+(?:\.\d{1,2})?)")
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_CHATBOT = ("as an ai", "language model", "i'm sorry", "i cannot")

AD_COPY_SYSTEM_PROMPT = (
    "You write short-form video ad copy for an online store. Use only the facts given. Answer with a "
    "headline (max 40 characters), 2 to 4 hooks (max 60 characters each, one per scene of a vertical "
    "video), a caption (max 100 characters) and a call_to_action (SHOP_NOW, ORDER_NOW or LEARN_MORE). "
    "Never invent prices, discounts, links or claims that are not in the facts: a weight only as weight_g "
    "gives it. Never mention shipping costs or free shipping: the store adds its own shipping terms."
)
# Facts the ad is made from (its content hash) that the model is not told: the caption's shipping claim is
# rendered from the store's terms after the model answered (rules/shipping_claims.py).
RENDERED_FACTS = ("free_shipping_over",)


class AdCopy(BaseModel):
    headline: str
    hooks: list[str]
    caption: str
    call_to_action: str


def ad_copy_facts(
    title: str,
    price: Decimal,
    compare_at: Decimal | None,
    category: str | None,
    *,
    weight_g: float | None = None,
    free_shipping_over: Decimal | None = None,
) -> dict[str, Any]:
    """The facts an ad is made from; the optional ones are added only when known (so the creatives of
    products without them keep their content hash). `free_shipping_over` is the store's (rendered into
    the caption, never told to the model)."""
    facts: dict[str, Any] = {
        "title": title,
        "price": f"{price:.2f}",
        "compare_at_price": f"{compare_at:.2f}" if compare_at else None,
        "category": (category or "").split("/")[-1].strip() or None,
    }
    if weight_g:
        facts["weight_g"] = round(weight_g)
    if free_shipping_over is not None:
        facts["free_shipping_over"] = f"{free_shipping_over:.2f}"
    return facts


def ad_copy_prompt(facts: dict[str, Any]) -> str:
    told = {k: v for k, v in facts.items() if k not in RENDERED_FACTS}
    return "Write the ad copy for this product.\n```json\n" + json.dumps(told, sort_keys=True) + "\n```"


def content_hash(facts: dict[str, Any], video_settings: dict[str, Any]) -> str:
    """What a creative was made from: a change in any of it makes a new creative."""
    blob = json.dumps({"facts": facts, "video": video_settings}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def copy_problems(copy: AdCopy, facts: dict[str, Any]) -> list[str]:
    """Why this answer cannot run as an ad; empty when it can."""
    problems = []
    if not 3 <= len(copy.headline.strip()) <= MAX_HEADLINE:
        problems.append(f"headline must be 3-{MAX_HEADLINE} characters")
    hooks = [h.strip() for h in copy.hooks if h.strip()]
    if not 2 <= len(hooks) <= 4:
        problems.append("needs 2-4 hooks")
    if any(len(h) > MAX_HOOK for h in hooks):
        problems.append(f"a hook is longer than {MAX_HOOK} characters")
    if not 1 <= len(copy.caption.strip()) <= MAX_CAPTION:
        problems.append(f"caption must be 1-{MAX_CAPTION} characters")
    if copy.call_to_action not in CALLS_TO_ACTION:
        problems.append(f"call_to_action {copy.call_to_action!r} is not one of {sorted(CALLS_TO_ACTION)}")
    texts = [copy.headline, copy.caption, *hooks]
    allowed = {facts.get("price"), facts.get("compare_at_price")} - {None}
    for text in texts:
        for amount in _PRICE.findall(text):
            if f"{Decimal(amount):.2f}" not in allowed:
                problems.append(f"names a price the store does not charge: ${amount}")
        if _LINK.search(text):
            problems.append("contains a link")
        if any(phrase in text.lower() for phrase in _CHATBOT):
            problems.append("reads like a chatbot, not an ad")
    problems.extend(claim_problems(texts, facts))
    return sorted(set(problems))
