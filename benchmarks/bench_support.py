"""Benchmark the customer-service workflow on the sandbox, on the sensor path a deployment runs.

    python benchmarks/bench_support.py [--messages 500] [--arrive-over 120] [--sensor-interval 2]
                                       [--helpdesk-rps 0] [--timeout 1800] [--seed 7] [--json PATH]

A sandbox (real HTTP on loopback, its OpenAI-compatible endpoint, its helpdesk) gets one order per message
in the store database; then `--messages` customers write, spread evenly over `--arrive-over` seconds of
real time (the sandbox clock runs at real speed, so its `created_datetime` is comparable to the reply's).
The loop evaluates the real `new_customer_messages` sensor with `dg.build_sensor_context`, like the daemon
every `--sensor-interval` seconds (production: 30 s), and runs `customer_service_job` in process for each
new RunRequest (run keys de-duplicated as the daemon does).

Prints replies per minute (sent replies / seconds from the first message to the last one handled), LLM
tokens and cost per reply (token usage as the sandbox endpoint reports it, priced at the constants below),
the share answered automatically vs escalated, and the p95 time from a message's `created_datetime` to
our reply's `created_datetime` on the helpdesk (and to its ledger record for escalations).

`--helpdesk-rps 0` (the default) measures our own pipeline: the helpdesk client does not pace itself and
the sandbox's rate limits are off. Gorgias allows 2 calls/s per API key; `--helpdesk-rps 2` with
`--rate-limits` measures against that ceiling instead.
"""

import argparse
import math
import os
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.support_tables import support_replies
from dropship_sandbox.support_messages import (
    DAILY_RATE_META,
    LANGUAGES,
    SUBJECTS,
    TEMPLATES,
    TOPICS,
    add_incoming,
    customer_for,
)
from dropship_sandbox.world import API_NAMES, ApiFaults, World, WorldSettings
from dropship_testkit.bench import Figure, add_json_option, percentile, report_figures
from dropship_testkit.ledger_seed import SeededOrder, seed_support_orders
from dropship_testkit.sandbox_server import running_sandbox
from dropship_testkit.sandbox_world import outgoing

MODEL = "gpt-4o-mini"
# A reply within the same 10 s the new-order path must meet: the sensor tick plus one short run.
GOAL_P95_REPLY_S = 10.0
# OpenAI list prices for gpt-4o-mini, USD per 1M tokens (the LlmResource default model).
INPUT_USD_PER_M = 0.15
OUTPUT_USD_PER_M = 0.60
FINAL_STATES = ("sent", "escalated")


@dataclass(frozen=True)
class Arrival:
    ticket_id: int
    message_id: int
    created_at: datetime


def _choice(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options], k=1)[0]


def _feed(world: World, orders: list[SeededOrder], over_s: float, seed: int, arrivals: list[Arrival]) -> None:
    """Customers write, one per order, evenly spread over `over_s` seconds, with the sandbox's topic mix."""
    rng = random.Random(seed)
    start = time.monotonic()
    for i, order in enumerate(orders):
        due = start + over_s * i / max(1, len(orders))
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        topic, lang = _choice(rng, TOPICS), _choice(rng, LANGUAGES)
        templates = TEMPLATES[topic].get(lang) or TEMPLATES[topic]["en"]
        with world.lock, world.state:
            first = order.email.split("@")[0]
            customer = customer_for(world, order.email, first.capitalize(), "Doe")
            ticket, message = add_incoming(
                world,
                customer=customer,
                subject=SUBJECTS[lang].format(order=order.name),
                body=templates[rng.randrange(len(templates))].format(order=order.name),
                at=world.now(),
                sim={"order": order.name, "topic": topic, "lang": lang},
            )
        arrivals.append(
            Arrival(ticket["id"], message["id"], datetime.fromisoformat(message["created_datetime"]))
        )


def _ledger(store_url: str) -> list[dict[str, Any]]:
    with get_engine(store_url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(support_replies))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--arrive-over", type=float, default=120.0, help="seconds over which messages arrive")
    parser.add_argument("--sensor-interval", type=float, default=2.0, help="seconds between sensor ticks")
    parser.add_argument("--helpdesk-rps", type=float, default=0.0, help="client pacing; 0 = none")
    parser.add_argument("--rate-limits", action="store_true", help="switch on the sandbox helpdesk limits")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--seed", type=int, default=7)
    add_json_option(parser)
    args = parser.parse_args()
    console = Console()

    with tempfile.TemporaryDirectory(prefix="bench-support-") as tmp_dir:
        tmp = Path(tmp_dir)
        faults = {name: ApiFaults() for name in API_NAMES}
        faults["helpdesk"] = ApiFaults(rate_limits=args.rate_limits)
        with (
            running_sandbox(tmp / "world.db", WorldSettings(faults=faults)) as sandbox,
            dg.DagsterInstance.ephemeral() as instance,
        ):
            store_url = f"sqlite:///{tmp}/store.db"
            os.environ.update(sandbox.env(store_url, tmp / "tokens"))
            os.environ["HELPDESK_REQUESTS_PER_SECOND"] = str(args.helpdesk_rps)
            os.environ["OPENAI_MODEL"] = MODEL
            # Imported after the environment points at the sandbox: the catalog reads it when built.
            from dropship_pipelines.assets.support.defs import support_defs
            from dropship_pipelines.resources.catalog import build_resources

            world = sandbox.world
            with world.lock, world.state:
                world.state.set_meta(DAILY_RATE_META, "0")  # only our customers write
            orders = seed_support_orders(store_url, world, args.messages)
            resources = build_resources()
            defs = dg.Definitions.merge(support_defs, dg.Definitions(resources=resources))
            job = defs.resolve_job_def("customer_service_job")
            sensor = defs.resolve_sensor_def("new_customer_messages")

            arrivals: list[Arrival] = []
            feeder = threading.Thread(
                target=_feed, args=(world, orders, args.arrive_over, args.seed, arrivals), daemon=True
            )
            console.print(
                f"[bold]{args.messages} messages over {args.arrive_over:.0f}s; sensor every "
                f"{args.sensor_interval}s; helpdesk pacing {args.helpdesk_rps or 'off'}; "
                f"sandbox rate limits {'on' if args.rate_limits else 'off'}[/bold]"
            )
            started = time.monotonic()
            feeder.start()
            cursor: str | None = None
            launched: set[str] = set()
            runs = failed_runs = 0
            run_seconds: list[float] = []
            handled = 0
            while time.monotonic() - started < args.timeout:
                tick_at = time.monotonic()
                with dg.build_sensor_context(
                    instance=instance, cursor=cursor, resources={"helpdesk": resources["helpdesk"]}
                ) as context:
                    tick = sensor.evaluate_tick(context)
                cursor = tick.cursor or cursor
                for request in tick.run_requests or []:
                    if request.run_key in launched:
                        continue
                    launched.add(request.run_key or "")
                    run_started = time.monotonic()
                    result = job.execute_in_process(
                        instance=instance, raise_on_error=False, tags=request.tags
                    )
                    run_seconds.append(time.monotonic() - run_started)
                    runs += 1
                    failed_runs += int(not result.success)
                handled = sum(r["state"] in FINAL_STATES for r in _ledger(store_url))
                console.print(
                    f"  t={time.monotonic() - started:6.1f}s arrived={len(arrivals):4d} handled={handled:4d} "
                    f"runs={runs}",
                    highlight=False,
                )
                if not feeder.is_alive() and handled >= len(arrivals):
                    break
                time.sleep(max(0.0, args.sensor_interval - (time.monotonic() - tick_at)))
            elapsed = time.monotonic() - started

            rows = _ledger(store_url)
            offset = world.now() - datetime.now(UTC)  # sim clock minus real clock (speed 1)
            replies = {m["external_id"]: m for m in outgoing(world)}
            by_message = {r["message_id"]: r for r in rows}
            to_reply: list[float] = []
            to_handled: list[float] = []
            for arrival in arrivals:
                row = by_message.get(str(arrival.message_id))
                if row is None or row["state"] not in FINAL_STATES:
                    continue
                reply = replies.get(row["reply_key"])
                if reply is not None:
                    delay = (
                        datetime.fromisoformat(reply["created_datetime"]) - arrival.created_at
                    ).total_seconds()
                    to_reply.append(delay)
                    to_handled.append(delay)
                elif row["answered_at"] is not None:
                    answered = row["answered_at"].replace(tzinfo=UTC) + offset
                    to_handled.append((answered - arrival.created_at).total_seconds())

    sent = [r for r in rows if r["state"] == "sent"]
    escalated = [r for r in rows if r["state"] == "escalated"]
    final = len(sent) + len(escalated)
    prompt = sum(r["prompt_tokens"] for r in rows)
    completion = sum(r["completion_tokens"] for r in rows)
    cost = (prompt * INPUT_USD_PER_M + completion * OUTPUT_USD_PER_M) / 1e6
    reasons: dict[str, int] = {}
    for r in escalated:
        key = (r["reason"] or "").split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1

    table = Table(title=f"customer service, sensor path ({len(arrivals)} messages)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("wall time, first message to last handled", f"{elapsed:.1f} s")
    table.add_row("runs (failed)", f"{runs} ({failed_runs})")
    table.add_row(
        "run time median / max",
        f"{statistics.median(run_seconds or [0]):.1f} / {max(run_seconds or [0]):.1f} s",
    )
    table.add_row("handled (sent + escalated) / arrived", f"{final} / {len(arrivals)}")
    table.add_row("replies per minute (sent)", f"{len(sent) / elapsed * 60:.1f}")
    table.add_row("messages handled per minute", f"{final / elapsed * 60:.1f}")
    table.add_row("auto-answered share", f"{len(sent) / final:.1%}" if final else "-")
    table.add_row("escalated share", f"{len(escalated) / final:.1%}" if final else "-")
    table.add_row(
        "LLM tokens per sent reply (all spend / sent; in / out)",
        f"{prompt / max(1, len(sent)):.0f} / {completion / max(1, len(sent)):.0f}",
    )
    table.add_row(
        "LLM tokens per message (in / out)",
        f"{prompt / max(1, final):.0f} / {completion / max(1, final):.0f}",
    )
    table.add_row(
        f"LLM cost per sent reply ({MODEL} ${INPUT_USD_PER_M}/${OUTPUT_USD_PER_M} per 1M)",
        f"${cost / max(1, len(sent)):.6f}",
    )
    table.add_row("LLM cost, all messages", f"${cost:.4f} (ledger: ${sum(r['cost_usd'] for r in rows):.4f})")
    table.add_row(
        "p95 message -> reply (sent)",
        f"{percentile(to_reply, 0.95):.1f} s (p50 {percentile(to_reply, 0.5):.1f})",
    )
    table.add_row("p95 message -> handled (incl. escalated)", f"{percentile(to_handled, 0.95):.1f} s")
    console.print(table)
    reasons_table = Table(title="escalations by reason")
    reasons_table.add_column("reason")
    reasons_table.add_column("count", justify="right")
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        reasons_table.add_row(reason, str(count))
    console.print(reasons_table)
    console.print(f"load average: {os.getloadavg()[0]:.2f} (2 shared cores: wall times move with it)")
    arrival_per_min = len(arrivals) / args.arrive_over * 60 if args.arrive_over > 0 else math.inf
    figures = [
        # Handling cannot outpace arrivals: keeping up with them is the ceiling.
        Figure.of_ceiling(
            "messages handled per minute (ceiling: the arrival rate)",
            final / elapsed * 60,
            "/min",
            arrival_per_min,
        ),
        Figure(
            "p95 message -> reply sent (baseline: the sensor interval)",
            percentile(to_reply, 0.95),
            "s",
            args.sensor_interval,
            "baseline",
            goal=GOAL_P95_REPLY_S,
            higher_is_better=False,
        ),
    ]
    report_figures(console, figures, args.json)


if __name__ == "__main__":
    main()
