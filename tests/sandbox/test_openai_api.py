"""The sandbox LLM speaks the OpenAI chat-completions contract, through the official client."""

import openai
import pytest

from dropship_sandbox import credentials
from dropship_sandbox.app import OPENAI_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "description_html": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "description_html", "tags"],
    "additionalProperties": False,
}


def client(sandbox: RunningSandbox, key: str = credentials.OPENAI_API_KEY) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=sandbox.url + OPENAI_PREFIX + "/v1", max_retries=0)


def ask(sandbox: RunningSandbox, schema: dict = SCHEMA):
    return client(sandbox).chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {
                "role": "user",
                "content": 'Write copy ```json\n{"name": "Moon Lamp", "category": "Lighting"}\n```',
            }
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "product_copy", "strict": True, "schema": schema},
        },
    )


def test_structured_answer_names_the_product(sandbox: RunningSandbox) -> None:
    completion = ask(sandbox)
    assert "Moon Lamp" in completion.choices[0].message.content
    assert completion.usage.total_tokens > 0


def test_wrong_key_is_401(sandbox: RunningSandbox) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(sandbox, "sk-wrong").chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )


def test_non_strict_schema_is_400(sandbox: RunningSandbox) -> None:
    with pytest.raises(openai.BadRequestError, match="additionalProperties"):
        ask(sandbox, {**SCHEMA, "additionalProperties": True})


def test_rate_limit_has_retry_headers(sandbox: RunningSandbox) -> None:
    sandbox.control("POST", "/faults/openai", {"rate_limit_rate": 1.0})
    with pytest.raises(openai.RateLimitError) as caught:
        ask(sandbox)
    assert caught.value.response.headers["retry-after"] == "1"


@pytest.mark.parametrize("mode", ["invalid_json", "empty", "refusal", "off_topic"])
def test_misbehaviour_on_demand(sandbox: RunningSandbox, mode: str) -> None:
    sandbox.control("POST", "/llm", {"mode": mode, "rate": 1.0})
    message = ask(sandbox).choices[0].message
    if mode == "refusal":
        assert message.refusal and message.content is None
    elif mode == "empty":
        assert message.content == ""
    elif mode == "off_topic":
        assert "Moon Lamp" not in message.content
    else:
        assert not message.content.endswith("}")
