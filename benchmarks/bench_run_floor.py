"""Benchmark the run floor: how long a `dagster job execute` of `customer_service_job` takes when there is
nothing to do, against a trivial one-asset job started the same way.

    python -m benchmarks.bench_run_floor [--runs 5] [--json PATH]

Both are launched as a user would, `uv run dagster job execute ...`, as separate processes with the
environment of this machine (so `PYTHONDONTWRITEBYTECODE`, if set, applies and only the bytecode the install
compiled is there). The customer-service run points at a sandbox running in this process, with an empty
helpdesk and mailbox, a migrated store and a fresh DAGSTER_HOME; one warm-up run of each job (not timed)
migrates the store and fills the file cache. The timed runs alternate between the two jobs, so load from
others on the machine hits both alike; the figure is the median of `--runs` each.

The trivial job runs in process, as the workflow jobs do (the default executor would start a second
process for its one step). What the difference measures: loading the code location (the imports of
`dropship_pipelines.definitions`, building its resources) and the run's own steps, over what any Dagster
run costs.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from dropship_testkit.bench import Figure, add_json_option, figures_table, report_figures
from dropship_testkit.sandbox_server import running_sandbox

console = Console(width=130)
REPO_ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 3.0

TRIVIAL_JOB = """
import dagster as dg


@dg.asset
def one() -> int:
    return 1


trivial_job = dg.define_asset_job("trivial_job", selection=[one], executor_def=dg.in_process_executor)
defs = dg.Definitions(assets=[one], jobs=[trivial_job])
"""


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float  # the command and every process it waited for (uv, dagster, its step processes)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(command: list[str], env: dict[str, str]) -> Run:
    cpu, started = _children_cpu(), time.perf_counter()
    finished = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    run = Run(time.perf_counter() - started, _children_cpu() - cpu)
    if finished.returncode != 0:
        sys.stderr.write(finished.stdout[-3000:] + finished.stderr[-3000:])
        raise SystemExit(f"{' '.join(command)} failed with exit code {finished.returncode}")
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each job")
    add_json_option(parser)
    args = parser.parse_args(argv)
    console.print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 shared cores)")
    console.print(
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}: "
        "runs use only the bytecode the install compiled"
    )
    with tempfile.TemporaryDirectory(prefix="bench-run-floor-") as tmp:
        work = Path(tmp)
        trivial = work / "trivial_job.py"
        trivial.write_text(TRIVIAL_JOB)
        with running_sandbox(work / "world.db") as sandbox:
            base_env = {**os.environ, "DAGSTER_HOME": str(work / "dagster_home")}
            (work / "dagster_home").mkdir()
            env = {**base_env, **sandbox.env(f"sqlite:///{work}/store.db", work / "tokens")}
            execute = ["uv", "run", "--frozen", "dagster", "job", "execute"]
            commands = {
                "customer_service_job": (
                    [*execute, "-m", "dropship_pipelines.definitions", "-j", "customer_service_job"],
                    env,
                ),
                "trivial 1-asset job": ([*execute, "-f", str(trivial), "-j", "trivial_job"], base_env),
            }
            for command, command_env in commands.values():  # warm-up: store migrated, files cached
                timed_run(command, command_env)
            times: dict[str, list[Run]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, (command, command_env) in commands.items():
                    times[name].append(timed_run(command, command_env))
            audit = sandbox.audit()
    rows = []
    for name, runs in times.items():
        rows.append((f"{name}: wall s", ", ".join(f"{r.wall_s:.2f}" for r in runs)))
        rows.append((f"{name}: CPU s", ", ".join(f"{r.cpu_s:.2f}" for r in runs)))
        wall, cpu = statistics.median(r.wall_s for r in runs), statistics.median(r.cpu_s for r in runs)
        rows.append((f"{name}: median wall / CPU", f"{wall:.2f} s / {cpu:.2f} s"))
    floor = statistics.median(r.wall_s for r in times["customer_service_job"])
    baseline = statistics.median(r.wall_s for r in times["trivial 1-asset job"])
    side_effects = sum(sum(counts.values()) for counts in audit.values())
    # CPU is what the code location and its run cost; wall time also waits for the cores others use, so
    # on a loaded machine the CPU difference is the steadier reading of the floor over Dagster's own.
    cpu_over = statistics.median(r.cpu_s for r in times["customer_service_job"]) - statistics.median(
        r.cpu_s for r in times["trivial 1-asset job"]
    )
    rows += [
        ("ratio (wall)", f"{floor / baseline:.2f}"),
        ("customer_service_job over the trivial job: median CPU s", f"{cpu_over:.2f}"),
        ("side effects at the sandbox (nothing to do: must be 0)", str(side_effects)),
    ]
    console.print(figures_table(f"dagster job execute, {args.runs} runs each", rows))
    figure = Figure(
        "run with nothing to do, customer_service_job (baseline: a trivial 1-asset job)",
        floor,
        "s",
        baseline,
        "baseline",
        goal=GOAL_SECONDS,
        higher_is_better=False,
    )
    report_figures(console, [figure], args.json)


if __name__ == "__main__":
    main()
