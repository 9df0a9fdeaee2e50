"""The LLM resource turns every kind of unusable answer into LlmOutputError, never a crash."""

import pytest

from dropship_pipelines.resources.errors import TransientApiError
from dropship_pipelines.resources.llm import LlmOutputError, LlmResource, strict_schema
from dropship_pipelines.rules.product_copy import ProductCopy, copy_prompt
from dropship_sandbox import credentials
from dropship_sandbox.app import OPENAI_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox

FACTS = {
    "name": "Galaxy Projector",
    "category": "Lighting",
    "variants": ["Black"],
    "weight_g": 300,
    "shipping_days": 8,
}


def llm(sandbox: RunningSandbox) -> LlmResource:
    return LlmResource(
        base_url=sandbox.url + OPENAI_PREFIX + "/v1",
        api_key=credentials.OPENAI_API_KEY,
        max_retries=1,
        timeout_s=3.0,
    )


def ask(sandbox: RunningSandbox):
    return llm(sandbox).structured(
        system="Write copy.", user=copy_prompt(FACTS), schema_name="product_copy", output=ProductCopy
    )


def test_strict_schema_closes_every_object() -> None:
    schema = strict_schema(ProductCopy)
    assert schema["additionalProperties"] is False and set(schema["required"]) == {
        "title",
        "description_html",
        "tags",
    }


def test_good_answer_is_parsed_with_usage(sandbox: RunningSandbox) -> None:
    result = ask(sandbox)
    assert "Galaxy Projector" in result.value.title and result.prompt_tokens > 0 and result.cost_usd > 0


@pytest.mark.parametrize(
    "mode,message", [("invalid_json", "invalid JSON"), ("empty", "empty answer"), ("refusal", "refused")]
)
def test_junk_answers_raise_output_errors(sandbox: RunningSandbox, mode: str, message: str) -> None:
    sandbox.control("POST", "/llm", {"mode": mode, "rate": 1.0})
    with pytest.raises(LlmOutputError, match=message):
        ask(sandbox)


def test_persistent_rate_limits_become_transient_errors(sandbox: RunningSandbox) -> None:
    sandbox.control("POST", "/faults/openai", {"rate_limit_rate": 1.0})
    with pytest.raises(TransientApiError):
        ask(sandbox)
