"""The languages a customer reply can be written and checked in: their sentence templates, the free-text
vocabulary, and the language detector. Pure data, read from the package.

Each language has one file, `rules/reply_language/<code>.yaml` (see docs/support-safety.md):
- `locale`: the Babel locale used when the store names none (dates, money, lists);
- `greeting`, `facts`, `status`, `actions`: the code-owned sentences, with `{placeholders}` the renderer
  fills from the order's facts or the executed action;
- `vocabulary`: every word the model's free text (greeting, empathy, a question back, a closing) may use.
  It holds no action verb, no state word, no time word and no number: a claim can only be said by a
  code-owned sentence;
- `time_homographs`: vocabulary words that dateparser's data also lists as time abbreviations
  (German "mit", Portuguese "sem"); the tests check the vocabulary holds no other time word;
- `address_words`: words that mark a postal address, so the gate can name what it refused;
- `sentences`: the classes of words that decide what a free-text sentence may be (a question, or a
  greeting, thanks, apology or closing, never an answer or a commitment; see `SentenceClasses`);
- `examples`: free text the vocabulary must allow (the tests check every one passes the gate).
"""

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages the gate can check; a reply in any other goes to a human.
SUPPORTED_LANGUAGES = ("en", "es", "de", "fr", "it", "nl", "pt")

_LINGUA = {
    "en": Language.ENGLISH,
    "es": Language.SPANISH,
    "de": Language.GERMAN,
    "fr": Language.FRENCH,
    "it": Language.ITALIAN,
    "nl": Language.DUTCH,
    "pt": Language.PORTUGUESE,
}
_CODES = {language: code for code, language in _LINGUA.items()}

FACT_PLACEHOLDERS = (
    "order_name",
    "items",
    "tracking_number",
    "tracking_url",
    "carrier",
    "placed_on",
    "shipped_on",
    "total",
    "eta_earliest",
    "eta_latest",
    "first_name",
    "amount",
)


# A word: letters, with apostrophes inside ("we're", "l'article"); digits are tokens of their own.
WORD = re.compile("[^\\W\\d_]+(?:['\u2019][^\\W\\d_]+)*")

Phrase = tuple[str, ...]  # lower-case words; one word or several in a row


def lowered_words(text: str) -> tuple[str, ...]:
    """The words of a text, lower case, with typographic apostrophes made plain."""
    return tuple(w.lower().replace("\u2019", "'") for w in WORD.findall(text))


@dataclass(frozen=True)
class SentenceClasses:
    """The words that decide what a free-text sentence may be: a question (opens with a question word),
    or a greeting, thanks, apology/empathy or closing (each clause carries a marker or opens with a
    linking word); never an answer ("yes", "of course"), and, outside a question, no ability or
    commitment ("can", "will", "do")."""

    markers: dict[str, frozenset[Phrase]]  # greeting, thanks, empathy, closing
    answer: frozenset[Phrase]
    commitment: frozenset[Phrase]
    question_openers: frozenset[Phrase]
    linking: frozenset[Phrase]

    @property
    def all_markers(self) -> frozenset[Phrase]:
        return frozenset().union(*self.markers.values())


@dataclass(frozen=True)
class LanguagePack:
    code: str
    locale: str
    greeting: str
    facts: dict[str, str]
    status: dict[str, str]
    actions: dict[str, str]
    vocabulary: frozenset[str]
    time_homographs: frozenset[str]  # vocabulary words dateparser also reads as a time abbreviation
    address_words: frozenset[str]
    sentences: SentenceClasses
    examples: dict[str, tuple[str, ...]]


def _words(block: Any) -> frozenset[str]:
    """A vocabulary block: whitespace-separated words (lower case), as the data file lists them."""
    text = " ".join(block) if isinstance(block, list) else str(block)
    return frozenset(unicodedata.normalize("NFKC", word).lower() for word in text.split())


def _phrases(block: str) -> frozenset[Phrase]:
    """A class of the `sentences` block: comma-separated entries, each a word or a phrase."""
    entries = (lowered_words(unicodedata.normalize("NFKC", entry)) for entry in str(block).split(","))
    return frozenset(entry for entry in entries if entry)


SENTENCE_MARKERS = ("greeting", "thanks", "empathy", "closing")


def _sentence_classes(data: dict[str, Any]) -> SentenceClasses:
    return SentenceClasses(
        markers={kind: _phrases(data[kind]) for kind in SENTENCE_MARKERS},
        answer=_phrases(data["answer"]),
        commitment=_phrases(data["commitment"]),
        question_openers=_phrases(data["question_openers"]),
        linking=_phrases(data["linking"]),
    )


@functools.cache
def language_pack(code: str) -> LanguagePack:
    """The templates and vocabulary of one supported language (KeyError for any other)."""
    if code not in SUPPORTED_LANGUAGES:
        raise KeyError(code)
    source = resources.files("dropship_pipelines.rules").joinpath("reply_language", f"{code}.yaml")
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    return LanguagePack(
        code=code,
        locale=data["locale"],
        greeting=data["greeting"],
        facts=dict(data["facts"]),
        status=dict(data["status"]),
        actions=dict(data["actions"]),
        vocabulary=_words(data["vocabulary"]),
        time_homographs=_words(data.get("time_homographs") or []),
        address_words=_words(data["address_words"]),
        sentences=_sentence_classes(data["sentences"]),
        examples={kind: tuple(texts) for kind, texts in data["examples"].items()},
    )


@functools.cache
def _detector() -> LanguageDetector:
    # Built once, on first use: loading the models of seven languages takes seconds. High accuracy mode,
    # because free text and short replies are where the low accuracy mode guesses.
    return LanguageDetectorBuilder.from_languages(*_LINGUA.values()).build()


def detect_language(text: str) -> str | None:
    """The supported language the text is written in, or None when the detector cannot tell."""
    found = _detector().detect_language_of(text)
    return _CODES.get(found) if found is not None else None


def reads_as(text: str, language: str) -> tuple[bool, str | None]:
    """Whether the text reads as `language`, and the language it reads as most.

    It does when the detector ranks the language first, or, on a text too short to tell close
    languages apart ("Pedimos desculpa pelo inconveniente." reads 0.63 Spanish, 0.31 Portuguese), when
    the language is at least a third as likely as the first. A text in another language scores near
    zero; and every free word must be in the language's own vocabulary anyway.
    """
    ranked = _detector().compute_language_confidence_values(text)
    if not ranked or ranked[0].value == 0:
        return False, None
    top = _CODES.get(ranked[0].language)
    own = next((c.value for c in ranked if _CODES.get(c.language) == language), 0.0)
    return top == language or own >= ranked[0].value / 3, top
