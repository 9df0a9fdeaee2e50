"""The pure alert rules: redaction, message contents and once-per-incident dedupe."""

from dropship_pipelines.alerts.messages import (
    CheckCursor,
    CheckEvaluation,
    advance_checks,
    check_failure_alert,
    run_failure_alert,
    run_incident_is_new,
)
from dropship_pipelines.alerts.redact import REDACTED, redact, redact_value, secret_values

PLANTED = "planted-secret-XYZ-123456"


def test_redact_removes_known_secrets_and_credential_shapes() -> None:
    text = (
        f"401 from https://api.example.com?access_token={PLANTED} "
        "with Authorization: Bearer sk-live-abcdef123456 "
        "db postgresql+psycopg2://dropship:hunter2pass@db.internal:5432/dropship "
        '{"api_key": "k-9876543210"} also ' + PLANTED
    )
    out = redact(text, [PLANTED])
    for leaked in (PLANTED, "sk-live-abcdef123456", "hunter2pass", "k-9876543210"):
        assert leaked not in out
    assert "dropship:" + REDACTED + "@db.internal" in out
    assert "https://api.example.com" in out  # the host stays: it tells the operator which API failed


def test_redact_removes_customer_contact_but_keeps_ids_dates_and_amounts() -> None:
    text = "order #1042 for jane.doe@example.com, +15550101234, (555) 010-1234 on 2026-11-03 12:30 $19.99"
    out = redact(text)
    assert "jane.doe@example.com" not in out and "+15550101234" not in out and "010-1234" not in out
    assert "#1042" in out and "2026-11-03 12:30" in out and "$19.99" in out
    run_id = "8d0c1b52-1234-4567-8901-123456789012"
    assert redact(f"run {run_id}") == f"run {run_id}"


def test_redact_value_blanks_pii_and_secret_fields_in_records() -> None:
    record = {
        "order": "#1001",
        "customer": {"email": "a@b.co", "first_name": "Jane", "phone": "+15550101234"},
        "shipping_address": {"address1": "1 Main St", "zip": "10001"},
        "api_key": PLANTED,
        "reason": f"token={PLANTED}",
    }
    out = redact_value(record, [PLANTED])
    assert out["order"] == "#1001"
    assert out["customer"] == {"email": REDACTED, "first_name": REDACTED, "phone": REDACTED}
    assert out["shipping_address"] == REDACTED and out["api_key"] == REDACTED
    assert PLANTED not in str(out)


def test_secret_values_come_from_credential_variables_only() -> None:
    env = {"CJ_API_KEY": PLANTED, "SHOPIFY_ACCESS_TOKEN": "shpat_abcdef", "CJ_BASE_URL": "https://x"}
    assert secret_values(env) == [PLANTED, "shpat_abcdef"]


def test_run_failure_alert_has_job_run_link_and_redacted_error() -> None:
    alert = run_failure_alert(
        job="order_fulfillment_job",
        run_id="abc-123",
        step="supplier_orders",
        error_class="PermanentApiError",
        error_message=f"cj: 401 invalid key {PLANTED}",
        webserver_url="https://dagster.example.com/",
        secrets=[PLANTED],
    )
    assert alert.incident_key == "run:order_fulfillment_job:supplier_orders:PermanentApiError"
    assert alert.run_url == "https://dagster.example.com/runs/abc-123"
    text = alert.text()
    assert "order_fulfillment_job" in text and "abc-123" in text and alert.run_url in text
    assert "PermanentApiError" in alert.subject and PLANTED not in text


def test_check_failure_alert_carries_redacted_failing_records() -> None:
    alert = check_failure_alert(
        asset="store_orders",
        check="orders_have_addresses",
        job="order_fulfillment_job",
        run_id="r1",
        description="Every order has a shipping address.",
        metadata={"missing": 1, "records": "| order | email |\n|---|---|\n| #1001 | jane@example.com |"},
        webserver_url="http://127.0.0.1:3000",
        severity="WARN",
    )
    payload = alert.payload()
    assert payload["run_url"] == "http://127.0.0.1:3000/runs/r1"
    assert "#1001" in payload["text"] and "jane@example.com" not in payload["text"]
    assert payload["details"]["Failing records"]["missing"] == 1
    assert alert.subject.endswith("(WARN)")


def evaluation(storage_id: int, passed: bool, check: str = "c") -> CheckEvaluation:
    return CheckEvaluation(storage_id, "asset", check, passed, run_id=f"r{storage_id}", job="j")


def test_check_incident_notifies_once_until_the_check_passes_again() -> None:
    cursor, notify = advance_checks(CheckCursor(), [evaluation(1, False)])
    assert [e.storage_id for e in notify] == [1]
    cursor, notify = advance_checks(cursor, [evaluation(2, False), evaluation(3, False)])
    assert notify == [] and cursor.after_storage_id == 3
    cursor, notify = advance_checks(cursor, [])
    assert notify == [] and cursor.after_storage_id == 3
    cursor, notify = advance_checks(cursor, [evaluation(4, True)])
    assert notify == [] and not cursor.open_incidents
    cursor, notify = advance_checks(cursor, [evaluation(5, False)])
    assert [e.storage_id for e in notify] == [5]


def test_backlog_gives_one_message_per_check_with_its_latest_state() -> None:
    batch = [evaluation(1, False), evaluation(2, True), evaluation(3, False), evaluation(4, False, "other")]
    batch += [evaluation(5, False, "healed"), evaluation(6, True, "healed")]
    cursor, notify = advance_checks(CheckCursor(), batch)
    assert sorted((e.check, e.storage_id) for e in notify) == [("c", 3), ("other", 4)]
    assert CheckCursor.from_json(cursor.to_json()) == cursor


def test_run_incident_rearms_only_after_recovery() -> None:
    assert run_incident_is_new(None, job_succeeded_since=False)
    assert not run_incident_is_new(1000.0, job_succeeded_since=False)
    assert run_incident_is_new(1000.0, job_succeeded_since=True)
