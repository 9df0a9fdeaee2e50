"""Where each service lives. Non-secret settings come from the environment with live defaults;
secrets are passed as `dg.EnvVar` where the resources are built (definitions.py), never read here."""

import os
from datetime import date

from dropship_pipelines.resources.host_map import parse_host_map

LIVE_CJ_BASE_URL = "https://developers.cjdropshipping.com/api2.0/v1"
LIVE_OPENAI_BASE_URL = "https://api.openai.com/v1"


def env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def store_database_url() -> str:
    return env("STORE_DATABASE_URL", "sqlite:///.data/store.db")


# The hosts CJ's product images come from: its CDN and the object store its own examples link to.
CJ_IMAGE_HOSTS = ["cf.cjdropshipping.com", "*.cjdropshipping.com", "cc-west-usa.oss-us-west-1.aliyuncs.com"]


def image_hosts() -> list[str]:
    """Where product images may be downloaded from: AD_IMAGE_HOSTS (comma-separated host patterns, `*`
    matching within one label), else CJ's image hosts. The sandbox serves its images under those same
    hosts (SANDBOX_HOST_MAP), so the list is the live one in both."""
    configured = [h.strip().lower() for h in env("AD_IMAGE_HOSTS", "").split(",") if h.strip()]
    return configured or list(CJ_IMAGE_HOSTS)


def sandbox_host_map() -> dict[str, str]:
    """Sandbox mode only: the hosts the sandbox stands in for (SANDBOX_HOST_MAP `host=origin,...`)."""
    return parse_host_map(env("SANDBOX_HOST_MAP", ""))


def partitions_start(default: str) -> str:
    """The first day of the daily partitions (YYYY-MM-DD): DROPSHIP_PARTITIONS_START, the store's first day
    of trading, else `default`. Read once at import, so every process of a deployment must share it (put it
    in .env); the sandbox launcher sets it to the first day of its world."""
    value = env("DROPSHIP_PARTITIONS_START", default)
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as error:
        raise ValueError(f"DROPSHIP_PARTITIONS_START={value!r} is not a date (YYYY-MM-DD)") from error
