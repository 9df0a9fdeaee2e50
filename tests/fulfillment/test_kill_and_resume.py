"""A run killed half way (SIGKILL, a real subprocess) and run again: each order at the supplier once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from dropship_pipelines.store.database import get_engine
from dropship_pipelines.store.fulfillment_tables import supplier_orders
from dropship_testkit.ledger_seed import list_products
from dropship_testkit.sandbox_world import sendable_numbers
from tests.fulfillment.helpers import created_at_supplier, place, run_fulfillment

DAGSTER = str(Path(sys.executable).parent / "dagster")


def _job(env: dict[str, str], home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [DAGSTER, "job", "execute", "-m", "dropship_pipelines.definitions", "-j", "order_fulfillment_job"],
        env={**os.environ, **env, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_sigkill_half_way_then_rerun_sends_each_order_once(sandbox, store_url, pipeline_env, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 3)
    wanted = sendable_numbers(place(sandbox, 40))
    slow = {**pipeline_env, "CJ_REQUESTS_PER_SECOND": "6"}  # so the kill lands mid-batch

    first = _job(slow, home)
    deadline = time.monotonic() + 60
    while len(created_at_supplier(sandbox)) < 8:
        assert first.poll() is None, first.stderr.read().decode()[-2000:] if first.stderr else ""
        assert time.monotonic() < deadline, "the first run never reached the supplier"
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    part = created_at_supplier(sandbox)
    assert 8 <= len(part) < len(wanted), "killed half way"

    second = _job(pipeline_env, home)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()[-3000:]
    at_supplier = created_at_supplier(sandbox)
    assert set(at_supplier) == wanted
    assert all(count == 1 for count in at_supplier.values()), at_supplier


def test_pending_ledger_row_is_resolved_from_the_supplier_not_sent_again(sandbox, store_url, pipeline_env):
    """The exact crash window: CJ accepted, the run died before the ledger recorded it."""
    sandbox.control("POST", "/orders/settings", {"organic_multiplier": 0})
    list_products(sandbox.world, store_url, 2)
    orders = [o for o in place(sandbox, 6) if o["defect"] is None]
    sandbox.control(
        "POST", "/faults/cj", {"lost_response_rate": 1.0}
    )  # every write lands, every answer is lost
    run_fulfillment()
    sandbox.control("POST", "/faults/cj", {"reset": True})
    assert set(created_at_supplier(sandbox)) == sendable_numbers(orders)

    with get_engine(store_url).begin() as conn:  # forget the outcome of one: as if killed after CJ's answer
        number = sorted(sendable_numbers(orders))[0]
        conn.execute(
            sa.update(supplier_orders)
            .where(supplier_orders.c.order_number == number)
            .values(state="pending", supplier_order_id=None)
        )
        conn.execute(sa.text("UPDATE store_orders SET state='new' WHERE name = :n"), {"n": "#" + number[8:]})
    run_fulfillment()
    assert all(count == 1 for count in created_at_supplier(sandbox).values())
    with get_engine(store_url).connect() as conn:
        row = conn.execute(sa.select(supplier_orders).where(supplier_orders.c.order_number == number)).one()
    assert row.state == "created" and row.supplier_order_id
