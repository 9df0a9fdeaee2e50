"""An OpenAI-compatible chat model, used for structured output only (the answer must fit a schema).

Every call is bounded: `max_tokens` caps the answer (the resource's default, or the caller's tighter
one), and an answer cut at that cap is an unusable answer, never half a JSON document parsed.
"""

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import dagster as dg
from pydantic import BaseModel, PrivateAttr, ValidationError

from dropship_pipelines.resources.errors import PermanentApiError, TransientApiError

if TYPE_CHECKING:  # imported where a call is made: loading the code location need not import openai (~0.5 s)
    import openai

API = "llm"
T = TypeVar("T", bound=BaseModel)


class LlmOutputError(Exception):
    """The model answered, but not usably (invalid JSON, empty, refused, wrong shape, cut at the cap).

    `spent` is what the unusable answer cost (prompt tokens, completion tokens, USD), so a budget counts
    it too."""

    def __init__(self, message: str, spent: tuple[int, int, float] = (0, 0, 0.0)) -> None:
        super().__init__(message)
        self.spent = spent


@dataclass(frozen=True)
class LlmResult(Generic[T]):
    value: T
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the form strict structured outputs demand (closed, all required)."""
    schema = model.model_json_schema()

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


class LlmResource(dg.ConfigurableResource):
    """OpenAI Chat Completions (or any compatible endpoint) through the official `openai` client."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str
    model: str = "gpt-4o-mini"
    timeout_s: float = 30.0
    max_retries: int = 3
    temperature: float = 0.4
    input_usd_per_million: float = 0.15
    output_usd_per_million: float = 0.60
    max_tokens: int = 800  # the answer's cap on every call that does not set a tighter one

    _openai: Any = PrivateAttr(default=None)  # an openai.OpenAI once the first call opens it
    _openai_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _client(self) -> "openai.OpenAI":
        """One pooled client per resource instance, opened on first use (in a run or not); no teardown
        hook, so it can be built outside a run with `process_config_and_initialize()`.

        It retries 408/409/429/5xx and timeouts itself, honouring retry-after(-ms)."""
        import openai

        with self._openai_lock:
            if self._openai is None or self._openai.is_closed():
                self._openai = openai.OpenAI(
                    api_key=self.api_key,
                    base_url=self.base_url,
                    timeout=self.timeout_s,
                    max_retries=self.max_retries,
                )
            return self._openai

    def structured(
        self,
        *,
        system: str,
        user: str,
        schema_name: str,
        output: type[T],
        max_tokens: int | None = None,
        schema: dict[str, Any] | None = None,
    ) -> LlmResult[T]:
        """Ask for an answer fitting `output`, at most `max_tokens` long (the resource's cap by default);
        `schema` replaces the one derived from `output` where the two are written separately (strict mode
        refuses some of pydantic's forms). Raise LlmOutputError when the answer is unusable."""
        import openai

        cap = max_tokens or self.max_tokens
        try:
            completion = self._client().chat.completions.create(
                model=self.model,
                temperature=self.temperature,
                max_tokens=cap,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": schema_name,
                        "strict": True,
                        "schema": schema or strict_schema(output),
                    },
                },
            )
        except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
            raise TransientApiError(API, f"{schema_name}: {type(exc).__name__} after retries") from exc
        except openai.APIStatusError as exc:
            raise PermanentApiError(
                API, f"{schema_name}: HTTP {exc.status_code}: {exc.message}", code=exc.status_code
            ) from exc
        usage = completion.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        cost = (
            prompt_tokens * self.input_usd_per_million + completion_tokens * self.output_usd_per_million
        ) / 1e6
        spent = (prompt_tokens, completion_tokens, round(cost, 6))
        choice = completion.choices[0]
        message = choice.message
        if choice.finish_reason == "length":
            raise LlmOutputError(f"{schema_name}: answer cut at max_tokens={cap}", spent)
        if message.refusal:
            raise LlmOutputError(f"{schema_name}: the model refused: {message.refusal[:200]}", spent)
        if not message.content or not message.content.strip():
            raise LlmOutputError(f"{schema_name}: empty answer", spent)
        try:
            value = output.model_validate(json.loads(message.content))
        except ValueError as exc:
            reason = "invalid JSON" if not isinstance(exc, ValidationError) else "wrong shape"
            raise LlmOutputError(f"{schema_name}: {reason}: {str(exc)[:300]}", spent) from exc
        return LlmResult(value, completion.model, prompt_tokens, completion_tokens, round(cost, 6))
