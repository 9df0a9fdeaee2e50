"""The reply the LLM returns: structured, so that it never types a fact.

A reply is a list of parts. Free text (`text`) carries greeting, empathy, a question back or a closing,
and no entity; facts (`fact`), policy statements (`policy`) and executed actions (`action`) are only
named, and the code renders them (rules/reply_render.py). The JSON schema is strict (OpenAI structured
outputs: every property required, no additional properties, no $ref).
"""

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class FactName(StrEnum):
    ORDER_NAME = "order_name"
    ORDER_STATUS = "order_status"
    ITEMS = "items"
    TRACKING_NUMBER = "tracking_number"
    TRACKING_LINK = "tracking_link"
    CARRIER = "carrier"
    PLACED_ON = "placed_on"
    SHIPPED_ON = "shipped_on"
    TOTAL = "total"
    ETA_WINDOW = "eta_window"
    FIRST_NAME = "first_name"


class ActionKind(StrEnum):
    REFUND = "refund"
    CANCEL = "cancel"
    ADDRESS_CHANGE = "address_change"
    RESEND_TRACKING = "resend_tracking"


class TextPart(BaseModel):
    """Greeting, empathy, a question back or a closing: no fact, number, date, promise or claim."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["text"]
    text: str


class FactPart(BaseModel):
    """A fact of the customer's order, rendered by the code in the customer's language."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["fact"]
    fact: FactName


class PolicyPart(BaseModel):
    """A statement of the store's policy, quoted verbatim from the policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["policy"]
    policy: str = Field(description="id of a snippet in the store policy")


class ActionPart(BaseModel):
    """The statement of an action executed for this ticket (the renderer refuses any other)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["action"]
    action: ActionKind


Part = Annotated[TextPart | FactPart | PolicyPart | ActionPart, Field(discriminator="kind")]


class StructuredReply(BaseModel):
    """The draft of a reply, as the LLM must return it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    language: str = Field(description="ISO 639-1 code of the reply's language")
    parts: list[Part]
    escalate: bool = Field(description="true when a person should answer instead")
    confidence: float = Field(ge=0, le=1, description="0 to 1: how sure the parts answer the customer")


_PART_DESCRIPTIONS = {
    "text": TextPart.__doc__,
    "fact": FactPart.__doc__,
    "policy": PolicyPart.__doc__,
    "action": ActionPart.__doc__,
}


def _part_schema(kind: str, field: str, values: list[str] | None) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "string"}
    if values is not None:
        value["enum"] = values
    return {
        "type": "object",
        "description": _PART_DESCRIPTIONS[kind],
        "properties": {"kind": {"type": "string", "enum": [kind]}, field: value},
        "required": ["kind", field],
        "additionalProperties": False,
    }


def structured_reply_schema(policy_ids: tuple[str, ...]) -> dict[str, Any]:
    """The draft's JSON schema, strict and without $ref; `policy_ids` are the store policy's snippet ids.

    Written out rather than taken from pydantic: OpenAI's strict mode accepts neither pydantic's
    `oneOf` + `discriminator` for the parts nor `minimum`/`maximum`; the tests check the two agree.
    """
    return {
        "type": "object",
        "properties": {
            "language": {"type": "string", "description": "ISO 639-1 code of the reply's language"},
            "parts": {
                "type": "array",
                "items": {
                    "anyOf": [
                        _part_schema("text", "text", None),
                        _part_schema("fact", "fact", [fact.value for fact in FactName]),
                        _part_schema("policy", "policy", list(policy_ids)),
                        _part_schema("action", "action", [action.value for action in ActionKind]),
                    ]
                },
            },
            "escalate": {"type": "boolean", "description": "true when a person should answer instead"},
            "confidence": {"type": "number", "description": "0 to 1: how sure the parts answer the customer"},
        },
        "required": ["language", "parts", "escalate", "confidence"],
        "additionalProperties": False,
    }


def structured_reply_response_format(policy_ids: tuple[str, ...]) -> dict[str, Any]:
    """The `response_format` argument of an OpenAI chat completion asking for a StructuredReply."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "structured_reply",
            "strict": True,
            "schema": structured_reply_schema(policy_ids),
        },
    }
