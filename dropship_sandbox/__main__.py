"""`python -m dropship_sandbox --port 8710 --state .sandbox/world.db --seed 42 --speed 60`."""

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from dropship_sandbox.app import create_app, open_world


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the simulated store world on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--state", type=Path, default=Path(".sandbox/world.db"))
    parser.add_argument("--seed", type=int, default=None, help="seed of a new world (default 42)")
    parser.add_argument("--speed", type=float, default=None, help="simulated seconds per real second")
    parser.add_argument(
        "--start-days-ago",
        type=float,
        default=None,
        help="a new world's clock starts this many days before the real now (default: 2026-11-01), so that "
        "the dates the pipelines see (schedules, daily partitions) are near the world's",
    )
    args = parser.parse_args()
    fresh = not args.state.exists()
    world = open_world(args.state, args.seed, args.speed)
    if fresh and args.start_days_ago is not None:
        world.set_clock(datetime.now(UTC) - timedelta(days=args.start_days_ago))
    uvicorn.run(create_app(world), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
