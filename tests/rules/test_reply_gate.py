"""The last gate before a reply leaves: an allow-list over the rendered text (verify_outgoing), its JSON
form (verify_outgoing_payload), against every unsafe class the issue names, in every language, and over
thousands of drafts generated from a seeded RNG: every rendered draft passes, every unsafe mutation fails.
"""

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from dropship_pipelines.rules.reply_context import ExecutedAction, OrderFacts, ReplyContext
from dropship_pipelines.rules.reply_draft import ActionKind, FactName, FactPart, StructuredReply
from dropship_pipelines.rules.reply_languages import SUPPORTED_LANGUAGES, language_pack
from dropship_pipelines.rules.reply_render import ReplyRefused, date_renderings, render_money, render_reply
from dropship_pipelines.rules.reply_validation import verify_outgoing, verify_outgoing_payload
from dropship_pipelines.rules.store_policy import default_store_policy

POLICY = default_store_policy()
SHIPPED = OrderFacts(
    order_name="#1042",
    status="shipped",
    placed_on=date(2026, 11, 1),
    total=Decimal("19.90"),
    currency="USD",
    items=("LED Desk Lamp",),
    track_number="YT2611010042",
    carrier="YunExpress",
    tracking_url="https://t.17track.net/en#nums=YT2611010042",
    shipped_on=date(2026, 11, 3),
    customer_first_name="Maria",
)
PROCESSING = replace(
    SHIPPED, status="processing", track_number=None, carrier=None, tracking_url=None, shipped_on=None
)


def context(order: OrderFacts | None = SHIPPED, language: str = "en", **kwargs: object) -> ReplyContext:
    return ReplyContext(order=order, policy=POLICY, language=language, **kwargs)  # type: ignore[arg-type]


def rendered(ctx: ReplyContext, *facts: str, texts: tuple[str, ...] = ()) -> str:
    pack = language_pack(ctx.language)
    parts: list[dict] = [
        {"kind": "fact", "fact": "first_name"},
        {"kind": "text", "text": pack.examples["greeting"][3]},
    ]
    parts += [{"kind": "fact", "fact": name} for name in facts]
    parts += [{"kind": "text", "text": text} for text in texts]
    parts.append({"kind": "text", "text": pack.examples["closing"][0]})
    draft = StructuredReply.model_validate(
        {"language": ctx.language, "parts": parts, "escalate": False, "confidence": 0.9}
    )
    return render_reply(draft, ctx)


def with_sentence(text: str, sentence: str) -> str:
    """The reply with one more sentence before its sign-off, as a model or an operator would add it."""
    body, _, signature = text.rpartition("\n\n")
    return f"{body} {sentence}\n\n{signature}"


# --- every unsafe class of the issue, in every language ---------------------------------------------------
SPACED_TRACKING = "1Z 999 AA1 01 23"
UNSAFE: dict[str, list[str]] = {
    "en": [
        "It should arrive early next week.",
        "You will have it in two days.",
        "Expect it next Friday.",
        "Delivery takes 3-5 business days.",
        "Please accept a CHF 20 goodwill gesture.",
        "Code THANKYOU takes fifteen percent off your next order.",
        "We'll return the full amount to your card.",
        "I've cancelled your order and changed the address.",
        "Your order is in transit.",
        "We'll get another one out to you right away.",
        f"Your tracking number is {SPACED_TRACKING}.",
        "Your order #1099 has shipped.",
        "<script>alert('hi')</script>",
        "Write to help@sandbox-store.com if you need us.",
        "Call us at +1 415 555 0100.",
        "You will receive twenty dollars back.",
        "Visit www.sandbox-store.com for details.",
        "Our returns desk is at Main Street, Springfield.",
    ],
    "es": [
        "Debería llegar a principios de la próxima semana.",
        "Lo recibirás en dos días.",
        "Llegará el próximo viernes.",
        "La entrega tarda de 3 a 5 días hábiles.",
        "Te ofrecemos un gesto de buena voluntad de 20 CHF.",
        "El código THANKYOU te da un quince por ciento de descuento.",
        "Te devolveremos el importe completo en tu tarjeta.",
        "He cancelado tu pedido y cambiado la dirección.",
        "Tu pedido está en camino.",
        f"Tu número de seguimiento es {SPACED_TRACKING}.",
        "Tu pedido #1099 ya se ha enviado.",
        "<script>alert('hola')</script>",
        "Escríbenos a ayuda@tienda.es si lo necesitas.",
        "Llámanos al +34 912 345 678.",
    ],
    "de": [
        "Es sollte Anfang nächster Woche ankommen.",
        "Sie erhalten es in zwei Tagen.",
        "Es kommt nächsten Freitag an.",
        "Die Lieferung dauert 3-5 Werktage.",
        "Als Kulanz erhalten Sie 20 CHF.",
        "Der Code THANKYOU gibt Ihnen fünfzehn Prozent Rabatt.",
        "Wir erstatten Ihnen den vollen Betrag auf Ihre Karte.",
        "Ich habe Ihre Bestellung storniert und die Adresse geändert.",
        "Ihre Bestellung ist unterwegs.",
        f"Ihre Sendungsnummer lautet {SPACED_TRACKING}.",
        "Ihre Bestellung #1099 wurde versandt.",
        "<script>alert('hallo')</script>",
        "Schreiben Sie an hilfe@shop.de.",
        "Rufen Sie uns an: +49 30 1234567.",
    ],
    "fr": [
        "Il devrait arriver en début de semaine prochaine.",
        "Vous le recevrez dans deux jours.",
        "Il arrivera vendredi prochain.",
        "La livraison prend 3 à 5 jours ouvrés.",
        "Nous vous offrons un geste commercial de 20 CHF.",
        "Le code THANKYOU vous donne quinze pour cent de réduction.",
        "Nous vous rembourserons le montant total sur votre carte.",
        "J'ai annulé votre commande et changé l'adresse.",
        "Votre commande est en route.",
        f"Votre numéro de suivi est {SPACED_TRACKING}.",
        "Votre commande #1099 a été expédiée.",
        "<script>alert('salut')</script>",
        "Écrivez-nous à aide@boutique.fr.",
        "Appelez-nous au +33 1 23 45 67 89.",
    ],
    "it": [
        "Dovrebbe arrivare all'inizio della prossima settimana.",
        "Lo riceverai tra due giorni.",
        "Arriverà venerdì prossimo.",
        "La consegna richiede 3-5 giorni lavorativi.",
        "Ti offriamo un gesto di cortesia di 20 CHF.",
        "Il codice THANKYOU ti dà il quindici per cento di sconto.",
        "Ti restituiremo l'intero importo sulla tua carta.",
        "Ho annullato il tuo ordine e cambiato l'indirizzo.",
        "Il tuo ordine è in transito.",
        f"Il tuo numero di tracciamento è {SPACED_TRACKING}.",
        "Il tuo ordine #1099 è stato spedito.",
        "<script>alert('ciao')</script>",
        "Scrivici a aiuto@negozio.it.",
        "Chiamaci al +39 06 1234 5678.",
    ],
    "nl": [
        "Het zou begin volgende week moeten aankomen.",
        "Je ontvangt het over twee dagen.",
        "Het komt volgende vrijdag aan.",
        "De levering duurt 3-5 werkdagen.",
        "We bieden je een gebaar van 20 CHF.",
        "Code THANKYOU geeft je vijftien procent korting.",
        "We betalen het volledige bedrag terug op je kaart.",
        "Ik heb je bestelling geannuleerd en het adres gewijzigd.",
        "Je bestelling is onderweg.",
        f"Je trackingnummer is {SPACED_TRACKING}.",
        "Je bestelling #1099 is verzonden.",
        "<script>alert('hoi')</script>",
        "Mail ons op hulp@winkel.nl.",
        "Bel ons op +31 20 123 4567.",
    ],
    "pt": [
        "Deverá chegar no início da próxima semana.",
        "Vai recebê-lo em dois dias.",
        "Chega na próxima sexta-feira.",
        "A entrega demora 3 a 5 dias úteis.",
        "Oferecemos um gesto de boa vontade de 20 CHF.",
        "O código THANKYOU dá quinze por cento de desconto.",
        "Vamos devolver o valor total no seu cartão.",
        "Cancelei o seu pedido e alterei o endereço.",
        "O seu pedido está a caminho.",
        f"O seu código de rastreio é {SPACED_TRACKING}.",
        "O seu pedido #1099 foi enviado.",
        "<script>alert('olá')</script>",
        "Escreva-nos para ajuda@loja.pt.",
        "Ligue-nos para +351 21 123 4567.",
    ],
}
CASES = [(language, sentence) for language, sentences in UNSAFE.items() for sentence in sentences]


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_rendered_replies_pass(language: str) -> None:
    for order, facts in (
        (SHIPPED, ("order_status", "tracking_number", "tracking_link")),
        (PROCESSING, ("order_status",)),
    ):
        ctx = context(order, language)
        assert verify_outgoing(rendered(ctx, *facts), ctx) == []


@pytest.mark.parametrize(("language", "sentence"), CASES)
def test_unsafe_sentences_are_refused(language: str, sentence: str) -> None:
    for order in (SHIPPED, PROCESSING):
        ctx = context(order, language)
        text = with_sentence(rendered(ctx, "order_status"), sentence)
        assert verify_outgoing(text, ctx), (language, sentence)


def test_reasons_name_the_offending_spans() -> None:
    ctx = context()
    base = rendered(ctx, "order_status")

    def reasons(sentence: str) -> str:
        return " | ".join(verify_outgoing(with_sentence(base, sentence), ctx))

    assert "'refunded'" in reasons("We refunded it.")
    assert "'next Friday'" in reasons("Expect it next Friday.")
    assert "'in two days'" in reasons("You will have it in two days.")
    assert "'fifteen'" in reasons("Code THANKYOU takes fifteen percent off.")
    assert "'THANKYOU'" in reasons("Code THANKYOU takes fifteen percent off.")
    assert "CHF" in reasons("Please accept a CHF 20 goodwill gesture.")
    assert SPACED_TRACKING in reasons(f"Your tracking number is {SPACED_TRACKING}.")
    assert "'#1099'" in reasons("Your order #1099 has shipped.")
    assert "<script>" in reasons("<script>alert(1)</script>")
    assert "email address" in reasons("Write to help@sandbox-store.com.")
    assert "phone number" in reasons("Call us at +1 415 555 0100.")
    assert "'transit'" in reasons("Your order is in transit.")
    assert "percentage" in reasons("Take 15% off.")
    assert "markup: '&amp;'" in reasons("Thanks &amp; regards.")


# --- claims in everyday words: every word approved, yet an answer, a state or a promise -------------------
# Free text may only greet, thank, apologise, ask back and close: a declarative sentence without a
# greeting, thanks, apology or closing word, an answer word ("yes", "no problem") anywhere, or a
# commitment ("can", "will", "do") outside a question is refused, whatever its words.
EVERYDAY_CLAIMS: dict[str, list[str]] = {
    "en": [
        "No problem, consider it sorted.",
        "All good on our side.",
        "That's fine.",
        "Consider it done.",
        "We've got you covered.",
        "It will be there soon.",
        "Of course.",
        "Absolutely, that is possible.",
        "We can do it.",
        "It is all yours.",
        "There is nothing wrong with it.",
        "Thank you, it is with you.",
        "Sorry, your order is out.",
        "That is on us.",
        "You can, can't you?",
    ],
    "es": [
        "No hay problema, considéralo hecho.",
        "Todo está bien por nuestra parte.",
        "Está bien.",
        "Claro que sí.",
        "Podemos hacerlo por ti.",
        "Es todo tuyo.",
        "Gracias, ya lo tienes.",
        "No hay ningún problema con tu pedido.",
        "Por supuesto.",
    ],
    "de": [
        "Kein Problem, betrachten Sie es als erledigt.",
        "Alles gut bei uns.",
        "Das ist in Ordnung.",
        "Natürlich.",
        "Das können wir für Sie machen.",
        "Es ist bei Ihnen.",
        "Danke, es ist bei Ihnen.",
        "Mit Ihrer Bestellung ist alles gut.",
        "Ja, gerne.",
    ],
    "fr": [
        "Pas de problème, c'est réglé.",
        "Tout va bien de notre côté.",
        "C'est bon.",
        "Bien sûr.",
        "Nous pouvons le faire pour vous.",
        "C'est pour nous.",
        "Merci, elle est chez vous.",
        "Il n'y a aucun problème avec votre commande.",
        "D'accord.",
    ],
    "it": [
        "Nessun problema, consideralo fatto.",
        "Tutto bene da parte nostra.",
        "Va bene.",
        "Certo.",
        "Possiamo farlo per te.",
        "È tutto tuo.",
        "Grazie, è con te.",
        "Non c'è nessun problema con il tuo ordine.",
        "Sì, certo.",
    ],
    "nl": [
        "Geen probleem, het is geregeld.",
        "Alles is goed bij ons.",
        "Dat is prima.",
        "Natuurlijk.",
        "Dat kunnen we voor je doen.",
        "Het is bij jou.",
        "Bedankt, het is bij je.",
        "Er is niets mis met je bestelling.",
        "Ja, graag.",
    ],
    "pt": [
        "Sem problema, considere feito.",
        "Está tudo bem do nosso lado.",
        "Está bem.",
        "Claro.",
        "Podemos fazer isso por si.",
        "É todo seu.",
        "Obrigado, está consigo.",
        "Não há nenhum problema com o seu pedido.",
        "Com certeza.",
    ],
}
PLEASANTRIES: dict[str, list[str]] = {
    "en": [
        "Hello there,",
        "Dear Maria,",
        "Many thanks for writing to us.",
        "We really appreciate your patience.",
        "I'm so sorry about the trouble.",
        "We completely understand how disappointing this is.",
        "Could you please share a picture of the product?",
        "Which colour would you prefer?",
        "What size do you need?",
        "Could you confirm your order #1042?",
        "Please let us know if you have any other questions.",
        "Warm regards,",
        "Thank you, we're happy to help.",
    ],
    "es": [
        "Hola, Maria:",
        "Muchas gracias por tu mensaje.",
        "Lamentamos mucho las molestias.",
        "Entendemos tu preocupación.",
        "¿Qué color prefieres?",
        "¿Podrías compartir una foto del producto?",
        "Saludos cordiales,",
    ],
    "de": [
        "Liebe Maria,",
        "Herzlichen Dank für Ihre Geduld.",
        "Es tut uns wirklich leid für den Ärger.",
        "Wir verstehen, wie ärgerlich das ist.",
        "Welche Farbe möchten Sie?",
        "Könnten Sie ein Foto mit uns teilen?",
        "Viele Grüße,",
    ],
    "fr": [
        "Bonjour Maria,",
        "Merci beaucoup pour votre patience.",
        "Nous sommes sincèrement désolés pour ce désagrément.",
        "Nous comprenons votre frustration.",
        "Quelle couleur préférez-vous ?",
        "Pourriez-vous nous indiquer la taille ?",
        "Bien à vous,",
    ],
    "it": [
        "Gentile Maria,",
        "Grazie davvero per la tua pazienza.",
        "Ci dispiace davvero per il disagio.",
        "Capiamo la tua preoccupazione.",
        "Quale colore preferisci?",
        "Potresti indicarci la taglia?",
        "Cordiali saluti,",
    ],
    "nl": [
        "Beste Maria,",
        "Hartelijk dank voor je geduld.",
        "Het spijt ons echt voor het ongemak.",
        "We begrijpen je frustratie.",
        "Welke kleur wil je graag?",
        "Kun je ons de maat vertellen?",
        "Hartelijke groeten,",
    ],
    "pt": [
        "Olá Maria,",
        "Muito obrigado pela sua paciência.",
        "Lamentamos muito o transtorno.",
        "Compreendemos a sua preocupação.",
        "Que cor prefere?",
        "Poderia indicar-nos o tamanho?",
        "Atenciosamente,",
    ],
}
DELIVERED = replace(SHIPPED, status="delivered")


@pytest.mark.parametrize(
    ("language", "sentence"),
    [(language, sentence) for language, sentences in EVERYDAY_CLAIMS.items() for sentence in sentences],
)
def test_claims_in_everyday_words_are_refused(language: str, sentence: str) -> None:
    for order in (DELIVERED, PROCESSING, None):
        ctx = context(order, language)
        if order is None:
            thanks = language_pack(language).examples["greeting"][3]
            text = f"{thanks} {sentence}\n\n{POLICY.signature[language]}"
        else:
            text = with_sentence(rendered(ctx, "order_status"), sentence)
        assert verify_outgoing(text, ctx), (language, sentence, order)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [(language, sentence) for language, sentences in PLEASANTRIES.items() for sentence in sentences],
)
def test_greetings_empathy_questions_and_closings_pass(language: str, sentence: str) -> None:
    for order in (DELIVERED, PROCESSING):
        ctx = context(order, language)
        assert verify_outgoing(with_sentence(rendered(ctx, "order_status"), sentence), ctx) == [], sentence


def test_a_free_sentence_is_refused_for_what_it_is() -> None:
    ctx = context(DELIVERED, "de")
    text = rendered(ctx)
    # The reply the sandbox's generator got through: German, delivered, nothing executed.
    reasons = " | ".join(verify_outgoing(text.replace("Nachricht.", "Nachricht. Ja, das können Sie."), ctx))
    assert "answers the customer: 'ja'" in reasons
    en = context(DELIVERED)
    base = rendered(en, "order_status")

    def reasons_en(sentence: str) -> str:
        return " | ".join(verify_outgoing(with_sentence(base, sentence), en))

    assert "not a greeting, thanks, apology or closing: 'It is with you.'" in reasons_en("It is with you.")
    assert "'it is with you'" in reasons_en("Thank you, it is with you.")
    assert "states what can or will be done: 'can'" in reasons_en("We're sorry we can help.")
    assert "a question must open with a question word" in reasons_en("You can, right?")
    assert "answers the customer: 'sure'" in reasons_en("Sure, could you tell us your order number?")


def test_a_state_the_order_is_not_in_is_refused() -> None:
    shipped_text = rendered(context(SHIPPED), "order_status")
    assert verify_outgoing(shipped_text, context(SHIPPED)) == []
    assert verify_outgoing(shipped_text, context(PROCESSING))  # "Your order #1042 has shipped."


def test_actions_are_stated_only_when_executed() -> None:
    refund = ExecutedAction(ActionKind.REFUND, Decimal("19.90"), "USD")
    done = context(executed_actions=(refund, ExecutedAction(ActionKind.CANCEL)))
    draft = StructuredReply.model_validate(
        {
            "language": "en",
            "parts": [{"kind": "action", "action": "refund"}, {"kind": "action", "action": "cancel"}],
            "escalate": False,
            "confidence": 0.9,
        }
    )
    text = render_reply(draft, done)
    assert "We have refunded $19.90" in text
    assert verify_outgoing(text, done) == []
    assert verify_outgoing(text, context())  # nothing executed
    other_amount = context(executed_actions=(ExecutedAction(ActionKind.REFUND, Decimal("5.00"), "USD"),))
    assert verify_outgoing(text, other_amount)


@pytest.mark.parametrize(
    ("text_language", "claimed"), [("it", "en"), ("nl", "en"), ("es", "pt"), ("de", "nl")]
)
def test_a_reply_in_another_language_is_refused(text_language: str, claimed: str) -> None:
    text = rendered(context(language=text_language), "order_status", "tracking_number")
    problems = verify_outgoing(text, context(language=claimed))
    assert any(p.startswith("language:") for p in problems)


def test_a_language_the_gate_cannot_check_goes_to_a_person() -> None:
    assert verify_outgoing("Hej Maria, tack för ditt meddelande.", context(language="sv")) == [
        "language 'sv' cannot be checked: a person answers"
    ]


def test_tricks_of_encoding_are_read_as_plain_text() -> None:
    ctx = context()
    base = rendered(ctx, "order_status")
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in "Expect it next friday.")
    assert verify_outgoing(with_sentence(base, full_width), ctx)
    assert verify_outgoing(with_sentence(base, "We ref\u200bunded it."), ctx)
    assert verify_outgoing(base.replace("Hi Maria", "<b>Hi Maria</b>"), ctx)


def test_an_operators_edit_within_the_vocabulary_passes_and_an_invented_date_does_not() -> None:
    ctx = context()
    text = rendered(ctx, "order_status", "tracking_number").replace(
        "Thank you for your message.", "Thanks a lot for writing."
    )
    assert verify_outgoing(text, ctx) == []
    assert verify_outgoing(with_sentence(text, "It arrives on November 30."), ctx)
    assert verify_outgoing(with_sentence(text, "It arrives on 2026-11-30."), ctx)


def test_a_reply_over_the_length_limit_is_refused_without_reading_it_all() -> None:
    ctx = context()
    long_text = rendered(ctx, "order_status", texts=("Thank you for your patience. " * 2000,))
    assert verify_outgoing(long_text, ctx) == [f"reply longer than {POLICY.max_reply_chars} characters"]


def test_no_order_means_no_facts() -> None:
    ctx = context(None)
    assert (
        verify_outgoing("Hello,\n\nCould you tell us your order number?\n\nThe Sandbox Store team", ctx) == []
    )
    assert verify_outgoing("Hello,\n\nYour tracking number is YT2611010042.\n\nThe Sandbox Store team", ctx)


def test_policy_snippets_pass_verbatim_and_reworded_do_not() -> None:
    ctx = context()
    text = with_sentence(rendered(ctx), POLICY.snippet("shipping_times", "en"))
    assert verify_outgoing(text, ctx) == []
    assert verify_outgoing(with_sentence(rendered(ctx), "Delivery takes 7 to 10 business days."), ctx)


# --- the JSON form --------------------------------------------------------------------------------------
PAYLOAD_ORDER = {
    "name": "#1001",
    "status": "shipped",
    "placed_on": "2026-11-10",
    "total": "34.99",
    "currency": "USD",
    "items": ["Phone Stand"],
    "tracking_number": "YT2611100001",
    "carrier": "YunExpress",
    "tracking_url": None,
    "shipped_on": "2026-11-12",
    "customer_first_name": "Sam",
}


def test_payload_gate_passes_a_safe_reply_and_refuses_an_unsafe_one() -> None:
    ok = (
        "Hi Sam,\n\nThank you for your message. Your order #1001 has shipped. Your tracking number is "
        "YT2611100001. We have refunded $19.99 to your original payment method.\n\nThe Sandbox Store team"
    )
    payload = {
        "text": ok,
        "language": "en",
        "order": PAYLOAD_ORDER,
        "executed_actions": [{"kind": "refund", "amount": "19.99", "currency": "USD"}],
    }
    assert verify_outgoing_payload(payload) == []
    assert verify_outgoing_payload({**payload, "executed_actions": []})
    assert verify_outgoing_payload({**payload, "text": ok.replace("has shipped", "is in transit")})


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"text": "Hello"},
        {"text": 3, "language": "en"},
        {"text": "Hello", "language": "en", "order": {"name": "#1"}},
        {"text": "Hello", "language": "en", "order": {**PAYLOAD_ORDER, "status": "lost"}},
        {"text": "Hello", "language": "en", "order": {**PAYLOAD_ORDER, "placed_on": "yesterday"}},
        {"text": "Hello", "language": "en", "executed_actions": [{"kind": "refund"}]},
        {"text": "Hello", "language": "en", "executed_actions": [{"kind": "teleport"}]},
        {"text": "Hello", "language": "en", "surprise": True},
        [],
        None,
    ],
)
def test_a_payload_of_the_wrong_shape_is_a_reason_not_an_exception(payload: object) -> None:
    problems = verify_outgoing_payload(payload)  # type: ignore[arg-type]
    assert problems and all(p.startswith("payload") for p in problems)


# --- property style: thousands of generated drafts ---------------------------------------------------------
LOCALES = {
    "en": ["en_US", "en_GB"],
    "es": ["es_ES", "es_MX"],
    "de": ["de_DE", "de_CH"],
    "fr": ["fr_FR", "fr_CA"],
    "it": ["it_IT"],
    "nl": ["nl_NL", "nl_BE"],
    "pt": ["pt_PT", "pt_BR"],
}
FIRST_NAMES = ["Maria", "José", "Zoë", "Ann-Marie", "Sam", "Lukas", "Chloé", "Giulia", "Daan", "João", None]
ITEM_NAMES = ["LED Desk Lamp", "Phone Stand X200", "Yoga Mat", "Wireless Earbuds", "Pet Bed (L)", "Lunch Box"]
CARRIERS = ["YunExpress", "4PX", "USPS", "DHL eCommerce", "PostNL", "La Poste"]


def _token(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(size))


def random_context(rng: random.Random) -> ReplyContext:
    language = rng.choice(SUPPORTED_LANGUAGES)
    placed = date(2026, 1, 1) + timedelta(days=rng.randrange(330))
    status = rng.choice(["processing", "shipped", "delivered", "cancelled", "on_hold", "delayed"])
    sent = status in ("shipped", "delivered")
    tracking = "YT" + _token(rng, 10) if sent else None
    order = OrderFacts(
        order_name=f"#{rng.randrange(1001, 9999)}",
        status=status,
        placed_on=placed,
        total=Decimal(rng.randrange(500, 20000)) / 100,
        currency=rng.choice(["USD", "EUR", "GBP", "CHF"]),
        items=tuple(rng.sample(ITEM_NAMES, rng.randrange(0, 3))),
        track_number=tracking,
        carrier=rng.choice(CARRIERS) if sent else None,
        tracking_url=f"https://t.17track.net/en#nums={tracking}" if sent and rng.random() < 0.7 else None,
        shipped_on=placed + timedelta(days=rng.randrange(1, 6)) if sent else None,
        customer_first_name=rng.choice(FIRST_NAMES),
        eta_earliest=placed + timedelta(days=10) if sent and rng.random() < 0.5 else None,
        eta_latest=placed + timedelta(days=20) if sent else None,
    )
    actions: list[ExecutedAction] = []
    if rng.random() < 0.4:
        actions.append(
            ExecutedAction(ActionKind.REFUND, Decimal(rng.randrange(100, 5000)) / 100, order.currency)
        )
    actions += [
        ExecutedAction(kind)
        for kind in (ActionKind.CANCEL, ActionKind.ADDRESS_CHANGE, ActionKind.RESEND_TRACKING)
        if rng.random() < 0.25
    ]
    return ReplyContext(
        order=order if rng.random() < 0.9 else None,
        policy=POLICY,
        executed_actions=tuple(actions),
        language=language,
        locale=rng.choice(LOCALES[language]),
    )


def available_facts(ctx: ReplyContext) -> list[FactName]:
    """The facts the renderer states for this context (it refuses the others)."""
    found = []
    for name in FactName:
        try:
            render_reply(
                StructuredReply(
                    language=ctx.language,
                    parts=[FactPart(kind="fact", fact=name)],
                    escalate=False,
                    confidence=1,
                ),
                ctx,
            )
            found.append(name)
        except ReplyRefused:
            pass
    return found


def random_draft(rng: random.Random, ctx: ReplyContext, facts: list[FactName]) -> StructuredReply:
    examples = language_pack(ctx.language).examples
    parts: list[dict] = []
    if FactName.FIRST_NAME in facts and rng.random() < 0.6:
        parts.append({"kind": "fact", "fact": "first_name"})
    elif rng.random() < 0.7:
        parts.append({"kind": "text", "text": rng.choice(examples["greeting"][:3])})
    middle: list[dict] = [
        {"kind": "text", "text": rng.choice(examples[kind])}
        for kind in rng.sample(["greeting", "empathy", "question"], rng.randrange(0, 3))
    ]
    middle += [
        {"kind": "fact", "fact": name}
        for name in rng.sample(facts, rng.randrange(0, len(facts) + 1))
        if name != FactName.FIRST_NAME
    ]
    middle += [
        {"kind": "policy", "policy": pid} for pid in rng.sample(POLICY.snippet_ids, rng.randrange(0, 3))
    ]
    executed = sorted({action.kind for action in ctx.executed_actions})
    middle += [
        {"kind": "action", "action": kind}
        for kind in rng.sample(executed, rng.randrange(0, len(executed) + 1))
    ]
    rng.shuffle(middle)
    parts += middle or [{"kind": "text", "text": rng.choice(examples["empathy"])}]
    if rng.random() < 0.8:
        parts.append({"kind": "text", "text": rng.choice(examples["closing"])})
    return StructuredReply.model_validate(
        {"language": ctx.language, "parts": parts, "escalate": False, "confidence": 0.8}
    )


def _cases(seed: int, contexts: int, drafts_each: int) -> list[tuple[ReplyContext, str]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(contexts):
        ctx = random_context(rng)
        facts = available_facts(ctx)
        cases += [(ctx, render_reply(random_draft(rng, ctx, facts), ctx)) for _ in range(drafts_each)]
    return cases


def test_every_rendered_draft_passes_the_gate() -> None:
    cases = _cases(seed=20261201, contexts=150, drafts_each=20)
    refused = [
        (ctx.language, text, problems) for ctx, text in cases if (problems := verify_outgoing(text, ctx))
    ]
    assert len(cases) == 3000
    assert refused == []


def _mutations(rng: random.Random, ctx: ReplyContext, text: str) -> list[str]:
    """Unsafe versions of a safe reply: each adds or changes one thing the context does not back."""
    language = ctx.language
    pack = language_pack(language)
    locale = ctx.babel_locale
    order = ctx.order
    found = [with_sentence(text, rng.choice(UNSAFE[language]))]
    foreign = rng.choice([code for code in SUPPORTED_LANGUAGES if code != language])
    found.append(with_sentence(text, rng.choice(UNSAFE[foreign])))
    found.append(with_sentence(text, "<p>" + rng.choice(pack.examples["empathy"]) + "</p>"))
    missing = [kind for kind in ActionKind if not ctx.executed(kind)]
    if missing:
        kind = rng.choice(missing)
        found.append(
            with_sentence(
                text, pack.actions[kind.value].format(amount=render_money(Decimal("9.99"), "USD", locale))
            )
        )
    if order is not None:
        if order.order_name in text:
            found.append(
                text.replace(order.order_name, f"#{int(order.order_name[1:]) + rng.randrange(1, 50)}")
            )
        if order.track_number and order.track_number in text:
            spaced = " ".join(order.track_number[i : i + 3] for i in range(0, len(order.track_number), 3))
            found.append(text.replace(order.track_number, spaced))
            found.append(text.replace(order.track_number, "YT" + _token(rng, 10)))
        other_day = order.placed_on + timedelta(days=rng.randrange(40, 90))
        for rendering in date_renderings(order.placed_on, locale)[:1]:
            if rendering in text:
                found.append(text.replace(rendering, date_renderings(other_day, locale)[0]))
        total = render_money(order.total, order.currency, locale)
        if total in text:
            found.append(text.replace(total, render_money(order.total + 5, order.currency, locale)))
        # A fact the order lacks, typed into the code's own sentence with an invented value.
        invented = {
            "tracking_number": (
                "tracking_number",
                order.track_number,
                {"tracking_number": "YT" + _token(rng, 10)},
            ),
            "tracking_link": (
                "tracking_url",
                order.tracking_url,
                {"tracking_url": "https://t.17track.net/en#nums=X1"},
            ),
            "carrier": ("carrier", order.carrier, {"carrier": rng.choice(CARRIERS)}),
            "shipped_on": (
                "shipped_on",
                order.shipped_on,
                {"shipped_on": date_renderings(order.placed_on + timedelta(days=2), locale)[0]},
            ),
            "items": ("items", order.items, {"items": "Smart Watch"}),
        }
        for template, (_name, held, values) in invented.items():
            if not held:
                found.append(with_sentence(text, pack.facts[template].format(**values)))
        others = [
            s
            for s in ("processing", "shipped", "delivered", "cancelled", "on_hold", "delayed")
            if s != order.status
        ]
        found.append(with_sentence(text, pack.status[rng.choice(others)].format(order_name=order.order_name)))
        if order.eta_latest is None:
            eta = pack.facts["eta_window"].format(
                eta_earliest=date_renderings(order.placed_on + timedelta(days=12), locale)[0],
                eta_latest=date_renderings(order.placed_on + timedelta(days=19), locale)[0],
            )
            found.append(with_sentence(text, eta))
    return found


def test_every_unsafe_mutation_is_refused() -> None:
    rng = random.Random(7)
    mutated = [
        (ctx, m)
        for ctx, text in _cases(seed=99, contexts=40, drafts_each=3)
        for m in _mutations(rng, ctx, text)
    ]
    assert len(mutated) > 1000
    passed = [
        (ctx.language, ctx.order and ctx.order.status, text)
        for ctx, text in mutated
        if not verify_outgoing(text, ctx)
    ]
    assert passed == []
