"""The store's customer-service policy as replies state it: versioned snippets in every language, read
from `dropship_pipelines/policies/store_policy.yaml` (operator-owned) or from a file the operator names.

A reply quotes a snippet verbatim by its id (`return_window`, `refund_rules`, ...); the model never words
a policy. The loader refuses a file with a snippet missing in a supported language, so a reply can never
fall back to a model's wording.
"""

import functools
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dropship_pipelines.rules.reply_languages import SUPPORTED_LANGUAGES


class StorePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    max_reply_chars: int = Field(gt=0)
    signature: dict[str, str]  # language -> the store's sign-off
    snippets: dict[str, dict[str, str]]  # snippet id -> language -> text

    @model_validator(mode="after")
    def _every_language(self) -> "StorePolicy":
        for name, texts in {"signature": self.signature, **self.snippets}.items():
            missing = [lang for lang in SUPPORTED_LANGUAGES if not (texts.get(lang) or "").strip()]
            if missing:
                raise ValueError(f"policy {name!r} has no text in {', '.join(missing)}")
        return self

    @property
    def snippet_ids(self) -> tuple[str, ...]:
        return tuple(self.snippets)

    def snippet(self, snippet_id: str, language: str) -> str:
        """The snippet's text in that language (KeyError when the policy has no such snippet)."""
        return self.snippets[snippet_id][language]

    # A policy is a value: contexts holding it must hash (the gate caches per context).
    def __hash__(self) -> int:
        return hash(self.version)


def load_store_policy(path: Path | str) -> StorePolicy:
    """The policy of a file; ValueError (pydantic's ValidationError) when the file is not a whole policy."""
    return StorePolicy.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


@functools.cache
def default_store_policy() -> StorePolicy:
    """The policy shipped with the package (dropship_pipelines/policies/store_policy.yaml)."""
    source = resources.files("dropship_pipelines").joinpath("policies", "store_policy.yaml")
    return StorePolicy.model_validate(yaml.safe_load(source.read_text(encoding="utf-8")))
