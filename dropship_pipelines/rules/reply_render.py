"""The reply as the customer reads it, written by code from a structured draft and the reply's context.

Facts are rendered from the context in the customer's language and locale (Babel for dates, money and
lists) inside short code-owned sentences (rules/reply_language/<code>.yaml); policy parts are quoted
verbatim from the store policy; an action part is stated only when that action was executed. A draft
that names a fact the context lacks, a policy the store does not have, or an action not executed is
refused with a typed error: the model cannot make the code state it.

The same renderings, in every form the code writes them, tell the last gate which spans of a text are
the code's own (`allowed_spans`).
"""

import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from dropship_pipelines.rules.reply_context import OrderFacts, ReplyContext
from dropship_pipelines.rules.reply_draft import (
    ActionKind,
    ActionPart,
    FactName,
    FactPart,
    PolicyPart,
    StructuredReply,
    TextPart,
)
from dropship_pipelines.rules.reply_languages import SUPPORTED_LANGUAGES, LanguagePack, language_pack

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_DATE_FORMATS = ("long", "medium", "full", "short")  # the first is what the renderer writes


def normalise(text: str) -> str:
    """NFKC with invisible characters removed: what is sent is exactly what the gate checks (Babel's
    narrow no-break spaces become plain spaces; full-width or zero-width tricks read as plain text)."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


class RefusalReason(StrEnum):
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    LANGUAGE_MISMATCH = "language_mismatch"
    MISSING_FACT = "missing_fact"
    UNKNOWN_POLICY = "unknown_policy"
    ACTION_NOT_EXECUTED = "action_not_executed"
    EMPTY = "empty"


class ReplyRefused(Exception):
    """The draft asks the code to state something the context does not hold."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


# --- renderings of single values -----------------------------------------------------------------------
# Babel is imported where a value is rendered: loading the code location need not import it.
def render_date(day: date, locale: str) -> str:
    from babel.dates import format_date

    return format_date(day, format=_DATE_FORMATS[0], locale=locale)


def render_money(amount: Decimal, currency: str, locale: str) -> str:
    from babel.numbers import format_currency

    return format_currency(amount, currency, locale=locale)


def date_renderings(day: date, locale: str) -> list[str]:
    """Every form of a date the code writes or accepts back from an operator's edit."""
    from babel.dates import format_date

    return [*(format_date(day, format=form, locale=locale) for form in _DATE_FORMATS), day.isoformat()]


def money_renderings(amount: Decimal, currency: str, locale: str) -> list[str]:
    from babel.numbers import format_decimal

    number = format_decimal(amount, format="#,##0.00", locale=locale)
    return [render_money(amount, currency, locale), f"{number} {currency}", f"{currency} {number}"]


def _items_list(order: OrderFacts, locale: str) -> str:
    from babel.lists import format_list

    return format_list(list(order.items), locale=locale)


# --- which placeholders a fact needs, and their values -------------------------------------------------
@dataclass(frozen=True)
class _FactSource:
    available: Callable[[OrderFacts], bool]
    placeholders: tuple[str, ...]


_FACTS: dict[FactName, _FactSource] = {
    FactName.ORDER_NAME: _FactSource(lambda o: bool(o.order_name), ("order_name",)),
    FactName.ORDER_STATUS: _FactSource(lambda o: bool(o.order_name), ("order_name",)),
    FactName.ITEMS: _FactSource(lambda o: bool(o.items), ("items",)),
    FactName.TRACKING_NUMBER: _FactSource(lambda o: bool(o.track_number), ("tracking_number",)),
    FactName.TRACKING_LINK: _FactSource(lambda o: bool(o.tracking_url), ("tracking_url",)),
    FactName.CARRIER: _FactSource(lambda o: bool(o.carrier), ("carrier",)),
    FactName.PLACED_ON: _FactSource(lambda o: True, ("placed_on",)),
    FactName.SHIPPED_ON: _FactSource(lambda o: o.shipped_on is not None, ("shipped_on",)),
    FactName.TOTAL: _FactSource(lambda o: True, ("total",)),
    FactName.ETA_WINDOW: _FactSource(
        lambda o: o.eta_earliest is not None and o.eta_latest is not None, ("eta_earliest", "eta_latest")
    ),
    FactName.FIRST_NAME: _FactSource(lambda o: bool(o.customer_first_name), ("first_name",)),
}


@lru_cache(maxsize=1024)
def _values(order: OrderFacts, locale: str) -> dict[str, list[str]]:
    """Each placeholder's renderings, the renderer's own form first; only those the order holds."""
    values: dict[str, list[str]] = {
        "order_name": [order.order_name],
        "placed_on": date_renderings(order.placed_on, locale),
        "total": money_renderings(order.total, order.currency, locale),
    }
    optional = {
        "items": [_items_list(order, locale)] if order.items else None,
        "tracking_number": [order.track_number] if order.track_number else None,
        "tracking_url": [order.tracking_url] if order.tracking_url else None,
        "carrier": [order.carrier] if order.carrier else None,
        "shipped_on": date_renderings(order.shipped_on, locale) if order.shipped_on else None,
        "eta_earliest": date_renderings(order.eta_earliest, locale) if order.eta_earliest else None,
        "eta_latest": date_renderings(order.eta_latest, locale) if order.eta_latest else None,
        "first_name": [order.customer_first_name] if order.customer_first_name else None,
    }
    values.update({key: found for key, found in optional.items() if found})
    return values


def _fact_template(fact: FactName, order: OrderFacts, pack: LanguagePack) -> str:
    if fact is FactName.FIRST_NAME:
        return pack.greeting
    if fact is FactName.ORDER_STATUS:
        if order.status not in pack.status:
            raise ReplyRefused(RefusalReason.MISSING_FACT, f"no sentence for order status {order.status!r}")
        return pack.status[order.status]
    return pack.facts[fact.value]


def _fact_available(fact: FactName, context: ReplyContext) -> OrderFacts:
    order = context.order
    if order is None:
        raise ReplyRefused(RefusalReason.MISSING_FACT, f"{fact.value}: no order in the context")
    if not _FACTS[fact].available(order):
        raise ReplyRefused(RefusalReason.MISSING_FACT, f"{fact.value}: the order holds no such fact")
    return order


def _action_statements(kind: ActionKind, context: ReplyContext, pack: LanguagePack) -> list[str]:
    return [
        pack.actions[kind.value].format(
            amount=render_money(action.amount, action.currency, context.babel_locale)
            if action.amount is not None and action.currency
            else ""
        )
        for action in context.executed(kind)
    ]


# --- the renderer --------------------------------------------------------------------------------------
def render_reply(draft: StructuredReply, context: ReplyContext) -> str:
    """The text to send, or ReplyRefused when the draft names anything the context does not hold.

    The draft's `escalate` and `confidence` are the caller's to act on; the text still goes through
    verify_outgoing before it is sent (it guards the text, whoever wrote it)."""
    if context.language not in SUPPORTED_LANGUAGES:
        raise ReplyRefused(RefusalReason.UNSUPPORTED_LANGUAGE, f"cannot write or check {context.language!r}")
    if draft.language != context.language:
        raise ReplyRefused(
            RefusalReason.LANGUAGE_MISMATCH,
            f"draft in {draft.language!r}, customer writes {context.language!r}",
        )
    pack = language_pack(context.language)
    locale = context.babel_locale
    pieces: list[str] = []
    for part in draft.parts:
        if isinstance(part, TextPart):
            if part.text.strip():
                pieces.append(" ".join(part.text.split()))
        elif isinstance(part, FactPart):
            order = _fact_available(part.fact, context)
            values = {key: found[0] for key, found in _values(order, locale).items()}
            pieces.append(_fact_template(part.fact, order, pack).format(**values))
        elif isinstance(part, PolicyPart):
            if part.policy not in context.policy.snippets:
                raise ReplyRefused(RefusalReason.UNKNOWN_POLICY, f"the store has no policy {part.policy!r}")
            pieces.append(context.policy.snippet(part.policy, context.language))
        elif isinstance(part, ActionPart):
            statements = _action_statements(part.action, context, pack)
            if not statements:
                raise ReplyRefused(
                    RefusalReason.ACTION_NOT_EXECUTED, f"{part.action.value} was not executed for this ticket"
                )
            pieces.extend(statements)
    if not pieces:
        raise ReplyRefused(RefusalReason.EMPTY, "the draft says nothing")
    body = ""
    for piece in pieces:
        # A salutation or a sign-off ("Hi Maria," / "Kind regards,") ends its line; sentences run on.
        body += piece + ("\n\n" if piece.endswith((",", ":")) else " ")
    return normalise(body.rstrip() + "\n\n" + context.policy.signature[context.language])


# --- what the gate may take out of a text as the code's own --------------------------------------------
@dataclass(frozen=True)
class AllowedSpans:
    sentences: tuple[re.Pattern[str], ...]  # code-owned sentences with the context's values, longest first
    values: tuple[re.Pattern[str], ...]  # the context's values alone, in every rendering, longest first
    raw_values: tuple[str, ...]  # identifiers with no language (names, codes, links), for the detector


def _flexible(text: str) -> str:
    """A literal, with any run of white space matching any other (operators re-wrap lines)."""
    return r"\s+".join(re.escape(word) for word in normalise(text).split())


def _alternatives(found: list[str]) -> str:
    return "(?:" + "|".join(_flexible(value) for value in sorted(set(found), key=len, reverse=True)) + ")"


def _template_pattern(template: str, values: dict[str, list[str]]) -> str | None:
    pattern = ""
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        if literal.strip():
            lead = r"\s*" if literal[:1].isspace() else ""
            trail = r"\s*" if literal[-1:].isspace() else ""
            pattern += lead + _flexible(literal) + trail
        elif literal:
            pattern += r"\s*"
        if name is not None:
            if name not in values:
                return None
            pattern += _alternatives(values[name])
    return pattern


@lru_cache(maxsize=512)
def allowed_spans(context: ReplyContext) -> AllowedSpans:
    """The code-owned sentences and values of this context, as the gate removes them from a text."""
    pack = language_pack(context.language)
    locale = context.babel_locale
    order = context.order
    values = _values(order, locale) if order is not None else {}
    templates: list[str] = []
    if order is not None:
        templates.append(pack.greeting)
        templates.extend(pack.facts.values())
        if order.status in pack.status:
            templates.append(pack.status[order.status])
    sentences = [p for p in (_template_pattern(t, values) for t in templates) if p is not None]
    for kind in ActionKind:
        sentences.extend(_flexible(statement) for statement in _action_statements(kind, context, pack))
    policy = context.policy
    sentences.extend(_flexible(policy.snippet(sid, context.language)) for sid in policy.snippets)
    sentences.append(_flexible(context.policy.signature[context.language]))

    bare = [value for found in values.values() for value in found]
    raw: list[str | None] = []
    if order is not None:
        bare.extend(order.items)
        raw = [order.order_name, order.track_number, order.tracking_url, order.carrier, *order.items]
        raw.append(order.customer_first_name)
    raw_values = tuple(normalise(v) for v in raw if v)
    for action in context.executed_actions:
        if action.amount is not None and action.currency:
            bare.extend(money_renderings(action.amount, action.currency, locale))

    def compiled(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
        unique = sorted(set(patterns), key=len, reverse=True)
        return tuple(re.compile(rf"(?<!\w){p}(?!\w)", re.IGNORECASE) for p in unique)

    return AllowedSpans(
        sentences=compiled(sentences),
        values=compiled([_flexible(v) for v in bare if v]),
        raw_values=tuple(sorted(set(raw_values), key=len, reverse=True)),
    )
