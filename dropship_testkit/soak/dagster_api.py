"""The few Dagster webserver GraphQL calls the soak needs: list runs, launch, wait, find a run's worker."""

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

IN_PROGRESS = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
QUEUED = ("QUEUED", "NOT_STARTED")
_PID = re.compile(r"Started process for run \(pid: (\d+)\)")

_RUNS = """
query Runs($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs { results { runId jobName status tags { key value } } }
    ... on PythonError { message }
  }
}"""

_LOGS = """
query Logs($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection { events { __typename ... on MessageEvent { message } } }
  }
}"""

_LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}"""

_TIMES = """
query Times($limit: Int) {
  runsOrError(limit: $limit) {
    ... on Runs { results { runId jobName status creationTime startTime endTime } }
  }
}"""

_TERMINATE = """
mutation Terminate($runId: String!) {
  terminateRun(runId: $runId) { __typename ... on PythonError { message } }
}"""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    job_name: str
    status: str
    tags: dict[str, str]


class DagsterApi:
    """GraphQL over HTTP; one code location, so the repository is found by name from the workspace."""

    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._selector: dict[str, str] | None = None

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables}, timeout=self.timeout_s
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors'][0].get('message')}")
        return body["data"]

    def runs(self, statuses: tuple[str, ...] | None = None, limit: int = 5000) -> list[RunInfo]:
        run_filter = {"statuses": list(statuses)} if statuses else {}
        data = self._query(_RUNS, {"filter": run_filter, "limit": limit})["runsOrError"]
        if data["__typename"] != "Runs":
            raise RuntimeError(f"runsOrError: {data.get('message')}")
        return [
            RunInfo(r["runId"], r["jobName"], r["status"], {t["key"]: t["value"] for t in r["tags"]})
            for r in data["results"]
        ]

    def status_counts(self) -> Counter[str]:
        return Counter(run.status for run in self.runs())

    def worker_pid(self, run_id: str) -> int | None:
        """The run worker's pid, from the engine event Dagster writes when the worker starts.

        The run worker of the default launcher is a `multiprocessing` spawn child of the code server, so
        its command line carries no run id; this event is the authoritative link between run and process.
        """
        data = self._query(_LOGS, {"runId": run_id})["logsForRun"]
        for event in data.get("events", []) if data["__typename"] == "EventConnection" else []:
            match = _PID.search(event.get("message") or "")
            if match:
                return int(match.group(1))
        return None

    def _repository(self) -> dict[str, str]:
        if self._selector is None:
            data = self._query(
                "{ repositoriesOrError { ... on RepositoryConnection"
                " { nodes { name location { name } } } } }",
                {},
            )
            node = data["repositoriesOrError"]["nodes"][0]
            self._selector = {
                "repositoryName": node["name"],
                "repositoryLocationName": node["location"]["name"],
            }
        return self._selector

    def launch(self, job_name: str, tags: dict[str, str] | None = None) -> str:
        params = {
            "selector": {**self._repository(), "jobName": job_name},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
        }
        result = self._query(_LAUNCH, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            detail = result.get("message") or result.get("errors") or result["__typename"]
            raise RuntimeError(f"launchRun {job_name}: {detail}")
        return str(result["run"]["runId"])

    def run_times(self, limit: int = 5000) -> list[dict[str, Any]]:
        """Each run's status with its creation, start and end times (epoch seconds; None until reached)."""
        return self._query(_TIMES, {"limit": limit})["runsOrError"]["results"]

    def terminate(self, run_id: str) -> None:
        self._query(_TERMINATE, {"runId": run_id})

    def wait(self, run_ids: list[str], timeout_s: float) -> dict[str, str]:
        """Status of each run once all are finished (or when the timeout is reached)."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = {run.run_id: run.status for run in self.runs() if run.run_id in run_ids}
            if all(status.get(r) in FINISHED for r in run_ids) or time.monotonic() > deadline:
                return status
            time.sleep(2)

    def wait_idle(self, timeout_s: float, drop_queued: bool = False) -> bool:
        """True once no run is in progress. `drop_queued`: runs still waiting in the queue are cancelled
        (they never started: nothing half-done) and only the started ones are waited for."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if drop_queued:
                self.drop_queued()
            if not self.runs(IN_PROGRESS):
                return True
            time.sleep(3)
        return False

    def drop_queued(self, keep: tuple[str, ...] = ()) -> int:
        """Cancel the runs that are queued and not started (but `keep`): how many were."""
        dropped = 0
        for run in self.runs(QUEUED):
            if run.run_id in keep:
                continue
            try:
                self.terminate(run.run_id)
                dropped += 1
            except (httpx.HTTPError, RuntimeError):
                continue  # it started meanwhile, or the webserver is busy: the next pass sees it
        return dropped
