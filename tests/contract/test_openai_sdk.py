"""The official `openai` client against the sandbox's chat completions, only its base URL changed: structured
outputs as the pipelines ask for them (strict json_schema, nested models as `$ref`s to `$defs`), and the
refusals and quota errors of the live API."""

import json
from collections.abc import Iterator
from typing import Any, Literal

import openai
import pytest
from pydantic import BaseModel

from dropship_sandbox import credentials
from dropship_sandbox.app import OPENAI_PREFIX
from dropship_testkit.sandbox_server import RunningSandbox


class Address(BaseModel):
    city: str
    zip: str


class Delivery(BaseModel):
    """Nested models: the SDK's strict schema refers to `Address` through `$ref: #/$defs/Address`."""

    status: Literal["in_transit", "delivered"]
    address: Address
    stops: list[Address]


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        api_key=credentials.OPENAI_API_KEY, base_url=sandbox.url + OPENAI_PREFIX + "/v1", max_retries=0
    ) as made:
        yield made


MESSAGES: list[Any] = [
    {"role": "system", "content": "You track parcels."},
    {"role": "user", "content": "Where is order #1001?"},
]


def schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


def test_parse_follows_the_referenced_definitions(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Delivery, temperature=0.2
    )
    message = completion.choices[0].message
    assert isinstance(message.parsed, Delivery)  # "ok" for an object would not parse
    assert message.parsed.status in ("in_transit", "delivered")
    assert isinstance(message.parsed.address, Address)


def test_a_json_schema_answer_is_a_json_string(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"reply": {"type": "string"}, "escalate": {"type": "boolean"}},
        "required": ["reply", "escalate"],
        "additionalProperties": False,
    }
    completion = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        response_format=schema_format("parcel_note", schema),  # type: ignore[arg-type]
        max_completion_tokens=400,
    )
    assert set(json.loads(completion.choices[0].message.content or "")) == {"reply", "escalate"}
    assert completion.choices[0].finish_reason == "stop"


CLOSED = {
    "type": "object",
    "properties": {"a": {"type": "string"}},
    "required": ["a"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("arguments", "param", "says"),
    [
        (
            {"response_format": schema_format("support reply!", CLOSED)},
            "response_format.json_schema.name",
            "pattern",
        ),
        ({"response_format": schema_format("x" * 65, CLOSED)}, "response_format.json_schema.name", "pattern"),
        (
            {"response_format": schema_format("open", {**CLOSED, "additionalProperties": True})},
            "response_format",
            "additionalProperties",
        ),
        (
            {"response_format": schema_format("partial", {**CLOSED, "required": []})},
            "response_format",
            "Missing 'a'",
        ),
        (
            {
                "response_format": schema_format(
                    "dangling", {**CLOSED, "properties": {"a": {"$ref": "#/$defs/Gone"}}}
                )
            },
            "response_format",
            "not found",
        ),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "Supported values"),
        ({"temperature": "warm"}, "temperature", "Invalid type"),
        ({"extra_body": {"temprature": 0.2}}, None, "Unrecognized request argument supplied: temprature"),
    ],
)
def test_requests_the_live_api_refuses(
    client: openai.OpenAI, arguments: dict[str, Any], param: str | None, says: str
) -> None:
    request: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, **arguments}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**request)
    error = caught.value.body
    assert isinstance(error, dict) and says in error["message"] and error["param"] == param
    assert caught.value.type == "invalid_request_error"


def test_insufficient_quota_is_a_429_no_wait_ends(client: openai.OpenAI, sandbox: RunningSandbox) -> None:
    sandbox.control("POST", "/settings", {"openai_insufficient_quota": True})
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.status_code == 429
    assert caught.value.code == "insufficient_quota" and caught.value.type == "insufficient_quota"


def test_a_wrong_key_is_refused(sandbox: RunningSandbox) -> None:
    with (
        openai.OpenAI(api_key="sk-wrong", base_url=sandbox.url + OPENAI_PREFIX + "/v1", max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        bad.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.code == "invalid_api_key"
