"""The sandbox model's intent classifier: right at a configured accuracy, wrong the way real models are.

The world knows what every customer it generated wants (support_messages stores the true intent with a
fingerprint of the message). Asked to classify a message it knows, the classifier answers the true intent
with probability `accuracy` and otherwise a confusion drawn from a seeded matrix whose mass sits on the
intents real models mix up (where is my order <-> shipping time, refund <-> return policy <-> cancel,
product question <-> other, ...). The draw is fixed by (world seed, message): asking twice gives the same
answer. A text the world never generated (a test's own) gets a plain keyword reading instead.
"""

import hashlib
import random
import re
import unicodedata

INTENT_META = "support:intent:"  # world meta key prefix: + message fingerprint -> the true intent

# Every intent a generated customer can have. A request whose schema offers fewer gets the nearest one.
INTENTS = (
    "where_is_order",
    "shipping_time",
    "return_policy",
    "refund",
    "cancel",
    "change_address",
    "wrong_item",
    "product_question",
    "thanks",
    "complaint",
    "other",
)

# The confusions of a real classifier: (true intent) -> {confused with: base weight}. The world's seed
# perturbs each weight, so the matrix is seeded, but the mass stays where real models put it.
CONFUSIONS: dict[str, dict[str, float]] = {
    "where_is_order": {"shipping_time": 6, "complaint": 2, "other": 1},
    "shipping_time": {"where_is_order": 6, "product_question": 1.5, "other": 1},
    "return_policy": {"refund": 5, "wrong_item": 2, "cancel": 1.5, "other": 1},
    "refund": {"return_policy": 5, "cancel": 3, "complaint": 1.5},
    "cancel": {"refund": 4, "change_address": 2, "return_policy": 2},
    "change_address": {"cancel": 3, "where_is_order": 1.5, "other": 1.5},
    "wrong_item": {"return_policy": 4, "refund": 3, "complaint": 1.5},
    "product_question": {"other": 5, "shipping_time": 1.5, "wrong_item": 1},
    "thanks": {"other": 5, "complaint": 0.5, "where_is_order": 1},
    "complaint": {"where_is_order": 4, "refund": 2, "other": 1.5},
    "other": {"product_question": 4, "thanks": 2, "complaint": 1},
}

# When the request's schema lacks an intent, the one a model forced into that schema would choose.
NEAREST: dict[str, str] = {
    "shipping_time": "where_is_order",
    "return_policy": "other",
    "cancel": "other",
    "thanks": "other",
    "wrong_item": "other",
    "change_address": "other",
    "product_question": "other",
    "complaint": "other",
}

# The simple reader for texts the world did not write: first matching keyword wins.
_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cancel", ("cancel", "cancelar", "stornier", "annuler", "annulla", "annuleer")),
    ("refund", ("refund", "reembolso", "reembols", "rückerstattung", "erstatte", "rembourse", "money back")),
    ("change_address", ("address", "dirección", "lieferadresse", "adresse", "indirizzo", "adres")),
    (
        "wrong_item",
        ("wrong size", "wrong item", "talla equivocada", "falsche größe", "mauvaise taille", "exchange"),
    ),
    ("return_policy", ("return", "devolver", "devolución", "zurückgeben", "retourner", "retour")),
    (
        "product_question",
        ("waterproof", "resistente al agua", "wasserdicht", "étanche", "question", "pregunta"),
    ),
    ("shipping_time", ("how long", "shipping time", "cuánto tarda", "wie lange", "combien de temps")),
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
    ("thanks", ("thank you", "thanks", "gracias", "danke", "merci", "grazie", "bedankt", "obrigad")),
)
_LEGAL = re.compile(r"lawyer|sue |abogado|anwalt|avocat|dispute", re.IGNORECASE)


def fingerprint(text: str) -> str:
    """What identifies a customer's message even after the pipeline trimmed it: the hash of its first
    words, case and spacing folded (truncation and stripped signatures keep the start)."""
    folded = " ".join(unicodedata.normalize("NFKC", text).lower().split())[:160]
    return hashlib.sha256(folded.encode()).hexdigest()[:24]


def keyword_intent(text: str) -> str:
    lowered = text.lower()
    found = next((name for name, words in _KEYWORDS if any(w in lowered for w in words)), "other")
    if found == "where_is_order" and _LEGAL.search(lowered):
        return "complaint"
    return found


def confusion_weights(seed: int, true_intent: str) -> dict[str, float]:
    """The seeded row of the confusion matrix for one true intent (weights, not yet normalised)."""
    digest = hashlib.sha256(repr((seed, "intent-confusion", true_intent)).encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    return {other: weight * rng.uniform(0.6, 1.4) for other, weight in CONFUSIONS[true_intent].items()}


def fit_to_schema(intent: str, allowed: tuple[str, ...] | None) -> str:
    """The intent as the request's schema can hold it."""
    if not allowed or intent in allowed:
        return intent
    nearest = NEAREST.get(intent, "other")
    if nearest in allowed:
        return nearest
    return "other" if "other" in allowed else allowed[-1]


def classify(
    seed: int, message_fingerprint: str, true_intent: str, accuracy: float
) -> tuple[str, float, bool]:
    """(intent answered, confidence, correct?) for a message whose true intent the world knows."""
    digest = hashlib.sha256(repr((seed, "intent", message_fingerprint)).encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    if rng.random() < accuracy or true_intent not in CONFUSIONS:
        return true_intent, round(rng.uniform(0.78, 0.97), 2), True
    row = confusion_weights(seed, true_intent)
    wrong = rng.choices(list(row), weights=list(row.values()), k=1)[0]
    # A real model is about as sure of its mistakes as of its hits, a little less on average.
    return wrong, round(rng.uniform(0.62, 0.93), 2), False
