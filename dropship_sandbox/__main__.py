"""`python -m dropship_sandbox --port 8710 --state .sandbox/world.db --seed 42 --speed 60`."""

import argparse
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
        "--webhook-url", default=None, help="where the store POSTs its orders/create webhooks"
    )
    args = parser.parse_args()
    world = open_world(args.state, args.seed, args.speed)
    if args.webhook_url:
        world.update_settings(lambda settings: setattr(settings, "webhook_url", args.webhook_url))
    uvicorn.run(create_app(world), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
