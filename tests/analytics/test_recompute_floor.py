"""The dashboard benchmark's Dagster floor (`recompute_floor`) stands for the real recompute: the same runs
write the same kinds and numbers of events, so the floor it prints is what the recompute pays Dagster."""

from collections import Counter

import dagster as dg

from dropship_pipelines.store.database import get_engine
from dropship_testkit.ledger_seed import FIRST_DAY, LAST_DAY, seed_hand_computed_ledger
from dropship_testkit.pipelines import recompute_analytics, recompute_floor


def _event_counts(instance: dg.DagsterInstance) -> Counter[str]:
    counts: Counter[str] = Counter()
    for run in instance.get_runs():
        for record in instance.get_records_for_run(run.run_id, limit=100_000).records:
            event = record.event_log_entry.dagster_event
            if event is not None and event.event_type_value.startswith("ASSET"):
                counts[event.event_type_value] += 1
    return counts


def test_the_floor_writes_what_the_recompute_writes(store_url: str) -> None:
    seed_hand_computed_ledger(get_engine(store_url))
    real = dg.DagsterInstance.ephemeral()
    outcome = recompute_analytics(store_url, FIRST_DAY, LAST_DAY, instance=real)
    assert outcome.failed_checks == []

    stand_in = dg.DagsterInstance.ephemeral()
    floor = recompute_floor(FIRST_DAY, LAST_DAY, instance=stand_in)
    assert floor.failed_checks == []
    assert set(floor.seconds) == set(outcome.seconds)

    days = (LAST_DAY - FIRST_DAY).days + 1
    counts = _event_counts(stand_in)
    assert counts == _event_counts(real)
    assert counts["ASSET_MATERIALIZATION"] == 2 * days + 3  # each day of both daily assets, 3 snapshots
