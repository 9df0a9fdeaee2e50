"""The sandbox LLM: structured answers composed from the facts in the prompt, per response schema.

The pipelines put the facts a model needs into the user message as a JSON block; a generator registered
for the response schema's name turns them into a plausible answer. Misbehaviour (invalid JSON, empty or
off-topic output, hallucinations, obeying an injected instruction) is switched on through the control API.
A situated generator (`register_situated`) also sees the world: customer service classifies the messages
the world wrote knowing their true intent, and keeps the ground truth of its unsafe drafts in the audit.
"""

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dropship_sandbox.world import World

Facts = dict[str, Any]


@dataclass(frozen=True)
class Generator:
    good: Callable[[Facts, str, random.Random], dict[str, Any]]
    # Scenario-specific bad answers (e.g. a hallucinated tracking number); None = use the generic ones.
    bad: Callable[[str, Facts, str, random.Random], dict[str, Any] | None] | None = None


GENERATORS: dict[str, Generator] = {}


def register(
    schema_name: str,
    good: Callable[[Facts, str, random.Random], dict[str, Any]],
    bad: Callable[[str, Facts, str, random.Random], dict[str, Any] | None] | None = None,
) -> None:
    GENERATORS[schema_name] = Generator(good=good, bad=bad)


@dataclass(frozen=True)
class Ask:
    """One request, as a situated generator sees it (called under the world's lock)."""

    world: "World"
    schema_name: str
    schema: dict[str, Any] | None
    prompt: str  # the user messages
    facts: Facts
    mode: str  # the generic misbehaviour drawn for this request ("good" when none)


Situated = Callable[[Ask], dict[str, Any]]
SITUATED: dict[str, Situated] = {}


def register_situated(schema_name: str, generator: Situated) -> None:
    SITUATED[schema_name] = generator


def situated_for(schema_name: str, schema: dict[str, Any] | None) -> Situated | None:
    """The situated generator of a schema name, or of a schema shaped like a StructuredReply draft."""
    if schema_name in SITUATED:
        return SITUATED[schema_name]
    properties = set((schema or {}).get("properties") or {})
    if {"language", "parts", "escalate", "confidence"} <= properties:
        return SITUATED.get("structured_reply")
    return None


_JSON_BLOCK = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def extract_facts(text: str) -> Facts:
    """The first JSON object in the prompt (fenced or bare); {} when there is none."""
    match = _JSON_BLOCK.search(text)
    candidates = [match.group(1)] if match else []
    start = text.find("{")
    if start >= 0:
        candidates.append(text[start : text.rfind("}") + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def fill_schema(schema: dict[str, Any], rng: random.Random) -> Any:
    """A schema-shaped answer for a schema nobody registered a generator for."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {name: fill_schema(sub, rng) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [fill_schema(schema.get("items", {}), rng)]
    if kind in ("number", "integer"):
        return 0
    if kind == "boolean":
        return False
    return "ok"


def off_topic(value: Any) -> Any:
    """Valid shape, useless content: what a distracted model returns."""
    if isinstance(value, dict):
        return {k: off_topic(v) for k, v in value.items()}
    if isinstance(value, list):
        return [off_topic(v) for v in value]
    if isinstance(value, str):
        return "As an AI language model, I enjoy talking about the weather. It is sunny today."
    return value


from dropship_sandbox.llm import (  # noqa: E402  (generators register after the registry exists)
    ad_copy,  # noqa: F401  (registers its generator)
    product_copy,  # noqa: F401  (registers its generator)
    support,  # noqa: F401  (registers its generators)
)
