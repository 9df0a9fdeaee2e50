"""An OpenAI-compatible `POST /v1/chat/completions` (api-contracts.md §5), with strict structured outputs."""

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from dropship_sandbox import credentials, llm
from dropship_sandbox.apis.pipeline import ApiError, ApiPolicy, Call
from dropship_sandbox.validation import openai as request_types
from dropship_sandbox.world import World

request_types.load_definitions()

RATE_HEADERS = {
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-limit-tokens": "2000000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-remaining-tokens": "1999000",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-reset-tokens": "30ms",
}


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    headers: dict[str, str] | None = None,
    param: str | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": param, "code": code}},
        status_code=status,
        headers={"x-request-id": f"req_{uuid.uuid4().hex}", **(headers or {})},
    )


class OpenAiError(ApiError):
    def __init__(self, status: int, message: str, kind: str, code: str | None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code

    def response(self) -> JSONResponse:
        return _error(self.status, self.message, self.kind, self.code)


async def require_api_key(request: Request) -> None:
    """The router's gate: OpenAI refuses a wrong key before it reads the request."""
    auth = request.headers.get("Authorization", "")
    if auth != f"Bearer {credentials.OPENAI_API_KEY}":
        shown = auth.removeprefix("Bearer ")[:6]
        raise OpenAiError(
            401,
            f"Incorrect API key provided: {shown}***. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )


router = APIRouter(dependencies=[Depends(require_api_key)])


@dataclass(frozen=True, kw_only=True)
class CompletionCall(Call):
    model: str


class OpenAiApi(ApiPolicy[CompletionCall]):
    """`{"error": {message, type, param, code}}` bodies; no quota of its own, only injected throttles.

    Completions are reads: they never lose their answer.
    """

    api = "openai"

    def throttle(self, world: World, request: Request, call: CompletionCall) -> None:
        if world.settings.openai_insufficient_quota:
            # HTTP 429 like a rate limit, but no wait ends it: the account is out of credit.
            raise OpenAiError(
                429,
                "You exceeded your current quota, please check your plan and billing details. For more "
                "information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "insufficient_quota",
                "insufficient_quota",
            )

    def server_error(self, world: World, call: CompletionCall) -> JSONResponse:
        return _error(
            500,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        )

    def rate_limited(self, world: World, call: CompletionCall) -> JSONResponse:
        return _error(
            429,
            f"Rate limit reached for {call.model} in organization org-sandbox on tokens per "
            "min (TPM): Limit 200000, Used 199000, Requested 1500. Please try again in 150ms.",
            "tokens",
            "rate_limit_exceeded",
            {
                **RATE_HEADERS,
                "retry-after": "1",
                "retry-after-ms": "150",
                "x-ratelimit-remaining-tokens": "0",
            },
        )

    def lost_answer(self, world: World, call: CompletionCall) -> JSONResponse:
        return self.server_error(world, call)

    def answer(self, data: dict[str, Any], grant: None, call: CompletionCall) -> JSONResponse:
        return JSONResponse(data, headers={**RATE_HEADERS, "x-request-id": f"req_{uuid.uuid4().hex}"})


OPENAI = OpenAiApi()


# The misbehaviours every schema can show; any other mode is a schema's own (a situated generator's).
_GENERIC_MODES = ("invalid_json", "empty", "off_topic", "refusal")
# gpt-4o-mini: 128k tokens of context, at most 16,384 completion tokens.
CONTEXT_TOKENS = 128_000
MAX_COMPLETION_TOKENS = 16_384


def _tokens(text: str) -> int:
    """About four characters a token, as OpenAI's tokenizers average on English text."""
    return max(1, len(text) // 4)


def _answer(
    world: World, schema_name: str, schema: dict[str, Any] | None, prompt: str
) -> tuple[str | None, str | None]:
    """(content, refusal) for this request, misbehaving as the world is told to."""
    rng = world.request_rng("openai-answer")
    facts = llm.extract_facts(prompt)
    generator = llm.GENERATORS.get(schema_name)
    situated = llm.situated_for(schema_name, schema)
    behaviour = world.settings.llm
    mode = behaviour.mode if behaviour.mode != "good" and rng.random() < behaviour.rate else "good"
    if situated:
        # Customer service misbehaves in its own, seeded way (llm/support.py); the generic modes below
        # (invalid JSON, empty, refusal, off-topic) still apply on top.
        answer: Any = situated(llm.Ask(world, schema_name, schema, prompt, facts, mode))
        generator = None
    elif generator:
        answer = generator.good(facts, prompt, rng)
    elif schema:
        answer = llm.fill_schema(schema, rng)
    else:
        answer = None
    world.state.audit_increment("llm_calls", schema_name or "text")
    if mode != "good" and not (situated and mode not in _GENERIC_MODES):
        world.state.audit_increment("llm_misbehaviour", f"{schema_name}:{mode}")
    if mode == "refusal":
        return None, "I'm sorry, but I can't help with that request."
    if mode == "empty":
        return "", None
    if generator and generator.bad and mode not in ("good", "invalid_json", "off_topic"):
        special = generator.bad(mode, facts, prompt, rng)
        if special is not None:
            answer = special
    if mode == "off_topic":
        answer = llm.off_topic(answer)
    text = json.dumps(answer) if answer is not None else f"Here is a reply about: {prompt[:200]}"
    if mode == "invalid_json":
        return text[: max(1, len(text) // 2)], None
    return text, None


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> JSONResponse:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None)
    try:
        request_types.check_request(body)
    except request_types.InvalidRequest as refused:
        return _error(400, refused.message, "invalid_request_error", refused.code, param=refused.param)
    if not isinstance(body, dict) or not body.get("model") or not isinstance(body.get("messages"), list):
        return _error(
            400,
            "Missing required parameter: 'model' or 'messages'.",
            "invalid_request_error",
            "missing_required_parameter",
        )
    response_format = body.get("response_format") or {}
    schema_name, schema = "", None
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        # Answered from the schema with its `$ref`s resolved: a draft follows the referenced definitions.
        schema_name, schema = spec.get("name", ""), request_types.resolve_refs(spec.get("schema") or {})
    prompt = "\n".join(str(m.get("content") or "") for m in body["messages"] if m.get("role") == "user")
    full_prompt = "\n".join(str(m.get("content") or "") for m in body["messages"])

    prompt_tokens = _tokens(full_prompt) + 4 * len(body["messages"])  # each message's framing tokens
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None and (not isinstance(limit, int) or limit < 1 or limit > MAX_COMPLETION_TOKENS):
        return _error(
            400,
            f"max_tokens is too large: {limit}. This model supports at most {MAX_COMPLETION_TOKENS} "
            f"completion tokens, whereas you provided {limit}.",
            "invalid_request_error",
            "invalid_value",
        )
    if prompt_tokens + (limit or 0) > CONTEXT_TOKENS:
        return _error(
            400,
            f"This model's maximum context length is {CONTEXT_TOKENS} tokens. However, your messages "
            f"resulted in {prompt_tokens} tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            "context_length_exceeded",
        )

    def handle(world: World) -> dict[str, Any]:
        content, refusal = _answer(world, schema_name, schema, prompt)
        completion_tokens = _tokens(content or refusal or "")
        finish_reason = "stop"
        if limit is not None and content and completion_tokens > limit:
            # Cut at the cap, as the real API does: the JSON is left unfinished.
            content, completion_tokens, finish_reason = content[: limit * 4], limit, "length"
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": f"{body['model']}-sandbox",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": "fp_sandbox",
        }

    return await OPENAI.serve(request, CompletionCall(model=body["model"]), handle)
