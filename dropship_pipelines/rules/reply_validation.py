"""What a reply to a customer may say, and which messages a machine must not answer. Pure functions.

The last gate before a reply leaves (`verify_outgoing`): an allow-list over the rendered text. Every span
the code owns is taken out (the context's facts in every rendering, policy snippets verbatim, executed
actions' statements, the code's sentences); what remains is the model's or an operator's free text, and
it may hold no entity (date, number, money, percentage, phone number, link, email, code, order reference,
address) and no word outside the language's free-text vocabulary, and each of its sentences is a question
back or a greeting, thanks, apology or closing (never an answer or a commitment), so no claim and no
promise. Markup is
refused, and so is a text in a language other than the customer's or one the gate cannot check. The
gate runs on every send path: the workflow, the dashboard's edited replies, the email channel. See
docs/support-safety.md.

A message is risky when it threatens legal action, asks for a refund above the limit or outside the
window, or tries to steer the model (prompt injection); risky messages go to a human.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dropship_pipelines.rules import reply_render
from dropship_pipelines.rules.reply_context import ORDER_STATUSES, ExecutedAction, OrderFacts, ReplyContext
from dropship_pipelines.rules.reply_draft import ActionKind
from dropship_pipelines.rules.reply_entities import free_text_problems, sentence_problems, sentences_of
from dropship_pipelines.rules.reply_languages import SUPPORTED_LANGUAGES, reads_as
from dropship_pipelines.rules.store_policy import default_store_policy
from dropship_pipelines.rules.support_policy import SupportPolicy

SHIPPED_STATES = ("shipped", "delivered")


class Risk(StrEnum):
    LEGAL_THREAT = "legal_threat"
    INJECTION_ATTEMPT = "injection_attempt"
    REFUND_ABOVE_LIMIT = "refund_above_limit"
    REFUND_OUTSIDE_WINDOW = "refund_outside_window"


@dataclass(frozen=True)
class Route:
    auto: bool
    reason: str  # why a human must answer; "" when the machine may


# --- normalisation: what the rules look at -------------------------------------------------------------
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, lower case: full-width or zero-width tricks read as plain text."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).lower()


def _squashed(text: str) -> str:
    """Letters only: 'i g n o r e  y.o.u.r' reads as 'ignoreyour'."""
    return re.sub(r"[^a-zà-ÿß]", "", normalise(text))


# --- message risk --------------------------------------------------------------------------------------
# Old path: classify_risks, route and the patterns they use serve today's support service as they are;
# the wiring step to verify_outgoing decides what of them stays (OrderFacts now lives in reply_context).
_INJECTION = re.compile(
    r"ignor\w*\s+(?:all\s+|any\s+|your\s+|the\s+|my\s+|previous\s+|prior\s+|above\s+|earlier\s+)*"
    r"(?:instructions|rules|prompt|guidelines|directions)"
    r"|disregard\s+(?:all\s+|any\s+|your\s+|the\s+|previous\s+|prior\s+)*(?:instructions|rules|prompt|policy)"
    r"|forget\s+(?:all\s+|your\s+|the\s+|previous\s+)*(?:instructions|rules)"
    r"|system\s*prompt|system\s*message|developer\s+mode|admin\s+mode|jailbreak|\bdan\s+mode"
    r"|you\s+are\s+now\b|from\s+now\s+on\s+you|act\s+as\s+(?:an?\s+)?(?:admin|manager|developer|system)"
    r"|pretend\s+(?:to\s+be|you\s+are)|new\s+instructions\s*:|^\s*(?:system|assistant)\s*:"
    r"|(?:print|reveal|show|repeat)\s+(?:me\s+)?(?:your|the)\s+(?:instructions|prompt|rules|policy)"
    r"|ignora\w*\s+(?:tus\s+|las\s+|todas\s+las\s+)?instrucciones"
    r"|ignorier\w*\s+(?:alle\s+)?(?:vorherigen\s+|bisherigen\s+)?(?:anweisungen|regeln)"
    r"|ignore[sz]?\s+(?:tes\s+|vos\s+|les\s+|toutes\s+les\s+)?(?:instructions|consignes)(?:\s+précédentes)?"
    r"|<\s*/?\s*(?:system|instructions?)\s*>|\[\s*(?:system|inst)\s*\]",
    re.IGNORECASE | re.MULTILINE,
)
_INJECTION_SQUASHED = (
    "ignoreyourinstructions",
    "ignorepreviousinstructions",
    "ignoreallinstructions",
    "ignoreallpreviousinstructions",
    "systemprompt",
    "disregardyourinstructions",
)
_LEGAL = re.compile(
    r"\blawyers?\b|\battorneys?\b|\bsue\b|\bsuing\b|\blawsuit|legal\s+action|\bcourt\b|small\s+claims"
    r"|charge\s*back|dispute\s+(?:the|this|my)\s+(?:charge|payment|transaction)|\bfraud\b|\bscam\b"
    r"|consumer\s+protection|better\s+business\s+bureau|\bbbb\b|trading\s+standards"
    r"|abogad[oa]|demanda\w*|denuncia\w*|\banwalt|\banwältin|\bklage\b|verklagen|gericht"
    r"|\bavocat|tribunal|poursuite|porter\s+plainte|\bplainte\b",
    re.IGNORECASE,
)
_REFUND_WORDS = re.compile(
    r"refund|money\s+back|reimburs|reembols|devoluci[oó]n\s+del\s+dinero|rückerstatt|erstatt|geld\s+zurück"
    r"|rembours",
    re.IGNORECASE,
)


def injection_attempt(message: str) -> bool:
    text = normalise(message)
    return bool(_INJECTION.search(text)) or any(s in _squashed(message) for s in _INJECTION_SQUASHED)


def legal_threat(message: str) -> bool:
    return bool(_LEGAL.search(normalise(message)))


def asks_for_refund(message: str) -> bool:
    return bool(_REFUND_WORDS.search(normalise(message)))


def refund_allowed(facts: OrderFacts, policy: SupportPolicy, today: date) -> bool:
    """A reply may promise a refund only within the window and up to the automatic limit."""
    return (
        today - facts.placed_on
    ).days <= policy.refund_window_days and facts.total <= policy.auto_refund_limit


def classify_risks(
    message: str, intent: str, facts: OrderFacts | None, policy: SupportPolicy, today: date
) -> list[Risk]:
    risks = []
    if injection_attempt(message):
        risks.append(Risk.INJECTION_ATTEMPT)
    if legal_threat(message):
        risks.append(Risk.LEGAL_THREAT)
    if facts is not None and (intent == "refund" or asks_for_refund(message)):
        if facts.total > policy.auto_refund_limit:
            risks.append(Risk.REFUND_ABOVE_LIMIT)
        if (today - facts.placed_on).days > policy.refund_window_days:
            risks.append(Risk.REFUND_OUTSIDE_WINDOW)
    return risks


def route(
    intent: str,
    confidence: float,
    language: str,
    risks: list[Risk],
    facts: OrderFacts | None,
    policy: SupportPolicy,
) -> Route:
    """Answer automatically, or hand to a human with the reason (the first that applies)."""
    if risks:
        return Route(False, risks[0].value)
    if facts is None:
        return Route(False, "no_matching_order")
    if confidence < policy.min_confidence:
        return Route(False, "low_confidence")
    if not policy.auto_answers(intent):
        return Route(False, f"policy_topic:{intent}")
    if language not in policy.languages:
        return Route(False, f"unsupported_language:{language}")
    return Route(True, "")


# --- old path: the blacklist validator, until the support service is wired to verify_outgoing ---------
# validate_reply and its patterns below guard the free-form ReplyDraft of rules/support_prompts.py; the
# wiring step replaces them with render_reply + verify_outgoing and deletes this section.
_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
_TRACKING_LIKE = re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{7,34}\b|\b\d{10,30}\b")
_ORDER_NUMBER = re.compile(r"#\s?\d{3,}|\border\s+(?:number\s+|no\.?\s+)?(\d{4,})\b", re.IGNORECASE)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
    "|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
    "|januar|februar|märz|mai|juni|juli|oktober|dezember"
    "|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre"
)
_DATE = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th|er|\.)?\s+(?:of\s+|de\s+)?(?:{_MONTHS})\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_RELATIVE_PROMISE = re.compile(
    r"\btomorrow\b|\bby\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the\s+end\s+of)"
    r"|within\s+\d+\s+(?:business\s+)?(?:days|hours|weeks)|in\s+\d+\s+(?:business\s+)?days"
    r"|\bmañana\b|en\s+\d+\s+días|\bmorgen\b|in\s+\d+\s+tagen|\bdemain\b|sous\s+\d+\s+jours",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"(?:[$€£]|usd|eur|gbp)\s?(\d[\d,]*(?:\.\d{1,2})?)"
    r"|(\d[\d,]*(?:[.,]\d{1,2})?)\s?(?:[$€£]|usd\b|eur\b|gbp\b|dollars?\b|euros?\b)",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(\d{1,3})\s?%")
_DISCOUNT_OFFER = re.compile(
    r"discount\s+code|coupon|promo(?:tion)?\s+code|voucher|código\s+de\s+descuento|cupón|gutschein|rabattcode"
    r"|code\s+promo|bon\s+de\s+réduction",
    re.IGNORECASE,
)
_REFUND_PROMISE = re.compile(
    r"refund|reimburs|money\s+back|reembols|rückerstatt|erstatte|rembours",
    re.IGNORECASE,
)
_OTHER_PROMISES = re.compile(
    r"store\s+credit|credit\s+(?:to|on)\s+your\s+account|applied\s+a\s+.{0,12}credit|\bguarantee"
    r"|compensat|free\s+(?:replacement|gift|shipping|item)|send\s+(?:you\s+)?a\s+(?:new|replacement)"
    r"|reship|re-ship|garantiz|garantier|garanti[es]?\b|gratis|kostenlos|gratuit",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\bnot\b|n't|\byet\b|\baún\s+no\b|\bnoch\s+nicht\b|\bpas\s+encore\b", re.IGNORECASE)
_REFUND_REFUSAL = re.compile(
    r"\bcannot\b|can't|\bunable\b|not\s+able|won't|will\s+not|\bcolleague|team\s+will|will\s+review"
    r"|no\s+(?:puedo|podemos)|compañer|nicht|kolleg|ne\s+(?:pouvons|peux)\s+pas|collègue",
    re.IGNORECASE,
)
_SHIPPED_CLAIM = re.compile(
    r"shipped|dispatched|on\s+its\s+way|enviado|versandt|expédiée|expédié", re.IGNORECASE
)
_DELIVERED_CLAIM = re.compile(r"delivered|entregado|zugestellt|livrée|livré", re.IGNORECASE)
_LEAK_MARKERS = re.compile(
    r"system\s*prompt|my\s+instructions|i\s+was\s+instructed|i\s+am\s+instructed|as\s+an\s+ai\b"
    r"|language\s+model|i\s+am\s+an\s+ai|my\s+(?:rules|guidelines)\s+(?:say|are)|```|\{\s*[\"']"
    r"|refund_window_days|auto_refund_limit|max_discount_percent|min_confidence|refund_allowed"
    r"|instrucciones\s+del\s+sistema|systemanweisung|consignes\s+système",
    re.IGNORECASE,
)
_INSULTS = re.compile(
    r"\bidiot\w*|\bstupid\b|\bdumb\b|shut\s+up|your\s+(?:own\s+)?fault|\bliar\b|\bmoron|\bidiota|\bdumm\b"
    r"|\bimbécile|\bcalm\s+down",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;:])\s+|\n+", text) if s.strip()]


def _shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", normalise(text))
    return {tuple(words[i : i + size]) for i in range(max(0, len(words) - size + 1))}


def _as_decimal(raw: str) -> Decimal | None:
    cleaned = (
        raw.replace(",", "") if re.search(r"\.\d{1,2}$", raw) else raw.replace(".", "").replace(",", ".")
    )
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def validate_reply(
    reply: str,
    facts: OrderFacts,
    policy: SupportPolicy,
    *,
    intent: str,
    system_prompt: str,
    may_refund: bool,
) -> list[str]:
    """Reasons this reply must not reach the customer; empty when it may."""
    problems: list[str] = []
    text = unicodedata.normalize("NFKC", reply).translate(_INVISIBLE)
    stripped = text.strip()
    if len(stripped) < policy.min_reply_chars:
        problems.append(f"reply shorter than {policy.min_reply_chars} characters")
    if len(stripped) > policy.max_reply_chars:
        problems.append(f"reply longer than {policy.max_reply_chars} characters")

    # Links: only the carrier's tracking link from the facts.
    allowed_urls = [facts.tracking_url] if facts.tracking_url else []
    for url in _URL.findall(text):
        url = url.rstrip(".,;:!?")
        if not any(url == allowed or url.startswith(allowed) for allowed in allowed_urls):
            problems.append(f"link not in the order's facts: {url[:80]}")
    scrubbed = _URL.sub(" ", text)

    # Tracking numbers: only the order's own.
    allowed_tracking = {facts.track_number.upper()} if facts.track_number else set()
    # Words of the facts themselves (a customer called "Alex2", an item "LED Lamp X200") are not inventions.
    facts_text = " ".join([facts.customer_first_name or "", *facts.items]).upper()
    allowed_tracking |= set(re.findall(r"[A-Z0-9-]+", facts_text))
    for token in _TRACKING_LIKE.findall(scrubbed.upper()):
        if token.upper() not in allowed_tracking:
            problems.append(f"tracking-like number not in the facts: {token}")

    # Order numbers: only this order.
    own_number = re.sub(r"\D", "", facts.order_name)
    for match in _ORDER_NUMBER.finditer(scrubbed):
        if re.sub(r"\D", "", match.group(0)) != own_number:
            problems.append(f"order number not the customer's: {match.group(0).strip()}")

    # Dates: none but the ones in the facts; no delivery promises.
    allowed_dates = {d.isoformat() for d in (facts.placed_on, facts.shipped_on) if d}
    for match in _DATE.finditer(scrubbed):
        if match.group(0) not in allowed_dates:
            problems.append(f"date not in the facts: {match.group(0)}")
    if _RELATIVE_PROMISE.search(scrubbed):
        problems.append("promises a delivery time the facts do not hold")

    # Amounts: only the order total; percentages only within the discount the policy allows.
    for match in _AMOUNT.finditer(scrubbed):
        value = _as_decimal(match.group(1) or match.group(2) or "")
        if value is None or value != facts.total:
            problems.append(f"amount not in the facts: {match.group(0).strip()}")
    for match in _PERCENT.finditer(scrubbed):
        if int(match.group(1)) > policy.max_discount_percent:
            problems.append(f"offers {match.group(1)}% (policy allows {policy.max_discount_percent}%)")
    if policy.max_discount_percent == 0 and _DISCOUNT_OFFER.search(scrubbed):
        problems.append("offers a discount code the policy does not allow")

    # Promises.
    for sentence in _sentences(scrubbed):
        if _REFUND_PROMISE.search(sentence) and not may_refund and not _REFUND_REFUSAL.search(sentence):
            problems.append("promises a refund the policy does not allow")
            break
    if _OTHER_PROMISES.search(scrubbed):
        problems.append("promises a credit, replacement or guarantee the policy does not allow")

    # Contradicting the order's state.
    for sentence in _sentences(scrubbed):
        negated = bool(_NEGATION.search(sentence))
        if facts.status not in SHIPPED_STATES and _SHIPPED_CLAIM.search(sentence) and not negated:
            problems.append(f"says the order shipped but it is {facts.status}")
            break
        if facts.status != "delivered" and _DELIVERED_CLAIM.search(sentence) and not negated:
            problems.append(f"says the order was delivered but it is {facts.status}")
            break

    # Leaks of instructions or policy internals.
    if _LEAK_MARKERS.search(scrubbed) or (_shingles(scrubbed) & _shingles(system_prompt)):
        problems.append("reveals instructions or internal policy")

    # Substance: this order, and its tracking when the customer asks where it is.
    if facts.order_name not in text:
        problems.append(f"does not name the order {facts.order_name}")
    if intent in ("where_is_order", "complaint") and facts.track_number and facts.track_number not in text:
        problems.append("does not give the tracking number the customer asked about")
    if policy.signature not in text:
        problems.append("missing the store's signature")

    # Tone.
    if _INSULTS.search(scrubbed):
        problems.append("rude or blaming wording")
    words = re.findall(r"[^\W\d_]{4,}", scrubbed)
    shouting = [w for w in words if w.isupper()]
    if words and len(shouting) / len(words) > 0.3:
        problems.append("shouting (mostly capital letters)")
    if scrubbed.count("!") > 3:
        problems.append("too many exclamation marks")
    return list(dict.fromkeys(problems))


def order_names_in(text: str) -> list[str]:
    """Order names a customer mentions ("#1001", "order 1001"), in order of appearance."""
    pattern = re.compile(r"#\s?(\d{3,})|\border\s+(?:number\s+|no\.?\s+)?#?(\d{4,})", re.IGNORECASE)
    found = [f"#{m.group(1) or m.group(2)}" for m in pattern.finditer(text)]
    return list(dict.fromkeys(found))


# --- the last gate ---------------------------------------------------------------------------------------
class _MarkupFinder(HTMLParser):
    """Collects every tag, comment, declaration and character reference the stdlib HTML parser sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.found.append(f"</{tag}>")

    def handle_comment(self, data: str) -> None:
        self.found.append("<!--...-->")

    def handle_decl(self, decl: str) -> None:
        self.found.append(f"<!{decl[:20]}>")

    def handle_pi(self, data: str) -> None:
        self.found.append(f"<?{data[:20]}>")

    def handle_entityref(self, name: str) -> None:
        self.found.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.found.append(f"&#{name};")


def _markup(text: str) -> list[str]:
    finder = _MarkupFinder()
    finder.feed(text)
    finder.close()
    return [f"markup: {found!r}" for found in dict.fromkeys(finder.found)]


def _remove(text: str, patterns: tuple[re.Pattern[str], ...], leave: str = "\n") -> str:
    # A removed span leaves a line break: the free text on either side never joins into a new word.
    for pattern in patterns:
        text = pattern.sub(leave, text)
    return text


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def verify_outgoing(text: str, context: ReplyContext) -> list[str]:
    """The reasons this text must not be sent to the customer; empty when it may (see module doc)."""
    if context.language not in SUPPORTED_LANGUAGES:
        return [f"language {context.language!r} cannot be checked: a person answers"]
    problems: list[str] = []
    clean = reply_render.normalise(text)
    if not clean.strip():
        return ["empty reply"]
    problems += _markup(clean)
    if len(clean) > context.policy.max_reply_chars:
        # Refused whatever else it says; reading 100 KB for entities would only cost time.
        return [f"reply longer than {context.policy.max_reply_chars} characters", *problems]

    spans = reply_render.allowed_spans(context)
    # The language of the words: the context's values (names, codes, links, items, amounts, dates) have
    # none, and sway the detector ("CHF 28,47" alone turns a Portuguese reply 0.99 Spanish).
    words_only = _remove(clean, spans.values)
    for raw in spans.raw_values:
        words_only = words_only.replace(raw, " ")
    same, detected = reads_as(words_only, context.language)
    if not same:
        problems.append(
            f"language: written in {detected or 'no language the gate can tell'}, "
            f"the customer's is {context.language}"
        )

    without_sentences = _remove(clean, spans.sentences)
    free_text = _remove(without_sentences, spans.values)
    for fragment in _SENTENCE_END.split(free_text):
        if fragment.strip():
            problems += free_text_problems(fragment.strip(), context.language)
    # What each free sentence is: a value inside it (a name, an order number) leaves a space, so the
    # sentence is read whole ("Could you confirm order #1001?" stays a question).
    for sentence in sentences_of(_remove(without_sentences, spans.values, leave=" ")):
        problems += sentence_problems(sentence, context.language)
    return list(dict.fromkeys(problems))


class _OrderPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    status: str
    placed_on: date
    total: Decimal
    currency: str = Field(min_length=3, max_length=3)
    items: list[str] = []
    tracking_number: str | None = None
    carrier: str | None = None
    tracking_url: str | None = None
    shipped_on: date | None = None
    customer_first_name: str | None = None
    eta_earliest: date | None = None  # optional: a delivery window the supplier's data supports
    eta_latest: date | None = None


class _ActionPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ActionKind
    amount: Decimal | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    language: str
    order: _OrderPayload | None = None
    executed_actions: list[_ActionPayload] = []


def _payload_errors(error: ValidationError) -> list[str]:
    return [
        f"payload: {'.'.join(str(p) for p in problem['loc']) or 'payload'}: {problem['msg']}"
        for problem in error.errors()
    ]


def context_from_payload(payload: dict[str, Any]) -> tuple[str, ReplyContext]:
    """The text and the context of a gate payload (ValueError with the reasons when its shape is wrong)."""
    try:
        parsed = _Payload.model_validate(payload)
    except ValidationError as error:
        raise ValueError("; ".join(_payload_errors(error))) from None
    try:
        actions = tuple(ExecutedAction(a.kind, a.amount, a.currency) for a in parsed.executed_actions)
    except ValueError as error:
        raise ValueError(f"payload: executed_actions: {error}") from None
    order = parsed.order
    if order is not None and order.status not in ORDER_STATUSES:
        raise ValueError(f"payload: order.status: one of {', '.join(ORDER_STATUSES)}, not {order.status!r}")
    facts = (
        OrderFacts(
            order_name=order.name,
            status=order.status,
            placed_on=order.placed_on,
            total=order.total,
            currency=order.currency,
            items=tuple(order.items),
            track_number=order.tracking_number,
            carrier=order.carrier,
            tracking_url=order.tracking_url,
            shipped_on=order.shipped_on,
            customer_first_name=order.customer_first_name,
            eta_earliest=order.eta_earliest,
            eta_latest=order.eta_latest,
        )
        if order is not None
        else None
    )
    context = ReplyContext(
        order=facts, policy=default_store_policy(), executed_actions=actions, language=parsed.language
    )
    return parsed.text, context


def verify_outgoing_payload(payload: dict[str, Any]) -> list[str]:
    """verify_outgoing for tools outside the code base: the text and its context as plain JSON (shape in
    docs/support-safety.md), checked against the store's default policy. A payload of the wrong shape is
    a reason, never an exception."""
    if not isinstance(payload, dict):
        return [f"payload: a JSON object, not {type(payload).__name__}"]
    try:
        text, context = context_from_payload(payload)
    except ValueError as error:
        return str(error).split("; ")
    return verify_outgoing(text, context)
