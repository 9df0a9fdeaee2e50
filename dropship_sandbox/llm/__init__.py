"""The sandbox LLM: structured answers composed from the facts in the prompt, per response schema.

The pipelines put the facts a model needs into the user message as a JSON block; a generator registered
for the response schema's name turns them into a plausible answer. Misbehaviour (invalid JSON, empty or
off-topic output, hallucinations, obeying an injected instruction) is switched on through the control API.
"""

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
