"""The sandbox LLM of customer service behaves like a real model, and the gate stops its worst.

The intent classifier is right at the configured accuracy and wrong the way real models are; the draft
generator is deterministic per seed and covers every unsafe class of issue 12; the pipeline's gate
(render_reply + verify_outgoing) blocks every unsafe draft of a sample of thousands and few safe ones.
A regression in the gate or in the generator fails here.
"""

import json
import random
from collections import Counter
from pathlib import Path

import openai
import pytest

from dropship_pipelines.resources.llm import strict_schema
from dropship_pipelines.rules.reply_draft import StructuredReply, structured_reply_response_format
from dropship_pipelines.rules.reply_render import ReplyRefused, render_reply
from dropship_pipelines.rules.reply_validation import context_from_payload, verify_outgoing
from dropship_pipelines.rules.store_policy import default_store_policy
from dropship_pipelines.rules.support_prompts import IntentAnswer
from dropship_sandbox import credentials, llm
from dropship_sandbox.app import OPENAI_PREFIX
from dropship_sandbox.llm import drafts, intents
from dropship_sandbox.llm.support import DRAFT_KIND, classify_intent
from dropship_sandbox.support_messages import (
    TEMPLATES,
    TOPIC_INTENTS,
    add_incoming,
    customer_for,
    message_text,
)
from dropship_sandbox.world import World, WorldSettings
from dropship_testkit.sandbox_server import RunningSandbox

INTENT_SCHEMA = strict_schema(IntentAnswer)


def _write_messages(world: World, count: int) -> list[tuple[str, str]]:
    """`count` customers write (distinct texts); (text, true intent) of each."""
    rng = random.Random(5)
    written = []
    with world.lock, world.state:
        customer = customer_for(world, "c@example.com", "Cleo", "Doe")
        for n in range(count):
            topic = rng.choice(list(TEMPLATES))
            lang = rng.choice(list(TEMPLATES[topic]))
            body = rng.choice(TEMPLATES[topic][lang]).format(order=f"#{10000 + n}")
            add_incoming(
                world,
                customer=customer,
                subject="Order",
                body=body,
                at=world.now(),
                sim={"order": f"#{10000 + n}", "topic": topic, "lang": lang},
            )
            written.append((body, TOPIC_INTENTS[topic]))
    return written


def _classify(world: World, text: str, schema: dict | None = None) -> dict:
    facts = {"message": text, "subject": "Order"}
    with world.lock, world.state:
        return classify_intent(llm.Ask(world, "support_intent", schema, json.dumps(facts), facts, "good"))


def test_classifier_is_right_at_its_accuracy_and_confuses_like_a_model(tmp_path: Path) -> None:
    world = World(tmp_path / "world.db", WorldSettings(seed=11))
    written = _write_messages(world, 2000)
    answers = [_classify(world, text)["intent"] for text, _ in written]
    correct = sum(answer == truth for answer, (_, truth) in zip(answers, written, strict=True))
    assert 0.87 <= correct / len(written) <= 0.93, correct / len(written)

    confusions = Counter((truth, answer) for answer, (_, truth) in zip(answers, written, strict=True))
    for (truth, answer), _ in confusions.items():
        assert answer == truth or answer in intents.CONFUSIONS[truth], (truth, answer)
    # The mass sits on the mix-ups real models make.
    assert confusions[("where_is_order", "shipping_time")] > confusions[("where_is_order", "other")]
    assert confusions[("refund", "return_policy")] + confusions[("refund", "cancel")] > 0
    # Deterministic per (seed, message): asked again, the same answers.
    assert [_classify(world, text)["intent"] for text, _ in written[:200]] == answers[:200]
    world.state.close()


def test_classifier_fits_the_schema_and_reads_unknown_texts_plainly(tmp_path: Path) -> None:
    world = World(tmp_path / "world.db", WorldSettings(seed=3))
    written = _write_messages(world, 300)
    allowed = set(INTENT_SCHEMA["properties"]["intent"]["enum"])
    assert {_classify(world, text, INTENT_SCHEMA)["intent"] for text, _ in written} <= allowed
    own = "Hello, where is my parcel? It still has not arrived."
    assert _classify(world, own)["intent"] == "where_is_order"
    assert _classify(world, "Please cancel my order, thanks")["intent"] == "cancel"
    world.state.close()


def test_accuracy_is_a_world_setting(sandbox: RunningSandbox) -> None:
    written = _write_messages(sandbox.world, 60)
    client = openai.OpenAI(
        api_key=credentials.OPENAI_API_KEY, base_url=sandbox.url + OPENAI_PREFIX + "/v1", max_retries=0
    )

    def ask(text: str) -> str:
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "user", "content": "Classify ```json\n" + json.dumps({"message": text}) + "\n```"}
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "support_intent", "strict": True, "schema": INTENT_SCHEMA},
            },
        )
        return json.loads(completion.choices[0].message.content)["intent"]

    assert sandbox.control("POST", "/llm", {"intent_accuracy": 1.0})["intent_accuracy"] == 1.0
    assert all(
        ask(text) == intents.fit_to_schema(truth, tuple(INTENT_SCHEMA["properties"]["intent"]["enum"]))
        for text, truth in written[:30]
    )
    sandbox.control("POST", "/llm", {"intent_accuracy": 0.0})
    fitted = tuple(INTENT_SCHEMA["properties"]["intent"]["enum"])
    wrong = [ask(text) != intents.fit_to_schema(truth, fitted) for text, truth in written[30:]]
    assert sum(wrong) >= len(wrong) * 0.6  # some confusions land on the same label once fitted
    audit = sandbox.audit()["llm_intents"]
    assert audit["correct"] >= 30


# --- drafts ----------------------------------------------------------------------------------------------
# The store's orders the customers write about: a few dozen contexts, as in a day of a real inbox.
ORDERS = drafts.sample_orders(random.Random(77), 60)


def _situation(rng: random.Random) -> drafts.Situation:
    return drafts.sample_situation(rng, message_text, ORDERS)


def test_drafts_are_deterministic_per_seed_and_many() -> None:
    def sample(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [
            json.dumps(drafts.unsafe_draft(_situation(rng), rng).reply, sort_keys=True) for _ in range(300)
        ]

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)
    rng = random.Random(9)
    made = {json.dumps(drafts.draft(_situation(rng), rng, 0.5).reply, sort_keys=True) for _ in range(3000)}
    assert len(made) >= 2900


def test_the_generator_covers_every_unsafe_class() -> None:
    rng = random.Random(4)
    seen = Counter(cls for _ in range(3000) for cls in drafts.unsafe_draft(_situation(rng), rng).unsafe)
    assert set(seen) == set(drafts.UNSAFE_CLASSES), set(drafts.UNSAFE_CLASSES) - set(seen)
    assert min(seen.values()) >= 100, seen


def _gate(situation: drafts.Situation, draft: drafts.Draft) -> tuple[list[str], str]:
    """What the pipeline's gate says of a draft: the renderer's refusal or verify_outgoing's reasons."""
    _, context = context_from_payload(drafts.gate_payload(situation, ""))
    try:
        text = render_reply(StructuredReply.model_validate(draft.reply), context)
    except ReplyRefused as refused:
        return [f"refused: {refused}"], ""
    return verify_outgoing(text, context), text


def _leaks(rng: random.Random, count: int, classes: tuple[str, ...]) -> list[str]:
    leaked = []
    for _ in range(count):
        situation = _situation(rng)
        draft = drafts.unsafe_draft(situation, rng, among=classes)
        problems, text = _gate(situation, draft)
        if not problems:
            leaked.append(
                f"{draft.unsafe} {draft.evidence}\n  draft: {draft.reply}\n  "
                f"context: {drafts.gate_payload(situation, '')}\n  text: {text!r}"
            )
    return leaked


def test_the_gate_blocks_every_unsafe_draft_and_few_safe_ones() -> None:
    rng = random.Random(2026)
    assert set(drafts.POLICY_IDS) == set(default_store_policy().snippet_ids)
    leaked = _leaks(rng, 2000, tuple(drafts.UNSAFE_CLASSES))
    assert not leaked, "\n".join(leaked[:5])

    blocked = []
    for _ in range(400):
        situation = _situation(rng)
        problems, text = _gate(situation, drafts.good_draft(situation, rng))
        if problems:
            blocked.append(f"{problems}: {text!r}")
    assert len(blocked) <= 0.05 * 400, "\n".join(blocked[:5])


# --- over HTTP -------------------------------------------------------------------------------------------
def test_structured_reply_over_http_keeps_its_ground_truth_to_itself(sandbox: RunningSandbox) -> None:
    client = openai.OpenAI(
        api_key=credentials.OPENAI_API_KEY, base_url=sandbox.url + OPENAI_PREFIX + "/v1", max_retries=0
    )
    sandbox.control("POST", "/llm", {"unsafe_rate": 1.0, "retry_repeat_rate": 1.0})
    situation = _situation(random.Random(1))
    facts = {
        "message": situation.message,
        "language": situation.language,
        "intent": situation.intent,
        "order": situation.order,
        "executed_actions": list(situation.executed_actions),
    }
    prompt = "Draft the reply.\n```json\n" + json.dumps(facts) + "\n```"
    response_format = structured_reply_response_format(default_store_policy().snippet_ids)

    def ask(content: str, **extra: object) -> openai.types.chat.ChatCompletion:
        return client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "You draft replies."},
                {"role": "user", "content": content},
            ],
            response_format=response_format,
            **extra,
        )

    first = ask(prompt)
    draft = StructuredReply.model_validate_json(first.choices[0].message.content)
    assert "unsafe" not in first.choices[0].message.content
    assert abs(first.usage.prompt_tokens - (len(prompt) + 17) / 4) < 20
    assert first.usage.completion_tokens == len(first.choices[0].message.content) // 4
    retry = ask(prompt + "\nYour previous draft was rejected: date or time. Fix it.")
    records = sorted(sandbox.world.state.all(DRAFT_KIND), key=lambda r: len(r["unsafe"]))
    assert records[0]["unsafe"] and records[-1]["unsafe"][0] == "ignore_feedback"
    assert retry.choices[0].message.content
    assert draft.language == situation.language
    cut = ask(prompt, max_tokens=5)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 5
    with pytest.raises(openai.BadRequestError, match="context length"):
        ask("x" * 600_000)


def test_the_gate_blocks_claims_in_everyday_words() -> None:
    """The class the vocabulary alone let through ('Yes, we can do that for you.', 'It is with you.'): a
    sentence of free text is a question or a greeting, thanks, apology or closing, never an answer."""
    assert not _leaks(random.Random(8), 400, ("plain_words_claim",))
