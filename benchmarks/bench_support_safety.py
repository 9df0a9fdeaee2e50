"""Benchmark customer-service safety: no unsafe reply sent, few safe ones blocked, most messages answered.

    uv run python -m benchmarks.bench_support_safety [--drafts 5000] [--safe 1000] [--messages 240]
                                                     [--unsafe-rate 0.1] [--seed 7] [--json PATH]

1. The gate, over adversarial drafts (directly from the sandbox model's generator module,
   dropship_sandbox.llm.drafts, no HTTP: the same drafts its OpenAI-compatible endpoint answers). Each
   of `--drafts` unsafe drafts (every class of issue 12, drawn from seeded parts) for a sampled customer
   situation (one of `--orders` store orders, a message in one of seven languages, the actions executed)
   is rendered by `render_reply` and checked by `verify_outgoing`, as the workflow does before it sends.
   Blocked = the renderer refused it or the gate named a reason; sent = neither (must be 0). Then
   `--safe` good drafts: the share wrongly blocked.
2. The workflow, end to end, over ordinary messages (where is my order, shipping time, return policy,
   thanks, product questions, cancellation before shipping) when services/support.py drafts
   StructuredReply: a sandbox in this process (real HTTP, its helpdesk and OpenAI-compatible endpoint, the
   classifier at 0.9 accuracy, `--unsafe-rate` of drafts unsafe), `--messages` customers writing about
   seeded orders, `customer_service_job` run in process. The ledger gives the auto-answer rate, the
   escalation reasons and the tokens of each message as the endpoint reported them (cost at gpt-4o-mini
   prices); the sandbox's own audit says which drafts were unsafe, so a sent unsafe reply is counted.
   When the service does not draft StructuredReply yet, the same messages go through the classifier,
   the policy's routing, the generator, `render_reply` and the gate instead (the output says so), with
   tokens counted by the sandbox's rule (characters / 4) on the pipeline's prompts.
"""

import argparse
import json
import os
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from dropship_pipelines.rules.reply_draft import StructuredReply
from dropship_pipelines.rules.reply_render import ReplyRefused, render_reply
from dropship_pipelines.rules.reply_validation import context_from_payload, verify_outgoing
from dropship_pipelines.rules.support_policy import SupportPolicy
from dropship_sandbox.llm import drafts, intents
from dropship_sandbox.llm.support import DRAFT_KIND
from dropship_sandbox.support_messages import (
    DAILY_RATE_META,
    SUBJECTS,
    TOPIC_INTENTS,
    add_incoming,
    customer_for,
    message_text,
)
from dropship_sandbox.world import API_NAMES, ApiFaults, WorldSettings
from dropship_testkit.bench import Figure, add_json_option, figures_table, percentile, report_figures
from dropship_testkit.ledger_seed import seed_support_orders
from dropship_testkit.sandbox_server import running_sandbox

MODEL = "gpt-4o-mini"
INPUT_USD_PER_M = 0.15  # OpenAI list prices for gpt-4o-mini, USD per 1M tokens
OUTPUT_USD_PER_M = 0.60
ORDINARY = ("where_is_order", "shipping_time", "return_policy", "thanks", "product_question", "cancel")
ORDINARY_WEIGHTS = (40, 15, 12, 10, 13, 10)
LANGUAGE_WEIGHTS = (("en", 55), ("es", 10), ("de", 10), ("fr", 9), ("it", 6), ("nl", 5), ("pt", 5))
# Dagster's console logger prints every step event at DEBUG; the figures would drown in it.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
SERVICE = Path(__file__).resolve().parent.parent / "dropship_pipelines" / "services" / "support.py"


def _gate(situation: drafts.Situation, draft: drafts.Draft) -> tuple[list[str], str]:
    """The renderer's refusal or verify_outgoing's reasons; [] when the text would be sent."""
    _, context = context_from_payload(drafts.gate_payload(situation, ""))
    try:
        text = render_reply(StructuredReply.model_validate(draft.reply), context)
    except ReplyRefused as refused:
        return [f"renderer refused: {refused.reason.value}"], ""
    return verify_outgoing(text, context), text


def _kind(problem: str) -> str:
    """A reason's kind: "date or time: 'next Friday'" -> "date or time"."""
    return problem.split(":", 1)[0].split(" (")[0]


@dataclass
class GateRun:
    unsafe: int = 0
    blocked: int = 0
    leaked: list[str] = field(default_factory=list)
    by_class: Counter[str] = field(default_factory=Counter)
    blocked_by_class: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    safe: int = 0
    safe_blocked: int = 0
    safe_reasons: Counter[str] = field(default_factory=Counter)
    safe_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0


def gate_run(count: int, safe: int, orders: int, seed: int) -> GateRun:
    rng = random.Random(seed)
    pool = drafts.sample_orders(rng, orders)
    run = GateRun()
    started = time.perf_counter()
    for _ in range(count):
        situation = drafts.sample_situation(rng, message_text, pool)
        draft = drafts.unsafe_draft(situation, rng)
        problems, text = _gate(situation, draft)
        run.unsafe += 1
        run.by_class.update(draft.unsafe)
        if problems:
            run.blocked += 1
            run.blocked_by_class.update(draft.unsafe)
            run.reasons.update({_kind(p) for p in problems})
        else:
            run.leaked.append(
                f"{draft.unsafe} {draft.evidence}\n  draft: {json.dumps(draft.reply, ensure_ascii=False)}\n"
                f"  context: {json.dumps(drafts.gate_payload(situation, ''), ensure_ascii=False)}\n"
                f"  text: {text!r}"
            )
    for _ in range(safe):
        situation = drafts.sample_situation(rng, message_text, pool)
        problems, text = _gate(situation, drafts.good_draft(situation, rng))
        run.safe += 1
        if problems:
            run.safe_blocked += 1
            run.safe_reasons.update({_kind(p) for p in problems})
            run.safe_examples.append(f"{problems}: {text!r}")
    run.seconds = time.perf_counter() - started
    return run


@dataclass
class Answering:
    path: str  # how the auto-answer rate was measured
    messages: int = 0
    sent: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    tokens: list[int] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    unsafe_drafts: int = 0
    unsafe_sent: int = 0
    seconds: float = 0.0


def _pick(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options], k=1)[0]


def _ordinary_topic(rng: random.Random, state: str) -> str:
    intent = rng.choices(ORDINARY, weights=ORDINARY_WEIGHTS, k=1)[0]
    if intent == "cancel" and state != "new":  # cancellation before shipping only
        intent = "where_is_order"
    return next(topic for topic, value in TOPIC_INTENTS.items() if value == intent)


def end_to_end(messages: int, unsafe_rate: float, seed: int) -> Answering:
    """The support workflow against a running sandbox, over ordinary messages."""
    answering = Answering("end to end: support workflow (customer_service_job) against a running sandbox")
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-support-safety-") as tmp_dir:
        tmp = Path(tmp_dir)
        faults = {name: ApiFaults() for name in API_NAMES}
        faults["helpdesk"] = ApiFaults(rate_limits=False)
        with (
            running_sandbox(tmp / "world.db", WorldSettings(seed=seed, faults=faults)) as sandbox,
            dg.DagsterInstance.ephemeral() as instance,
        ):
            store_url = f"sqlite:///{tmp}/store.db"
            os.environ.update(sandbox.env(store_url, tmp / "tokens"))
            os.environ["HELPDESK_REQUESTS_PER_SECOND"] = "0"
            os.environ["OPENAI_MODEL"] = MODEL
            from dropship_pipelines.assets.support.defs import support_defs
            from dropship_pipelines.resources.catalog import build_resources

            world = sandbox.world
            with world.lock, world.state:
                world.state.set_meta(DAILY_RATE_META, "0")  # only our customers write
            sandbox.control("POST", "/llm", {"intent_accuracy": 0.9, "unsafe_rate": unsafe_rate})
            orders = seed_support_orders(store_url, world, messages)
            with world.lock, world.state:
                for order in orders:
                    topic, lang = _ordinary_topic(rng, order.state), _pick(rng, LANGUAGE_WEIGHTS)
                    first = order.email.split("@")[0].capitalize()
                    add_incoming(
                        world,
                        customer=customer_for(world, order.email, first, "Doe"),
                        subject=SUBJECTS[lang].format(order=order.name),
                        body=message_text(TOPIC_INTENTS[topic], lang, order.name, rng),
                        at=world.now(),
                        sim={"order": order.name, "topic": topic, "lang": lang},
                    )
            defs = dg.Definitions.merge(support_defs, dg.Definitions(resources=build_resources()))
            job = defs.resolve_job_def("customer_service_job")
            started = time.perf_counter()
            for _ in range(3):  # the job answers what it read; a second pass picks up any stragglers
                result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET)
                if not result.success:
                    raise RuntimeError("customer_service_job failed")
                if len(_ledger(store_url)) >= messages:
                    break
            answering.seconds = time.perf_counter() - started
            rows = _ledger(store_url)
            with world.lock, world.state:
                records = world.state.all(DRAFT_KIND)
    unsafe_replies = {json.dumps(r["reply"]["parts"], sort_keys=True) for r in records if r["unsafe"]}
    answering.unsafe_drafts = sum(1 for r in records if r["unsafe"])
    for row in rows:
        answering.messages += 1
        tokens = int(row["prompt_tokens"] or 0) + int(row["completion_tokens"] or 0)
        answering.tokens.append(tokens)
        answering.prompt_tokens += int(row["prompt_tokens"] or 0)
        answering.completion_tokens += int(row["completion_tokens"] or 0)
        if row["state"] == "sent":
            answering.sent += 1
            parts = (row.get("draft") or {}).get("parts")
            if parts is not None and json.dumps(parts, sort_keys=True) in unsafe_replies:
                answering.unsafe_sent += 1
        else:
            answering.reasons[str(row["reason"] or row["state"]).split(":")[0]] += 1
    return answering


def _ledger(store_url: str) -> list[dict[str, Any]]:
    from dropship_pipelines.store.database import get_engine
    from dropship_pipelines.store.support_tables import support_replies

    with get_engine(store_url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(support_replies))]


def without_workflow(messages: int, unsafe_rate: float, seed: int) -> Answering:
    """The same ordinary messages through classifier, routing, generator, renderer and gate."""
    answering = Answering(
        "classifier + routing + render + gate (services/support.py does not draft StructuredReply yet)"
    )
    rng = random.Random(seed)
    policy = SupportPolicy()
    pool = drafts.sample_orders(rng, 60)
    started = time.perf_counter()
    for n in range(messages):
        order = dict(rng.choice(pool))
        intent = rng.choices(ORDINARY, weights=ORDINARY_WEIGHTS, k=1)[0]
        if intent == "cancel" and order["status"] != "processing":
            intent = "where_is_order"
        language = _pick(rng, LANGUAGE_WEIGHTS)
        message = message_text(intent, language, order["name"], rng) + f" ({n})"
        answered, confidence, _ = intents.classify(seed, intents.fingerprint(message), intent, 0.9)
        tokens = (len(message) + 600) // 4 + 25  # the intent prompt and its answer, as the sandbox counts
        if confidence < policy.min_confidence or not policy.auto_answers(answered):
            answering.messages += 1
            answering.reasons["low_confidence" if confidence < policy.min_confidence else "policy_topic"] += 1
            answering.tokens.append(tokens)
            continue
        actions = ({"kind": "cancel"},) if answered == "cancel" and order["status"] == "processing" else ()
        situation = drafts.Situation(language, answered, message, order, actions)
        sent = False
        previous: drafts.Draft | None = None
        for attempt in range(policy.max_drafts):
            if previous is not None and previous.unsafe and rng.random() < 0.5:
                made = drafts.retry_ignoring_feedback(previous, situation, rng)
            else:
                made = drafts.draft(situation, rng, unsafe_rate)
            reply_json = json.dumps(made.reply)
            tokens += (len(json.dumps(drafts.gate_payload(situation, message))) + 1400) // 4 + len(
                reply_json
            ) // 4
            answering.unsafe_drafts += bool(made.unsafe)
            problems, _ = _gate(situation, made)
            if not problems and not made.reply["escalate"]:
                sent = True
                answering.unsafe_sent += bool(made.unsafe)
                break
            if made.reply["escalate"]:
                answering.reasons["model_unsure"] += 1
                break
            previous = made
            if attempt == policy.max_drafts - 1:
                answering.reasons["gate_refused"] += 1
        answering.messages += 1
        answering.sent += sent
        answering.tokens.append(tokens)
    answering.seconds = time.perf_counter() - started
    return answering


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--drafts", type=int, default=5000, help="adversarial drafts through the gate")
    parser.add_argument("--safe", type=int, default=1000, help="good drafts through the gate")
    parser.add_argument(
        "--orders", type=int, default=40, help="store orders the sampled customers write about"
    )
    parser.add_argument("--messages", type=int, default=240, help="ordinary messages through the workflow")
    parser.add_argument("--unsafe-rate", type=float, default=0.1, help="share of unsafe drafts end to end")
    parser.add_argument("--seed", type=int, default=7)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()

    console.print(f"[bold]gate: {args.drafts} unsafe + {args.safe} safe drafts (generator module, no HTTP)")
    gate = gate_run(args.drafts, args.safe, args.orders, args.seed)
    for leak in gate.leaked[:5]:
        console.print(f"[red]SENT[/red] {leak}", soft_wrap=True)
    if len(gate.leaked) > 5:
        console.print(f"[red]... and {len(gate.leaked) - 5} more unsafe drafts the gate let through")

    uses_structured = "StructuredReply" in SERVICE.read_text(encoding="utf-8")
    answering: Answering | None = None
    if uses_structured:
        console.print(f"[bold]workflow: {args.messages} ordinary messages end to end against a sandbox")
        try:
            answering = end_to_end(args.messages, args.unsafe_rate, args.seed)
        except Exception as error:  # the service may be mid-change; say so and measure without it
            console.print(
                f"[yellow]end-to-end run failed ({type(error).__name__}: {error}); measuring without"
            )
    if answering is None:
        answering = without_workflow(args.messages, args.unsafe_rate, args.seed)

    table = Table(title="adversarial drafts by class (generated / blocked)", title_justify="left")
    table.add_column("class")
    table.add_column("generated", justify="right")
    table.add_column("blocked", justify="right")
    for cls, n in sorted(gate.by_class.items()):
        table.add_row(cls, str(n), str(gate.blocked_by_class[cls]))
    console.print(table)
    console.print(
        figures_table(
            "gate reasons (drafts naming each)", [(k, str(n)) for k, n in gate.reasons.most_common(12)]
        )
    )
    if gate.safe_reasons:
        console.print(
            figures_table(
                "safe drafts: why blocked", [(k, str(n)) for k, n in gate.safe_reasons.most_common(8)]
            )
        )
        for example in gate.safe_examples[:3]:
            console.print(f"[yellow]safe draft blocked[/yellow] {example}", soft_wrap=True)
    cost_per_message = (
        (answering.prompt_tokens * INPUT_USD_PER_M + answering.completion_tokens * OUTPUT_USD_PER_M)
        / 1e6
        / max(1, answering.messages)
    )
    if not answering.prompt_tokens:  # the fallback counts tokens in total only (as input)
        cost_per_message = sum(answering.tokens) * INPUT_USD_PER_M / 1e6 / max(1, answering.messages)
    auto_rate = answering.sent / max(1, answering.messages)
    console.print(
        figures_table(
            f"ordinary messages: {answering.path}",
            [
                ("messages", str(answering.messages)),
                ("answered automatically", f"{answering.sent} ({auto_rate:.1%})"),
                ("classifier accuracy", "0.9"),
                (
                    "unsafe drafts the model produced / sent",
                    f"{answering.unsafe_drafts} / {answering.unsafe_sent}",
                ),
                *((f"escalated: {k}", str(n)) for k, n in answering.reasons.most_common()),
                ("tokens per message p50 / p95 / max", _tokens_line(answering.tokens)),
                ("cost per 1,000 messages (gpt-4o-mini)", f"${cost_per_message * 1000:.3f}"),
                ("seconds", f"{answering.seconds:.1f}"),
            ],
        )
    )
    console.print(
        figures_table(
            "gate",
            [
                ("unsafe drafts generated", str(gate.unsafe)),
                ("blocked", str(gate.blocked)),
                ("sent", str(len(gate.leaked))),
                ("safe drafts wrongly blocked", f"{gate.safe_blocked} of {gate.safe}"),
                ("seconds", f"{gate.seconds:.1f}"),
            ],
        )
    )
    p95 = percentile(answering.tokens, 0.95)
    bound_in, bound_out = token_bound(SupportPolicy())
    figures = [
        Figure(
            "unsafe drafts sent", len(gate.leaked) + answering.unsafe_sent, "drafts", 0, "baseline", 0, False
        ),
        Figure(
            "unsafe drafts blocked", gate.blocked / max(1, gate.unsafe), "share", 1.0, "ceiling", 1.0, True
        ),
        Figure(
            "safe replies wrongly blocked",
            gate.safe_blocked / max(1, gate.safe),
            "share",
            0.0,
            "baseline",
            0.05,
            False,
        ),
        Figure("auto-answer rate, ordinary messages", auto_rate, "share", 1.0, "ceiling", 0.8, True),
        Figure(
            "tokens per message p95",
            p95,
            "tokens",
            bound_in + bound_out,
            "ceiling",
            bound_in + bound_out,
            False,
        ),
        Figure(
            "cost per 1,000 messages (gpt-4o-mini)",
            cost_per_message * 1000,
            "USD",
            bound_cost := (bound_in * INPUT_USD_PER_M + bound_out * OUTPUT_USD_PER_M) / 1000,
            "ceiling",
            bound_cost,
            False,
        ),
    ]
    report_figures(console, figures, args.json)


# What the prompts add to the customer's words: system prompt, facts block, policy texts, examples.
PROMPT_OVERHEAD_CHARS = 6000


def token_bound(policy: SupportPolicy) -> tuple[int, int]:
    """The most one message can cost under the policy's caps: (prompt, completion) tokens of one
    classification and `max_drafts` drafts, the body cut at max_body_chars (4 characters a token)."""
    prompt_per_call = (policy.max_body_chars + PROMPT_OVERHEAD_CHARS) // 4
    prompt = prompt_per_call * (1 + policy.max_drafts)
    return prompt, policy.max_intent_tokens + policy.max_drafts * policy.max_reply_tokens


def _tokens_line(tokens: list[int]) -> str:
    if not tokens:
        return "-"
    return f"{percentile(tokens, 0.5):.0f} / {percentile(tokens, 0.95):.0f} / {max(tokens)}"


if __name__ == "__main__":
    main()
