"""A short soak (about 2 minutes of faults and killed runs) of the whole system, audited end to end.

Starts real processes (sandbox server, dashboard, `dagster dev`) on free ports in `tmp_path`; the long
version is `scripts/soak.sh --minutes 15`. Marked `soak`: it takes ~18 minutes on two busy cores, so the
suite leaves it out and CI runs it as its own step (`.ci/run`).

Its world meets every event of a store's life after checkout (dropship_testkit/soak/chaos.py STORE_LIFE,
at the world seed chosen for it): high-risk orders and invalid addresses, customers cancelling before and
after the supplier was paid, CJ cancelling and running out of stock, lost parcels, refunds, chargebacks.
The settle phase then moves the world's clock on weeks, so parcels are scanned, fulfilled and lost,
refunds and chargebacks come, and the audit checks each invariant against ground truth counts > 0.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from dropship_testkit.soak.audit import STORE_EVENTS
from dropship_testkit.soak.runner import SoakConfig, report, run_soak

SOAK_MINUTES = float(os.environ.get("SOAK_TEST_MINUTES", "2"))


@pytest.mark.soak
@pytest.mark.timeout(1800)
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
    # Every event of the store's life happened at least once (else its invariant holds trivially).
    missing = [kind for kind in STORE_EVENTS if result.events.get(kind, 0) == 0]
    assert not missing, f"the soak's world produced none of {missing}: {result.events}"
    assert not [f for f in result.findings if f.fails], [f for f in result.findings if f.fails]
    # 0 supplier orders paid after the store's cancellation was known.
    assert result.cancellations["paid_after_cancel_known"] == 0
    # 0 high-risk / invalid-address orders sent without a release, none made while on hold.
    assert result.gate["flagged_orders_sent_unreleased"] == 0
    assert result.gate["supplier_orders_while_held"] == 0
    # Every supplier failure refunded or escalated.
    assert result.cancellations["failures_unhandled"] == 0
    assert result.cancellations["failures_refunded"] + result.cancellations["failures_escalated"] > 0
    # Fulfillments post (at the first carrier scan, the clock moves in settle), each exactly once.
    assert result.orders["fulfilled"] > 0 and result.orders["fulfillment_duplicated"] == 0
    # Money to the cent: sales, fees, refunds, chargebacks across the sandbox, the ledger, the analytics.
    money = result.money
    assert money["sandbox_orders_total"] == money["ledger_store_orders_total"]
    assert money["ledger_store_orders_total"] == money["analytics_daily_sales_total"]
    for name in ("payment_fees", "refunds", "chargebacks"):
        assert money[f"sandbox_{name}"] == money[f"analytics_{name}"], name
    assert Decimal(money["sandbox_refunds"]) > 0 and Decimal(money["sandbox_chargebacks"]) > 0
    assert passed
