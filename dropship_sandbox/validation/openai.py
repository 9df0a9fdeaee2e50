"""OpenAI chat completion requests, checked against the openai package's own request types.

`openai.types.chat.completion_create_params.CompletionCreateParamsNonStreaming` is the TypedDict the SDK
builds every request from: its keys are the arguments the API knows (any other is "Unrecognized request
argument supplied"), its types (validated with pydantic) what each may hold. Structured outputs add the
rules of strict mode: a `json_schema` name of `[a-zA-Z0-9_-]{1,64}`, an object at the root, every object
closed (`additionalProperties: false`) with all of its properties required, and every `$ref` resolving to a
definition in the schema's `$defs`. The errors are OpenAI's: HTTP 400 `invalid_request_error` with the
offending `param`.
"""

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, get_type_hints

from openai.types.chat import completion_create_params
from pydantic import TypeAdapter, ValidationError

SCHEMA_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
MAX_REF_DEPTH = 12  # how deep a recursive schema is unfolded for an answer


class InvalidRequest(Exception):
    """A request OpenAI refuses with HTTP 400; the router renders its error body."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


@cache
def _request_type() -> TypeAdapter[Any]:
    return TypeAdapter(completion_create_params.CompletionCreateParamsNonStreaming)


@cache
def request_arguments() -> frozenset[str]:
    """Every argument the SDK's request type declares (`stream` included: the SDK's streaming variant)."""
    return frozenset(get_type_hints(completion_create_params.CompletionCreateParamsBase)) | {"stream"}


def load_definitions() -> None:
    """Build the request type's validator once, when the sandbox starts."""
    _request_type()
    request_arguments()


def _param(location: tuple[Any, ...]) -> str:
    """pydantic's error location as OpenAI names a parameter (`messages[0].content`), union members out."""
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif isinstance(part, str) and not part[:1].isupper() and "[" not in part:
            parts.append(("." if parts else "") + part)
    return "".join(parts)


def check_request(body: Any) -> None:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    unknown = sorted(set(body) - request_arguments())
    if unknown:
        raise InvalidRequest(f"Unrecognized request argument supplied: {unknown[0]}")
    for name in ("model", "messages"):
        if name not in body:
            raise InvalidRequest(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
    if not isinstance(body["messages"], list) or not body["messages"]:
        raise InvalidRequest(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            "messages",
            "empty_array",
        )
    for position, message in enumerate(body["messages"]):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ROLES:
            supported = ", ".join(f"'{r}'" for r in ROLES)
            raise InvalidRequest(
                f"Invalid value: '{role}'. Supported values are: {supported}.",
                f"messages[{position}].role",
                "invalid_value",
            )
    try:
        checked = _request_type().validate_python(body)
        for message in checked["messages"]:  # an Iterable is validated as it is read
            content = message.get("content")
            if content is not None and not isinstance(content, str):
                list(content)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = _param(tuple(first["loc"]))
        raise InvalidRequest(f"Invalid type for '{param}': {first['msg']}.", param, "invalid_type") from None
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        check_json_schema(response_format.get("json_schema") or {})


def check_json_schema(spec: Mapping[str, Any]) -> None:
    name = spec.get("name")
    if not isinstance(name, str) or not SCHEMA_NAME.fullmatch(name):
        raise InvalidRequest(
            "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string "
            "that matches the pattern '^[a-zA-Z0-9_-]+$' of at most 64 characters.",
            "response_format.json_schema.name",
            "invalid_value",
        )
    if not spec.get("strict"):
        return
    schema = spec.get("schema") or {}
    problem = strict_schema_problem(schema)
    if problem:
        raise InvalidRequest(
            f"Invalid schema for response_format '{name}': {problem}.", "response_format", "invalid_value"
        )


def _ref_target(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, Mapping) else None


def strict_schema_problem(schema: Mapping[str, Any]) -> str | None:
    """Strict mode's rules, or None: the root is an object; every object closes `additionalProperties`
    and requires all of its properties; every `$ref` names a definition the schema holds."""
    if schema.get("type") != "object" and "$ref" not in schema:
        return (
            "schema must be a JSON Schema of 'type: \"object\"', got 'type: \""
            + str(schema.get("type"))
            + "\"'"
        )
    return _problem(schema, schema, "", set())


def _problem(root: Mapping[str, Any], schema: Mapping[str, Any], path: str, seen: set[str]) -> str | None:
    where = path or "root"
    if "$ref" in schema:
        ref = str(schema["$ref"])
        target = _ref_target(root, ref)
        if target is None:
            return f"reference to component '{ref}' which was not found in the schema, at {where}"
        if ref in seen:
            return None  # recursion: the definition is checked where it was first met
        return _problem(root, target, path, seen | {ref})
    if schema.get("type") == "object":
        if schema.get("additionalProperties") is not False:
            return f"'additionalProperties' is required to be supplied and to be false at {where}"
        missing = set(schema.get("properties", {})) - set(schema.get("required", []))
        if missing:
            return (
                f"'required' is required to be supplied and to be an array including every key in "
                f"properties. Missing '{sorted(missing)[0]}' at {where}"
            )
        for name, sub in schema.get("properties", {}).items():
            problem = _problem(root, sub, f"{path}.{name}" if path else name, seen)
            if problem:
                return problem
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        problem = _problem(root, schema["items"], f"{path}[]", seen)
        if problem:
            return problem
    for index, option in enumerate(schema.get("anyOf") or []):
        problem = _problem(root, option, f"{path}<anyOf {index}>", seen)
        if problem:
            return problem
    for name, definition in (schema.get("$defs") or {}).items():
        problem = _problem(root, definition, f"$defs.{name}", seen)
        if problem:
            return problem
    return None


def resolve_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with each `$ref` replaced by the definition it names (recursion unfolded a few levels),
    so that an answer drafted from it follows the referenced definitions."""
    return _resolved(schema, schema, 0)


def _resolved(root: Mapping[str, Any], node: Any, depth: int) -> Any:
    if isinstance(node, list):
        return [_resolved(root, item, depth) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        target = _ref_target(root, str(node["$ref"]))
        if target is None or depth >= MAX_REF_DEPTH:
            return {"type": "null"}
        return _resolved(root, target, depth + 1)
    return {key: _resolved(root, value, depth) for key, value in node.items() if key != "$defs"}
