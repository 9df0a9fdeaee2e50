"""Where each service lives. Non-secret settings come from the environment with live defaults;
secrets are passed as `dg.EnvVar` where the resources are built (definitions.py), never read here."""

import os
from urllib.parse import urlsplit

LIVE_CJ_BASE_URL = "https://developers.cjdropshipping.com/api2.0/v1"
LIVE_OPENAI_BASE_URL = "https://api.openai.com/v1"


def env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def store_database_url() -> str:
    return env("STORE_DATABASE_URL", "sqlite:///.data/store.db")


def image_hosts() -> list[str]:
    """Where product images may be downloaded from: AD_IMAGE_HOSTS (comma-separated), else the supplier's
    API host (the sandbox serves images there) and CJ's image CDN."""
    configured = [h.strip().lower() for h in env("AD_IMAGE_HOSTS", "").split(",") if h.strip()]
    if configured:
        return configured
    supplier = urlsplit(env("CJ_BASE_URL", LIVE_CJ_BASE_URL)).hostname or ""
    return sorted({supplier, "cjdropshipping.com"} - {""})
