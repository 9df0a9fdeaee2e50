"""What product copy must look like before it reaches the store, and the facts it is written from."""

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_TITLE = 255
MAX_TAGS = 20
_UNSAFE_HTML = re.compile(r"<\s*(script|iframe|object|embed|style)|on\w+\s*=|javascript:", re.IGNORECASE)
_ALLOWED_TAGS = re.compile(r"</?(p|ul|ol|li|strong|em|b|i|br|h2|h3|span)\b[^>]*>", re.IGNORECASE)

COPY_SYSTEM_PROMPT = (
    "You write product listings for an online store. Use only the facts given in the JSON block; "
    "never invent materials, sizes, certifications or delivery promises. Return a title of at most 70 "
    "characters, a short HTML description (<p>, <ul>, <li> only) and up to 10 tags."
)


class ProductCopy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="Product title, at most 70 characters")
    description_html: str = Field(description="HTML description using <p>, <ul> and <li> only")
    tags: list[str] = Field(description="Up to 10 short tags")


def copy_facts(
    name: str, category: str, variants: list[str], weight_g: float | None, shipping_days_max: int | None
) -> dict[str, Any]:
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
    return problems
