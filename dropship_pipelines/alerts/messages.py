"""Alert messages and incident dedupe: pure rules, no Dagster, no I/O.

An incident is one thing going wrong until it is fixed: a job failing in the same step with the same kind of
error, or an asset check failing. The operator hears about it once, not once per run or sensor tick; the
incident is re-armed when the job succeeds again or the check passes again.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dropship_pipelines.alerts.redact import redact, redact_value

DEFAULT_WEBSERVER_URL = "http://127.0.0.1:3000"
MAX_ERROR_CHARS = 1500  # a stack trace belongs in the run page; the alert says what and where
MAX_RECORDS_CHARS = 3000


@dataclass(frozen=True)
class Alert:
    """One notification, already redacted: what every channel renders."""

    incident_key: str
    subject: str
    job: str
    run_id: str
    run_url: str
    error: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        lines = [self.subject, "", f"Job: {self.job}", f"Run: {self.run_id}", f"Link: {self.run_url}"]
        if self.error:
            lines += ["", "Error:", self.error]
        for name, value in self.details.items():
            rendered = value if isinstance(value, str) else json.dumps(value, indent=2, default=str)
            lines += ["", f"{name}:", rendered]
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        """Slack-compatible (`text`) with the structured fields alongside for other receivers."""
        return {
            "text": self.text(),
            "incident_key": self.incident_key,
            "subject": self.subject,
            "job": self.job,
            "run_id": self.run_id,
            "run_url": self.run_url,
            "error": self.error,
            "details": dict(self.details),
        }


def run_url(webserver_url: str, run_id: str) -> str:
    return f"{(webserver_url or DEFAULT_WEBSERVER_URL).rstrip('/')}/runs/{run_id}"


def run_incident_key(job: str, step: str | None, error_class: str | None) -> str:
    return f"run:{job}:{step or '-'}:{error_class or '-'}"


def check_incident_key(asset: str, check: str) -> str:
    return f"check:{asset}:{check}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_failure_alert(
    *,
    job: str,
    run_id: str,
    step: str | None,
    error_class: str | None,
    error_message: str,
    webserver_url: str,
    secrets: Iterable[str] = (),
) -> Alert:
    secrets = list(secrets)
    where = f" in step {step}" if step else ""
    kind = f" ({error_class})" if error_class else ""
    return Alert(
        incident_key=run_incident_key(job, step, error_class),
        subject=f"[dropship] run of {job} failed{where}{kind}",
        job=job,
        run_id=run_id,
        run_url=run_url(webserver_url, run_id),
        error=_clip(redact(error_message.strip(), secrets), MAX_ERROR_CHARS),
    )


def check_failure_alert(
    *,
    asset: str,
    check: str,
    job: str,
    run_id: str,
    description: str,
    metadata: Mapping[str, Any],
    webserver_url: str,
    severity: str = "ERROR",
    secrets: Iterable[str] = (),
) -> Alert:
    """`metadata` is the check's metadata as plain values: its counts and the failing records' preview."""
    secrets = list(secrets)
    records = redact_value(dict(metadata), secrets)
    rendered = json.dumps(records, indent=2, default=str)
    if len(rendered) > MAX_RECORDS_CHARS:
        # Keep it readable and bounded: the full table is on the run page.
        records = {k: _clip(v, 800) if isinstance(v, str) else v for k, v in records.items()}
    return Alert(
        incident_key=check_incident_key(asset, check),
        subject=f"[dropship] check {check} on {asset} failed ({severity})",
        job=job,
        run_id=run_id,
        run_url=run_url(webserver_url, run_id),
        error=_clip(redact(description, secrets), MAX_ERROR_CHARS),
        details={"Failing records": records},
    )


# --- dedupe ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckEvaluation:
    """One asset check result as read from the event log, in storage order."""

    storage_id: int
    asset: str
    check: str
    passed: bool
    run_id: str
    job: str
    description: str = ""
    severity: str = "ERROR"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def incident_key(self) -> str:
        return check_incident_key(self.asset, self.check)


@dataclass(frozen=True)
class CheckCursor:
    """What the check sensor remembers between ticks: where it read up to and which incidents are open."""

    after_storage_id: int = 0
    open_incidents: frozenset[str] = frozenset()

    def to_json(self) -> str:
        return json.dumps({"after": self.after_storage_id, "open": sorted(self.open_incidents)})

    @classmethod
    def from_json(cls, text: str | None) -> "CheckCursor":
        if not text:
            return cls()
        data = json.loads(text)
        return cls(int(data.get("after", 0)), frozenset(data.get("open", [])))


def advance_checks(
    cursor: CheckCursor, evaluations: Sequence[CheckEvaluation]
) -> tuple[CheckCursor, list[CheckEvaluation]]:
    """The new cursor and the evaluations that open a new incident (to notify).

    Only each check's latest result in the batch counts, so a backlog read after downtime gives one message
    per failing check, not one per failed run."""
    latest: dict[str, CheckEvaluation] = {}
    for evaluation in sorted(evaluations, key=lambda e: e.storage_id):
        latest[evaluation.incident_key] = evaluation
    open_now = set(cursor.open_incidents)
    to_notify = []
    for key, evaluation in latest.items():
        if evaluation.passed:
            open_now.discard(key)  # fixed: the next failure is a new incident
        elif key not in open_now:
            open_now.add(key)
            to_notify.append(evaluation)
    after = max([cursor.after_storage_id, *(e.storage_id for e in evaluations)])
    return CheckCursor(after, frozenset(open_now)), to_notify


def run_incident_is_new(notified_at: float | None, job_succeeded_since: bool) -> bool:
    """A failure opens a new incident unless the same one was notified and the job has not recovered."""
    return notified_at is None or job_succeeded_since
