"""Customer-service answers from the facts in the prompt: the intent of a message, and a reply to it.

`support_intent` reads the customer's message (in the facts block) and names what they want.
`support_reply` writes the answer from the order's facts only: its status, the tracking number and the
carrier's link, in the customer's language, signed as the policy says. Its `bad` answers are what real
models do wrong in customer service: invent a tracking number, a date or an amount (`hallucinate`),
promise a refund nobody allowed (`unauthorized_refund`, `obey_injection`), or recite their instructions
(`leak_system`).
"""

import random
import re
from typing import Any

from dropship_sandbox import llm

_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refund", ("refund", "reembolso", "reembols", "rückerstattung", "erstatte", "rembourse", "money back")),
    ("change_address", ("address", "dirección", "lieferadresse", "adresse")),
    (
        "wrong_item",
        ("wrong size", "wrong item", "talla equivocada", "falsche größe", "mauvaise taille", "exchange"),
    ),
    (
        "product_question",
        ("waterproof", "resistente al agua", "wasserdicht", "étanche", "question", "pregunta"),
    ),
    (
        "where_is_order",
        (
            "where is",
            "when will",
            "tracking",
            "dónde está",
            "wo ist",
            "où est",
            "not arrived",
            "still has not",
            "no llega",
            "nicht da",
            "pas arrivée",
            "arrive",
        ),
    ),
)
_LANG_HINTS = {
    "es": ("hola", "pedido", "dónde", "quiero", "gracias", "¿"),
    "de": ("hallo", "bestellung", "ich ", "bitte", "meine"),
    "fr": ("bonjour", "commande", "je ", "merci", "ma "),
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


def intent(facts: llm.Facts, prompt: str, rng: random.Random) -> dict[str, Any]:
    text = str(facts.get("message") or prompt).lower()
    found = next((name for name, words in _KEYWORDS if any(w in text for w in words)), "other")
    if found == "where_is_order" and re.search(r"lawyer|sue |abogado|anwalt|avocat|dispute", text):
        found = "complaint"
    confidence = round(rng.uniform(0.8, 0.97), 2) if found != "other" else round(rng.uniform(0.35, 0.6), 2)
    return {"intent": found, "language": detect_language(text), "confidence": confidence}


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


llm.register("support_intent", intent)
llm.register("support_reply", reply, reply_bad)
