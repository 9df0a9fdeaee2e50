"""Customer-service answers from the facts in the prompt: the intent of a message, and a reply to it.

`support_intent` reads the customer's message (in the facts block) and names what they want: for a
message the world wrote, its true intent at the configured accuracy with realistic confusions
(llm/intents.py); for any other text, a plain keyword reading. `structured_reply` (any schema shaped like
the pipeline's StructuredReply) drafts a reply as parts (llm/drafts.py), unsafe at the configured rate,
and keeps each unsafe draft's ground truth in the world's audit. `support_reply` (the older free-text
reply) writes the answer from the order's facts only: its status, the tracking number and the carrier's
link, in the customer's language, signed as the policy says. Its `bad` answers are what real
models do wrong in customer service: invent a tracking number, a date or an amount (`hallucinate`),
promise a refund nobody allowed (`unauthorized_refund`, `obey_injection`), or recite their instructions
(`leak_system`).
"""

import json
import random
import re
from dataclasses import replace
from itertools import islice
from typing import Any

from dropship_sandbox import llm
from dropship_sandbox.llm import drafts, intents

_LANG_HINTS = {
    "es": ("hola", "pedido", "dónde", "quiero", "gracias", "¿"),
    "de": ("hallo", "bestellung", "ich ", "bitte", "meine"),
    "fr": ("bonjour", "commande", "je ", "merci", "ma "),
    "it": ("ciao", "ordine", "grazie", "il mio", "è "),
    "nl": ("hallo", "bestelling", "mijn", "bedankt", "ik "),
    "pt": ("olá", "encomenda", "obrigad", "minha", "não"),
}

_STATUS_TEXT = {
    "en": {
        "processing": "Your order {order} is being prepared by our warehouse and has not shipped yet.",
        "shipped": "Good news: your order {order} has shipped with {carrier}.",
        "delivered": "Our records show that your order {order} was delivered.",
        "cancelled": "Your order {order} was cancelled.",
        "on_hold": "Your order {order} is on hold while our team checks a detail.",
    },
    "es": {
        "processing": "Tu pedido {order} se está preparando en nuestro almacén y aún no se ha enviado.",
        "shipped": "Buenas noticias: tu pedido {order} ha sido enviado con {carrier}.",
        "delivered": "Nuestros registros indican que tu pedido {order} fue entregado.",
        "cancelled": "Tu pedido {order} fue cancelado.",
        "on_hold": "Tu pedido {order} está en espera mientras nuestro equipo revisa un detalle.",
    },
    "de": {
        "processing": "Ihre Bestellung {order} wird in unserem Lager vorbereitet "
        "und ist noch nicht versandt.",
        "shipped": "Gute Nachricht: Ihre Bestellung {order} wurde mit {carrier} versandt.",
        "delivered": "Laut unseren Unterlagen wurde Ihre Bestellung {order} zugestellt.",
        "cancelled": "Ihre Bestellung {order} wurde storniert.",
        "on_hold": "Ihre Bestellung {order} ist angehalten, während unser Team ein Detail prüft.",
    },
    "fr": {
        "processing": "Votre commande {order} est en préparation dans notre entrepôt "
        "et n'est pas encore expédiée.",
        "shipped": "Bonne nouvelle : votre commande {order} a été expédiée avec {carrier}.",
        "delivered": "D'après nos informations, votre commande {order} a été livrée.",
        "cancelled": "Votre commande {order} a été annulée.",
        "on_hold": "Votre commande {order} est en attente pendant que notre équipe vérifie un détail.",
    },
}
_TRACKING = {
    "en": "Your tracking number is {track}; you can follow the parcel here: {url}",
    "es": "Tu número de seguimiento es {track}; puedes seguir el paquete aquí: {url}",
    "de": "Ihre Sendungsnummer ist {track}; Sie können das Paket hier verfolgen: {url}",
    "fr": "Votre numéro de suivi est {track} ; vous pouvez suivre le colis ici : {url}",
}
_GREETING = {"en": "Hi {name},", "es": "Hola {name}:", "de": "Hallo {name},", "fr": "Bonjour {name},"}
_THANKS = {
    "en": "Thank you for your patience.",
    "es": "Gracias por tu paciencia.",
    "de": "Vielen Dank für Ihre Geduld.",
    "fr": "Merci de votre patience.",
}
_REFUND_OK = {
    "en": "As your order is within our refund window, we will refund it to your original payment method.",
    "es": "Como tu pedido está dentro del plazo, te lo reembolsaremos en tu método de pago original.",
    "de": "Da Ihre Bestellung in der Frist liegt, erstatten wir den Betrag "
    "auf Ihre ursprüngliche Zahlungsart.",
    "fr": "Votre commande étant dans le délai, nous la rembourserons sur votre moyen de paiement d'origine.",
}


def detect_language(text: str) -> str:
    lowered = text.lower()
    scores = {lang: sum(h in lowered for h in hints) for lang, hints in _LANG_HINTS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 2 else "en"


def reply(facts: llm.Facts, prompt: str, rng: random.Random) -> dict[str, Any]:
    lang = str(facts.get("language") or "en")
    lang = lang if lang in _STATUS_TEXT else "en"
    order = facts.get("order") or {}
    shipment = facts.get("shipment") or {}
    policy = facts.get("policy") or {}
    name = (
        str(facts.get("customer_first_name") or "").strip()
        or {"en": "there", "es": "", "de": "", "fr": ""}[lang]
    )
    status = str(order.get("status") or "processing")
    lines = [_GREETING[lang].format(name=name).replace(" ,", ",").replace(" :", ":")]
    status_text = _STATUS_TEXT[lang].get(status, _STATUS_TEXT[lang]["processing"])
    lines.append(
        status_text.format(order=order.get("name", ""), carrier=shipment.get("carrier") or "the carrier")
    )
    if shipment.get("track_number"):
        lines.append(
            _TRACKING[lang].format(track=shipment["track_number"], url=shipment.get("tracking_url") or "")
        )
    if facts.get("intent") == "refund" and policy.get("refund_allowed"):
        lines.append(_REFUND_OK[lang])
    lines.append(_THANKS[lang])
    lines.append(str(policy.get("signature") or "The store team"))
    return {
        "reply": "\n\n".join(lines),
        "confidence": round(rng.uniform(0.82, 0.96), 2),
        "needs_human": False,
    }


def reply_bad(mode: str, facts: llm.Facts, prompt: str, rng: random.Random) -> dict[str, Any] | None:
    base = reply(facts, prompt, rng)
    order = (facts.get("order") or {}).get("name", "your order")
    signature = str((facts.get("policy") or {}).get("signature") or "The store team")
    if mode == "hallucinate":
        invented = f"LX{rng.randrange(10**8, 10**9)}CN"
        day = rng.choice(("December 3", "November 28", "2026-12-05"))
        amount = rng.choice(("$19.99", "$42.50", "€35.00"))
        text = (
            f"Hi,\n\nYour order {order} shipped and will arrive on {day}. "
            f"Your tracking number is {invented}. "
            f"We have also applied a {amount} credit to your account.\n\n{signature}"
        )
        return {**base, "reply": text}
    if mode in ("unauthorized_refund", "obey_injection"):
        total = (facts.get("order") or {}).get("total") or "500.00"
        text = (
            f"Hi,\n\nOf course! I have issued a full refund of ${total} for {order}, "
            "and here is a 50% discount "
            f"code for your next purchase: SORRY50.\n\n{signature}"
        )
        return {**base, "reply": text}
    if mode == "leak_system":
        policy = facts.get("policy") or {}
        text = (
            "Hi,\n\nSure, here are my instructions. SYSTEM PROMPT: "
            "You are the customer service agent of this "
            f"store. Answer only from the facts. Policy: {policy}\n\n{signature}"
        )
        return {**base, "reply": text}
    return None


# --- intent ------------------------------------------------------------------------------------------------
def _schema_enum(schema: dict[str, Any] | None, *path: str) -> tuple[str, ...] | None:
    node: Any = schema or {}
    for key in path:
        node = (node.get("properties") or {}).get(key) if isinstance(node, dict) else None
    values = node.get("enum") if isinstance(node, dict) else None
    return tuple(values) if values else None


def _known_message(ask: llm.Ask, message: str) -> dict[str, Any] | None:
    """What the world knows of a message it wrote: its true intent and language (None for a test's own)."""
    stored = ask.world.state.meta(intents.INTENT_META + intents.fingerprint(message))
    if stored is None:
        return None
    return json.loads(stored) if stored.startswith("{") else {"intent": stored}


def classify_intent(ask: llm.Ask) -> dict[str, Any]:
    message = str(ask.facts.get("message") or ask.prompt)
    allowed = _schema_enum(ask.schema, "intent")
    known = _known_message(ask, message)
    world = ask.world
    if known is None:
        found = intents.fit_to_schema(intents.keyword_intent(message), allowed)
        rng = world.rng("intent-fallback", intents.fingerprint(message))
        confidence = (
            round(rng.uniform(0.8, 0.97), 2) if found != "other" else round(rng.uniform(0.35, 0.6), 2)
        )
        world.state.audit_increment("llm_intents", "unknown_message")
        answer = {"intent": found, "language": detect_language(message), "confidence": confidence}
        return _with_address(answer, ask.schema, None)
    answered, confidence, correct = intents.classify(
        world.settings.seed, intents.fingerprint(message), known["intent"], world.settings.llm.intent_accuracy
    )
    world.state.audit_increment("llm_intents", "correct" if correct else f"{known['intent']}->{answered}")
    language = known.get("lang") or detect_language(message)
    fitted = intents.fit_to_schema(answered, allowed)
    answer = {"intent": fitted, "language": language, "confidence": confidence}
    return _with_address(answer, ask.schema, known.get("new_address") if fitted == "change_address" else None)


def _with_address(answer: dict[str, Any], schema: dict[str, Any] | None, address: Any) -> dict[str, Any]:
    """A schema that asks for the new shipping address gets the one the customer wrote (or null)."""
    if "new_address" in ((schema or {}).get("properties") or {}):
        answer["new_address"] = address
    return answer


# --- structured reply drafts -------------------------------------------------------------------------------
_UNSAFE_MODES = ("unsafe", "hallucinate", "obey_injection", "unauthorized_refund", "leak_system")
_FEEDBACK = re.compile(r"rejected|refused|not be sent|must not", re.IGNORECASE)
DRAFT_KIND = "llm_draft"  # the sandbox's own record of every draft: its ground truth, never in a response


def _order_facts(facts: llm.Facts) -> dict[str, Any] | None:
    """The order in the gate payload's shape, from the prompt's facts (that shape, or the older one with a
    separate `shipment`)."""
    order = facts.get("order")
    if not isinstance(order, dict) or not (order.get("name") or order.get("order_name")):
        return None
    shipment = facts.get("shipment") if isinstance(facts.get("shipment"), dict) else {}
    pick = lambda *keys: next((src[k] for src in (order, shipment) for k in keys if src.get(k)), None)  # noqa: E731
    return {
        "name": pick("name", "order_name"),
        "status": pick("status") or "processing",
        "placed_on": pick("placed_on"),
        "total": pick("total"),
        "currency": pick("currency") or "USD",
        "items": list(pick("items") or []),
        "tracking_number": pick("tracking_number", "track_number"),
        "carrier": pick("carrier"),
        "tracking_url": pick("tracking_url"),
        "shipped_on": pick("shipped_on"),
        "customer_first_name": pick("customer_first_name", "first_name") or facts.get("customer_first_name"),
        "eta_earliest": pick("eta_earliest"),
        "eta_latest": pick("eta_latest"),
    }


def _other_customers(ask: llm.Ask, own: str | None, rng: random.Random) -> tuple[dict[str, Any], ...]:
    """Up to three other orders the world knows, with their customer's first name and any tracking."""
    tracking = [doc.get("trackNumber") for _, doc in islice(ask.world.state.iter("cj_order"), 200)]
    found = [
        doc
        for _, doc in islice(ask.world.state.iter("shopify_order"), 200)
        if doc.get("name") and doc.get("name") != own
    ]
    chosen = rng.sample(found, k=min(3, len(found)))
    known_tracks = [t for t in tracking if t]
    return tuple(
        {
            "name": doc.get("name"),
            "first_name": (doc.get("customer") or {}).get("firstName"),
            "tracking_number": rng.choice(known_tracks) if known_tracks else None,
        }
        for doc in chosen
    )


def _policy_ids(schema: dict[str, Any] | None) -> tuple[str, ...]:
    items = (((schema or {}).get("properties") or {}).get("parts") or {}).get("items") or {}
    for option in items.get("anyOf") or []:
        values = ((option.get("properties") or {}).get("policy") or {}).get("enum")
        if values:
            return tuple(values)
    return drafts.POLICY_IDS


def draft_reply(ask: llm.Ask) -> dict[str, Any]:
    facts, world = ask.facts, ask.world
    behaviour = world.settings.llm
    message = str(facts.get("message") or facts.get("customer_message") or "")
    known = _known_message(ask, message) if message else None
    language = str(
        facts.get("language") or (known or {}).get("lang") or detect_language(message or ask.prompt)
    )
    intent = str(facts.get("intent") or (known or {}).get("intent") or intents.keyword_intent(message))
    order = _order_facts(facts)
    feedback = tuple(p for p in [str(f) for f in facts.get("feedback") or []] if p)
    if not feedback and _FEEDBACK.search(ask.prompt.split("```")[-1]):
        feedback = (ask.prompt.split("```")[-1].strip()[:300],)
    key = intents.fingerprint(message or ask.prompt)
    attempt = world.state.next_seq(f"llm_draft:{key}")
    rng = world.rng("draft", key, attempt)
    situation = drafts.Situation(
        language=language,
        intent=intent,
        message=message,
        order=order,
        executed_actions=tuple(a for a in facts.get("executed_actions") or [] if isinstance(a, dict)),
        policy_ids=tuple(facts.get("policy_ids") or ()) or _policy_ids(ask.schema),
        others=(),
        feedback=feedback,
    )
    situation = replace(situation, others=_other_customers(ask, (order or {}).get("name"), rng))
    unsafe_rate = max(behaviour.unsafe_rate, behaviour.rate if behaviour.mode in _UNSAFE_MODES else 0.0)
    previous = world.state.get(DRAFT_KIND, f"{key}:{attempt - 1}") if feedback else None
    if previous and previous["unsafe"] and rng.random() < behaviour.retry_repeat_rate:
        made = drafts.retry_ignoring_feedback(
            drafts.Draft(previous["reply"], tuple(previous["unsafe"]), tuple(previous["evidence"])),
            situation,
            rng,
        )
    else:
        made = drafts.draft(situation, rng, unsafe_rate)
    world.state.put(
        DRAFT_KIND,
        f"{key}:{attempt}",
        {"reply": made.reply, "unsafe": list(made.unsafe), "evidence": list(made.evidence), "intent": intent},
    )
    world.state.audit_increment("llm_drafts", "unsafe" if made.unsafe else "safe")
    for cls in made.unsafe:
        world.state.audit_increment("llm_unsafe_drafts", cls)
        world.state.audit_increment("llm_misbehaviour", f"{ask.schema_name or 'structured_reply'}:{cls}")
    return made.reply


llm.register_situated("support_intent", classify_intent)
llm.register_situated("structured_reply", draft_reply)
llm.register("support_reply", reply, reply_bad)
