"""Where each service lives. Non-secret settings come from the environment with live defaults;
secrets are passed as `dg.EnvVar` where the resources are built (definitions.py), never read here."""

import os

LIVE_CJ_BASE_URL = "https://developers.cjdropshipping.com/api2.0/v1"
LIVE_OPENAI_BASE_URL = "https://api.openai.com/v1"


def env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def store_database_url() -> str:
    return env("STORE_DATABASE_URL", "sqlite:///.data/store.db")
