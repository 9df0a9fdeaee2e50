"""Loading the code location imports only what defining the jobs needs (issue 16: every `dagster job
execute` pays for it, whatever the job). Libraries used only where work is done are imported there: the
array rules' and analytics' (numpy, pandas), the video renderer's (PIL, ffmpeg's locator), the LLM SDK, the
mailbox's (imapclient) and the deduplication's (rapidfuzz); so are the services of the ads, discovery and
fulfillment assets.

Checked in a fresh interpreter, as `dagster job execute` starts one: this test process has imported
them already."""

import json
import subprocess
import sys
from typing import Any

import pytest

from dropship_pipelines.resources.catalog import support_channel
from dropship_pipelines.resources.email_channel.resource import EmailChannelResource
from dropship_pipelines.resources.helpdesk import HelpdeskResource

# Imported where they are used, never by loading the definitions.
LAZY = (
    "openai",
    "moviepy",
    "PIL",
    "imageio_ffmpeg",
    "rapidfuzz",
    "imapclient",
    "dropship_pipelines.media",
    "dropship_pipelines.resources.email_channel",
    "dropship_pipelines.services.ads",
    "dropship_pipelines.services.discovery",
    "dropship_pipelines.services.fulfillment",
    "graphql",  # graphql-core answers shadow mode's Shopify calls only
    "dropship_pipelines.resources.shopify.shadow",
)


def _load_definitions(before: str = "") -> dict[str, Any]:
    """What a fresh interpreter holds once it has imported the definitions (`before` runs first)."""
    probe = (
        f"import gc, json, sys\n{before}\nimport dropship_pipelines.definitions\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'collecting': gc.isenabled(),"
        " 'frozen': gc.get_freeze_count()}))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(finished.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def loaded() -> dict[str, Any]:
    return _load_definitions()


@pytest.fixture(scope="module")
def imported(loaded: dict[str, Any]) -> set[str]:
    return set(loaded["modules"])


def _loaded(imported: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in imported))


def test_definitions_do_not_import_what_only_work_needs(imported: set[str]) -> None:
    assert _loaded(imported, LAZY) == []


def test_definitions_do_not_import_pandas_or_numpy(imported: set[str]) -> None:
    assert _loaded(imported, ("pandas", "numpy")) == []


def test_definitions_are_frozen_out_of_garbage_collection_and_the_collector_is_on_again(
    loaded: dict[str, Any],
) -> None:
    """Later collections skip what loading built (issue 16); the collector itself is not left off."""
    assert loaded["collecting"] is True
    assert loaded["frozen"] > 100_000


def test_a_collector_turned_off_before_loading_stays_off() -> None:
    assert _load_definitions(before="gc.disable()")["collecting"] is False


def test_support_channel_builds_the_mailbox_when_the_store_uses_email(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mailbox resource is imported only for SUPPORT_CHANNEL=email: it is still the one built then."""
    monkeypatch.setenv("SUPPORT_CHANNEL", "email")
    assert isinstance(support_channel(), EmailChannelResource)
    monkeypatch.setenv("SUPPORT_CHANNEL", "helpdesk")
    assert isinstance(support_channel(), HelpdeskResource)
