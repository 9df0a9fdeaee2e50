"""`python -m dropship_testkit.soak --minutes N`: exit 0 when the audit passes, 1 when it does not."""

import argparse
import signal
import sys
from pathlib import Path

from rich.console import Console

from dropship_testkit.soak.runner import SoakConfig, report, run_soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak the whole system under faults, then audit it.")
    parser.add_argument("--minutes", type=float, default=15.0, help="length of the fault phase")
    parser.add_argument("--speed", type=float, default=600.0, help="sandbox clock: simulated s per real s")
    parser.add_argument(
        "--kill-every", type=float, default=60.0, help="mean seconds between run kills (0: off)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--settle-timeout", type=float, default=900.0)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a fresh temporary folder")
    parser.add_argument("--report", type=Path, default=Path("artifacts/soak-report.json"))
    args = parser.parse_args(argv)
    config = SoakConfig(
        minutes=args.minutes,
        speed=args.speed,
        kill_every_s=args.kill_every,
        seed=args.seed,
        settle_timeout_s=args.settle_timeout,
        workdir=args.workdir,
        report_path=args.report,
    )
    # SIGTERM ends the soak like Ctrl-C does, so the services it started are stopped, not orphaned.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    console = Console()
    outcome, result = run_soak(config, console)
    return 0 if report(outcome, result, console, config.report_path) else 1


if __name__ == "__main__":
    sys.exit(main())
