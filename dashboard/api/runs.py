"""Launching a workflow run now, through the Dagster webserver's GraphQL API."""

from typing import Protocol

DEFAULT_JOBS = (
    "product_discovery_job",
    "order_fulfillment_job",
    "customer_service_job",
    "ad_launch_job",
    "ad_optimization_job",
    "analytics_job",
)


class RunLaunchError(Exception):
    """Dagster is down or refused the run; the message is safe to show to the operator."""


class RunLauncher(Protocol):
    def launch(self, job_name: str) -> str: ...


class DagsterLauncher:
    """`DagsterGraphQLClient(host, port).submit_job_execution(job)`; one code location, so no names needed."""

    def __init__(self, host: str, port: int, timeout_s: int = 15) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    def launch(self, job_name: str) -> str:
        from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

        try:
            client = DagsterGraphQLClient(self.host, port_number=self.port, timeout=self.timeout_s)
            return client.submit_job_execution(job_name)
        except DagsterGraphQLClientError as exc:
            first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise RunLaunchError(f"Dagster refused the run of {job_name}: {first_line}") from exc
        except Exception as exc:  # connection refused, timeout: the webserver is not there
            raise RunLaunchError(
                f"cannot reach the Dagster webserver at {self.host}:{self.port} ({type(exc).__name__})"
            ) from exc
