"""The structured draft, its renderer, the store policy file and the language data, as pure functions."""

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from text_to_num import alpha2digit

from dropship_pipelines.rules.reply_context import ExecutedAction, OrderFacts, ReplyContext
from dropship_pipelines.rules.reply_draft import (
    ActionKind,
    FactName,
    StructuredReply,
    structured_reply_response_format,
    structured_reply_schema,
)
from dropship_pipelines.rules.reply_entities import (
    currency_phrases,
    free_text_problems,
    sentence_problems,
    sentences_of,
    time_phrases,
)
from dropship_pipelines.rules.reply_languages import FACT_PLACEHOLDERS, SUPPORTED_LANGUAGES, language_pack
from dropship_pipelines.rules.reply_render import RefusalReason, ReplyRefused, render_reply
from dropship_pipelines.rules.store_policy import default_store_policy, load_store_policy

POLICY = default_store_policy()
SHIPPED = OrderFacts(
    order_name="#1042",
    status="shipped",
    placed_on=date(2026, 11, 1),
    total=Decimal("19.90"),
    currency="USD",
    items=("LED Desk Lamp", "Phone Stand"),
    track_number="YT2611010042",
    carrier="YunExpress",
    tracking_url="https://t.17track.net/en#nums=YT2611010042",
    shipped_on=date(2026, 11, 3),
    customer_first_name="Maria",
    eta_earliest=date(2026, 11, 20),
    eta_latest=date(2026, 11, 27),
)
PROCESSING = OrderFacts(
    order_name="#1043",
    status="processing",
    placed_on=date(2026, 11, 8),
    total=Decimal("64.50"),
    currency="EUR",
)


def context(order: OrderFacts | None = SHIPPED, language: str = "en", **kwargs: object) -> ReplyContext:
    return ReplyContext(order=order, policy=POLICY, language=language, **kwargs)  # type: ignore[arg-type]


def draft(*parts: dict, language: str = "en") -> StructuredReply:
    return StructuredReply.model_validate(
        {"language": language, "parts": list(parts), "escalate": False, "confidence": 0.9}
    )


def fact(name: str) -> dict:
    return {"kind": "fact", "fact": name}


# --- the draft's schema -----------------------------------------------------------------------------------
def _objects(schema: dict) -> list[dict]:
    found = [schema] if schema.get("type") == "object" else []
    for value in schema.values():
        if isinstance(value, dict):
            found += _objects(value)
        elif isinstance(value, list):
            found += [o for item in value if isinstance(item, dict) for o in _objects(item)]
    return found


def test_schema_is_strict_without_refs() -> None:
    schema = structured_reply_schema(POLICY.snippet_ids)
    text = repr(schema)
    assert "$ref" not in text and "oneOf" not in text and "discriminator" not in text
    for obj in _objects(schema):
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    parts = schema["properties"]["parts"]["items"]["anyOf"]
    by_kind = {p["properties"]["kind"]["enum"][0]: p for p in parts}
    assert by_kind["fact"]["properties"]["fact"]["enum"] == [f.value for f in FactName]
    assert by_kind["policy"]["properties"]["policy"]["enum"] == list(POLICY.snippet_ids)
    assert by_kind["action"]["properties"]["action"]["enum"] == [a.value for a in ActionKind]
    response_format = structured_reply_response_format(POLICY.snippet_ids)
    assert response_format["json_schema"]["strict"] is True


def test_schema_and_model_agree_on_fields() -> None:
    schema = structured_reply_schema(POLICY.snippet_ids)
    assert set(schema["properties"]) == set(StructuredReply.model_fields)
    with pytest.raises(ValueError):
        StructuredReply.model_validate(
            {
                "language": "en",
                "parts": [{"kind": "fact", "fact": "refund_date"}],
                "escalate": False,
                "confidence": 0.5,
            }
        )
    with pytest.raises(ValueError):
        StructuredReply.model_validate(
            {
                "language": "en",
                "parts": [{"kind": "text", "text": "x", "fact": "total"}],
                "escalate": False,
                "confidence": 0.5,
            }
        )


# --- rendering ----------------------------------------------------------------------------------------------
def test_facts_render_in_the_customers_locale() -> None:
    text = render_reply(draft(fact("placed_on"), fact("total"), language="de"), context(language="de"))
    assert "1. November 2026" in text and "19,90 $" in text
    text = render_reply(draft(fact("total"), fact("items"), language="fr"), context(language="fr"))
    assert "19,90 $US" in text and "LED Desk Lamp et Phone Stand" in text
    text = render_reply(draft(fact("placed_on"), language="en"), context(locale="en_GB"))
    assert "1 November 2026" in text


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_fact_renders_in_every_language(language: str) -> None:
    every = [fact(f.value) for f in FactName]
    text = render_reply(draft(*every, language=language), context(language=language))
    for value in (
        "#1042",
        "YT2611010042",
        "YunExpress",
        "https://t.17track.net/en#nums=YT2611010042",
        "Maria",
    ):
        assert value in text
    assert text.endswith(POLICY.signature[language])
    assert "{" not in text and "}" not in text


@pytest.mark.parametrize(
    ("order", "name"),
    [
        (None, "order_status"),
        (PROCESSING, "tracking_number"),
        (PROCESSING, "tracking_link"),
        (PROCESSING, "carrier"),
        (PROCESSING, "shipped_on"),
        (PROCESSING, "eta_window"),
        (PROCESSING, "first_name"),
        (PROCESSING, "items"),
    ],
)
def test_a_fact_the_context_lacks_is_refused(order: OrderFacts | None, name: str) -> None:
    with pytest.raises(ReplyRefused) as refused:
        render_reply(draft(fact(name)), context(order))
    assert refused.value.reason is RefusalReason.MISSING_FACT
    assert name in refused.value.detail


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ReplyRefused) as refused:
        render_reply(draft({"kind": "policy", "policy": "free_gift"}), context())
    assert refused.value.reason is RefusalReason.UNKNOWN_POLICY


def test_policies_render_verbatim() -> None:
    text = render_reply(
        draft({"kind": "policy", "policy": "return_window"}, language="it"), context(language="it")
    )
    assert POLICY.snippet("return_window", "it") in text


@pytest.mark.parametrize("action", list(ActionKind))
def test_an_action_not_executed_is_refused(action: ActionKind) -> None:
    others = tuple(
        ExecutedAction(a, Decimal("5.00"), "USD") if a is ActionKind.REFUND else ExecutedAction(a)
        for a in ActionKind
        if a is not action
    )
    with pytest.raises(ReplyRefused) as refused:
        render_reply(draft({"kind": "action", "action": action.value}), context(executed_actions=others))
    assert refused.value.reason is RefusalReason.ACTION_NOT_EXECUTED


def test_an_executed_refund_states_its_amount() -> None:
    refund = ExecutedAction(ActionKind.REFUND, Decimal("12.50"), "EUR")
    text = render_reply(
        draft({"kind": "action", "action": "refund"}, language="es"),
        context(language="es", executed_actions=(refund,)),
    )
    assert "12,50 €" in text


def test_language_mismatch_and_unsupported_languages_are_refused() -> None:
    with pytest.raises(ReplyRefused) as refused:
        render_reply(draft(fact("order_status"), language="es"), context(language="en"))
    assert refused.value.reason is RefusalReason.LANGUAGE_MISMATCH
    with pytest.raises(ReplyRefused) as refused:
        render_reply(draft(fact("order_status"), language="sv"), context(language="sv"))
    assert refused.value.reason is RefusalReason.UNSUPPORTED_LANGUAGE
    with pytest.raises(ReplyRefused) as refused:
        render_reply(draft({"kind": "text", "text": "  "}), context())
    assert refused.value.reason is RefusalReason.EMPTY


def test_refund_actions_carry_an_amount() -> None:
    with pytest.raises(ValueError):
        ExecutedAction(ActionKind.REFUND)
    with pytest.raises(ValueError):
        ExecutedAction(ActionKind.CANCEL, Decimal("1"), "USD")


# --- the store policy file ----------------------------------------------------------------------------------
def test_the_shipped_policy_loads_and_a_gap_is_refused(tmp_path: Path) -> None:
    assert {"return_window", "refund_rules", "shipping_times", "human_followup"} <= set(POLICY.snippet_ids)
    assert POLICY.version
    broken = tmp_path / "policy.yaml"
    broken.write_text(
        "version: '1'\nmax_reply_chars: 100\nsignature: {en: x, es: x, de: x, fr: x, it: x, nl: x, pt: x}\n"
        "snippets:\n  return_window: {en: 'Thirty days.'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="return_window"):
        load_store_policy(broken)


# --- the language data --------------------------------------------------------------------------------------
# Words free text must never hold, whatever an editor adds to a vocabulary: actions, states, time, numbers.
FORBIDDEN = {
    "en": "send sent refund refunded cancel cancelled ship shipped deliver delivered transit return replace "
    "replacement fix change changed will soon today tomorrow now day week away again one two "
    "free discount credit guarantee arrive arrives way ready",
    "es": "enviar enviado reembolso reembolsar cancelar cancelado devolver entregado camino cambiar "
    "pronto hoy mañana día semana ya uno dos gratis descuento garantía llegará",
    "de": "senden gesendet schicken erstatten erstattet stornieren storniert versandt zugestellt "
    "unterwegs ändern geändert bald heute morgen tag woche sofort gleich werden wird zwei kostenlos rabatt",
    "fr": "envoyer envoyé rembourser remboursé annuler annulé expédié livré route changer bientôt "
    "aujourd'hui demain jour semaine deux gratuit remise arrivera",
    "it": "inviare inviato spedire spedito rimborsare rimborsato annullare annullato consegnato transito "
    "cambiare presto oggi domani giorno settimana ora due gratis sconto arriverà mille",
    "nl": "sturen gestuurd verzenden verzonden terugbetalen annuleren geannuleerd bezorgd onderweg "
    "wijzigen snel vandaag morgen dag week nu twee gratis korting zullen zal",
    "pt": "enviar enviado reembolsar reembolso cancelar cancelado devolver entregue caminho alterar "
    "breve hoje amanhã dia semana já dois grátis desconto chegará",
}


ARTICLES = {"un", "una", "unos", "unas", "ein", "une", "uno", "een", "um", "uma", "umas"}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_vocabulary_is_honest(language: str) -> None:
    pack = language_pack(language)
    assert not set(FORBIDDEN[language].split()) & pack.vocabulary
    single_time_words = {phrase[0] for phrase in time_phrases(language) if len(phrase) == 1}
    assert pack.vocabulary & single_time_words == pack.time_homographs
    money_words = {phrase[0] for phrase in currency_phrases(language) if len(phrase) == 1}
    assert not pack.vocabulary & money_words
    assert not pack.vocabulary & pack.address_words
    for word in pack.vocabulary:
        assert not any(c.isdigit() for c in word)
        assert alpha2digit(word, language) == word, word
        if word not in ARTICLES:  # "un", "een": the gate reads "one" only where text2num reads a number
            assert alpha2digit(f"{word} {word} {word}", language) == f"{word} {word} {word}", word


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_templates_are_whole(language: str) -> None:
    pack = language_pack(language)
    assert set(pack.facts) == {f.value for f in FactName} - {"order_status", "first_name"}
    assert set(pack.status) == {"processing", "shipped", "delivered", "cancelled", "on_hold", "delayed"}
    assert set(pack.actions) == {a.value for a in ActionKind}
    for template in [pack.greeting, *pack.facts.values(), *pack.status.values(), *pack.actions.values()]:
        assert set(re.findall(r"\{(\w+)\}", template)) <= set(FACT_PLACEHOLDERS), template


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_example_of_free_text_is_allowed(language: str) -> None:
    pack = language_pack(language)
    for kind, texts in pack.examples.items():
        assert {"greeting", "empathy", "question", "closing"} >= {kind}
        for text in texts:
            assert free_text_problems(text, language) == (), text
            assert [p for sentence in sentences_of(text) for p in sentence_problems(sentence, language)] == []


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_sentence_classes_are_declared(language: str) -> None:
    """Every language says which words make a greeting, thanks, apology or closing, open a question or a
    linked clause, answer or commit; the words a sentence may carry are vocabulary words, and none of
    them answers or commits (else a marker could carry the claim)."""
    pack = language_pack(language)
    classes = pack.sentences
    assert all(classes.markers.values()) and classes.answer and classes.commitment
    assert classes.question_openers and classes.linking
    allowed = classes.all_markers | classes.question_openers | classes.linking
    for phrase in allowed:
        assert all(word in pack.vocabulary for word in phrase), (language, phrase)
    assert not (classes.all_markers | classes.linking) & (classes.answer | classes.commitment)
    for phrase in classes.answer:  # an answer alone is never a greeting, thanks, apology or closing
        assert sentence_problems(" ".join(phrase).capitalize() + ".", language), phrase


def test_an_order_without_optional_facts_renders_its_status() -> None:
    text = render_reply(draft(fact("order_status"), fact("placed_on"), fact("total")), context(PROCESSING))
    assert "#1043" in text and "€64.50" in text
    cancelled = replace(PROCESSING, status="cancelled")
    assert "cancelled" in render_reply(draft(fact("order_status")), context(cancelled))


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("stall", ["no_tracking", "no_scan", "lost"])
def test_a_stalled_parcel_is_told_as_delayed_never_as_shipped(language: str, stall: str) -> None:
    """The tracking workflow's flag makes the status "delayed"; the rendered reply passes the gate and
    says nothing of a shipment on its way."""
    from dropship_pipelines.rules.reply_validation import verify_outgoing
    from dropship_pipelines.rules.support_prompts import order_status

    status = order_status("fulfilled", "SHIPPED", "YT2611010042", False, stall)
    assert status == "delayed"
    assert order_status("fulfilled", "DELIVERED", "YT2611010042", False, stall) == "delivered"
    order = replace(SHIPPED, status=status, tracking_stall=stall, eta_earliest=None, eta_latest=None)
    ctx = context(order, language=language)
    text = render_reply(draft(fact("order_status"), language=language), ctx)
    pack = language_pack(language)
    assert text.startswith(pack.status["delayed"].format(order_name="#1042"))
    assert pack.status["shipped"].format(order_name="#1042") not in text
    assert verify_outgoing(text, ctx) == []
