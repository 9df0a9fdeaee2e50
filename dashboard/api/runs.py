"""Launching a workflow run now, following it, and what the Dagster instance says is wrong, all through
the Dagster webserver's GraphQL API."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

DEFAULT_JOBS = (
    "product_discovery_job",
    "order_fulfillment_job",
    "customer_service_job",
    "ad_launch_job",
    "ad_optimization_job",
    "analytics_job",
)
# A run in one of these states will not change again: the page that launched it reloads its data.
FINISHED_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# What the header's health indicator asks the instance: queued runs, runs that failed lately, and the
# latest result of every asset check.
HEALTH_QUERY = """
query DashboardHealth($since: Float!) {
  queued: runsOrError(filter: {statuses: [QUEUED]}, limit: 100) {
    __typename
    ... on Runs { results { runId jobName } }
  }
  failed: runsOrError(filter: {statuses: [FAILURE], updatedAfter: $since}, limit: 20) {
    __typename
    ... on Runs { results { runId jobName } }
  }
  assetNodes {
    assetKey { path }
    assetChecksOrError {
      __typename
      ... on AssetChecks {
        checks { name executionForLatestMaterialization { status evaluation { severity } } }
      }
    }
  }
}
"""
FAILED_CHECK = frozenset({"FAILED", "EXECUTION_FAILED"})


class RunLaunchError(Exception):
    """Dagster is down or refused the run; the message is safe to show to the operator."""


class RunLauncher(Protocol):
    def launch(self, job_name: str) -> str: ...


@dataclass(frozen=True)
class InstanceHealth:
    """What the Dagster instance reports; `reachable` False when the webserver did not answer."""

    reachable: bool
    queued_runs: list[str] = field(default_factory=list)  # job names
    failed_runs: list[str] = field(default_factory=list)  # job names, failed within the window
    failing_checks: list[tuple[str, str]] = field(default_factory=list)  # (asset/check, ERROR | WARN)
    error: str = ""


class RunMonitor(Protocol):
    def run_status(self, run_id: str) -> str: ...

    def health(self, window: timedelta) -> InstanceHealth: ...


class DagsterLauncher:
    """`DagsterGraphQLClient(host, port)`: launches (`submit_job_execution`) and follows (`get_run_status`)
    runs; the health query goes to the same webserver's /graphql."""

    def __init__(self, host: str, port: int, timeout_s: int = 15) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    def _client(self) -> Any:
        from dagster_graphql import DagsterGraphQLClient

        return DagsterGraphQLClient(self.host, port_number=self.port, timeout=self.timeout_s)

    def launch(self, job_name: str) -> str:
        from dagster_graphql import DagsterGraphQLClientError

        try:
            return self._client().submit_job_execution(job_name)
        except DagsterGraphQLClientError as exc:
            first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise RunLaunchError(f"Dagster refused the run of {job_name}: {first_line}") from exc
        except Exception as exc:  # connection refused, timeout: the webserver is not there
            raise RunLaunchError(
                f"cannot reach the Dagster webserver at {self.host}:{self.port} ({type(exc).__name__})"
            ) from exc

    def run_status(self, run_id: str) -> str:
        from dagster_graphql import DagsterGraphQLClientError

        try:
            return self._client().get_run_status(run_id).value
        except DagsterGraphQLClientError as exc:
            raise LookupError(f"Dagster knows no run {run_id}") from exc
        except Exception as exc:
            raise RunLaunchError(
                f"cannot reach the Dagster webserver at {self.host}:{self.port} ({type(exc).__name__})"
            ) from exc

    def health(self, window: timedelta) -> InstanceHealth:
        since = (datetime.now(UTC) - window).timestamp()
        try:
            response = httpx.post(
                f"http://{self.host}:{self.port}/graphql",
                json={"query": HEALTH_QUERY, "variables": {"since": since}},
                timeout=min(self.timeout_s, 5),
            )
            response.raise_for_status()
            payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return InstanceHealth(reachable=False, error=type(exc).__name__)
        if payload.get("errors"):
            return InstanceHealth(reachable=False, error=str(payload["errors"][0].get("message", ""))[:200])
        return parse_health(payload["data"])


def _runs(result: dict[str, Any]) -> list[str]:
    return [run["jobName"] for run in result.get("results", [])] if result.get("__typename") == "Runs" else []


def parse_health(data: dict[str, Any]) -> InstanceHealth:
    failing = []
    for node in data.get("assetNodes") or []:
        checks = node.get("assetChecksOrError") or {}
        for check in checks.get("checks", []) if checks.get("__typename") == "AssetChecks" else []:
            execution = check.get("executionForLatestMaterialization") or {}
            if execution.get("status") in FAILED_CHECK:
                severity = (execution.get("evaluation") or {}).get("severity") or "ERROR"
                failing.append((f"{'/'.join(node['assetKey']['path'])}:{check['name']}", severity))
    return InstanceHealth(
        reachable=True,
        queued_runs=_runs(data.get("queued") or {}),
        failed_runs=_runs(data.get("failed") or {}),
        failing_checks=failing,
    )
