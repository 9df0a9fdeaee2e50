"""Planted secrets never reach logs, the event log, asset/check metadata, run config or the store database."""

import logging
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.store.database import get_engine
from dropship_sandbox import credentials
from dropship_testkit.pipelines import build_defs

# Shaped like the real credentials where the APIs check the shape (CJ keys are `<id>@api@<hex>`).
PLANTED = {
    "CJ_API_KEY": "CJ5550001@api@planted-secret-XYZ-cj-4f1a",
    "SHOPIFY_ACCESS_TOKEN": "shpat_planted-secret-XYZ-shopify-77",
    "SHOPIFY_WEBHOOK_SECRET": "planted-secret-XYZ-webhook-21",
    "OPENAI_API_KEY": "sk-planted-secret-XYZ-openai-0042",
    "META_ACCESS_TOKEN": "EAAplanted-secret-XYZ-meta-9911",
    "TIKTOK_ACCESS_TOKEN": "planted-secret-XYZ-tiktok-5150",
    "HELPDESK_API_KEY": "planted-secret-XYZ-helpdesk-3321",
    "ALERT_SMTP_PASSWORD": "planted-secret-XYZ-smtp-8080",
    "ALERT_WEBHOOK_URL": "https://hooks.slack.test/services/planted-secret-XYZ-hook",
}
# The sandbox reads its accepted credentials from this module at request time.
SANDBOX_NAMES = {
    "CJ_API_KEY",
    "SHOPIFY_ACCESS_TOKEN",
    "SHOPIFY_WEBHOOK_SECRET",
    "OPENAI_API_KEY",
    "META_ACCESS_TOKEN",
    "TIKTOK_ACCESS_TOKEN",
    "HELPDESK_API_KEY",
}
SMALL = {
    "ops": {
        "product_candidates": {"config": {"detail_lookups_per_run": 10}},
        "store_listings": {"config": {"max_listings_per_run": 4}},
    }
}


def leaks(text: str) -> list[str]:
    return [name for name, value in PLANTED.items() if value in text]


def test_discovery_run_leaks_no_planted_secret(
    pipeline_env: dict,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)
        if name in SANDBOX_NAMES:
            monkeypatch.setattr(credentials, name, value)
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        job = build_defs(discovery_defs).resolve_job_def("product_discovery_job")
        result = job.execute_in_process(run_config=SMALL, instance=instance, raise_on_error=False)
        assert result.success  # the planted values are the valid ones: the run really used them
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        records = instance.all_logs(result.run_id)
        event_log = "\n".join(dg.serialize_value(entry) for entry in records)
        run_record = dg.serialize_value(run.run_config) + dg.serialize_value(dict(run.tags))

    # Every event of the run, with asset materialization and check metadata in full.
    events = [dg.serialize_value(event) for event in result.all_events]
    assert any(event.is_step_materialization for event in result.all_events)
    assert result.get_asset_check_evaluations() and records

    schema = sa.MetaData()
    with get_engine(store_url).connect() as conn:
        schema.reflect(bind=conn)
        tables = [str(conn.execute(sa.select(table)).all()) for table in schema.sorted_tables]
    out, err = capfd.readouterr()
    everything = {
        "caplog": caplog.text,
        "event log": event_log,
        "run config and tags": run_record,
        "events and metadata": "\n".join(events),
        "stdout/stderr": out + err,
        "store database": "\n".join(tables),
    }
    assert {where: leaks(text) for where, text in everything.items() if leaks(text)} == {}
