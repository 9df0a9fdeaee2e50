"""A short soak (about 2 minutes of faults and killed runs) of the whole system, audited end to end.

Starts real processes (sandbox server, dashboard, `dagster dev`) on free ports in `tmp_path`; the long
version is `scripts/soak.sh --minutes 15`. Marked `soak`: it takes ~7 minutes, so the suite leaves it out
and CI runs it as its own step (`.ci/run`).
"""

import os
from pathlib import Path

import pytest
from rich.console import Console

from dropship_testkit.soak.runner import SoakConfig, report, run_soak

SOAK_MINUTES = float(os.environ.get("SOAK_TEST_MINUTES", "2"))


@pytest.mark.soak
@pytest.mark.timeout(1500)
def test_short_soak_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    config = SoakConfig(
        minutes=SOAK_MINUTES,
        kill_every_s=30.0,  # several kills even in two minutes
        workdir=tmp_path / "soak",
        report_path=tmp_path / "soak-report.json",
        settle_timeout_s=900.0,
    )
    console = Console(width=140)
    outcome, result = run_soak(config, console)
    passed = report(outcome, result, console, config.report_path)

    assert not [e for e in outcome.errors if e.startswith("soak aborted")], outcome.errors
    assert result.orders["placed"] > 0, "the world placed no order: nothing was soaked"
    assert outcome.runs["launched"] > 0 and outcome.runs["succeeded"] > 0
    assert not [f for f in result.findings if f.fails], [f for f in result.findings if f.fails]
    assert result.money["sandbox_orders_total"] == result.money["ledger_store_orders_total"]
    assert result.money["ledger_store_orders_total"] == result.money["analytics_daily_sales_total"]
    assert passed
