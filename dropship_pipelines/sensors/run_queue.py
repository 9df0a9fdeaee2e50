"""The runs a sensor's job has waiting in the queue: a run that has not started yet will read whatever the
sensor saw, so a sensor asks for another only when none waits (else a burst of events, or a slow queue,
piles up runs that each find nothing left to do)."""

import dagster as dg

# Runs that have not read their source yet: queued, or dequeued with their worker not yet started.
WAITING_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]
# Runs that hold (or wait for) a place in the run queue's limits.
IN_PROGRESS_STATUSES = [
    *WAITING_STATUSES,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def job_runs(
    context: dg.SensorEvaluationContext, job_name: str, statuses: list[dg.DagsterRunStatus]
) -> list[dg.DagsterRun]:
    """The job's runs in `statuses`, newest first; none for a context built without an instance (a test's)."""
    try:
        instance = context.instance
    except dg.DagsterInvariantViolationError:
        return []
    return list(instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=statuses)))


def waiting_runs(context: dg.SensorEvaluationContext, job_name: str) -> list[dg.DagsterRun]:
    """The job's runs that have yet to start."""
    return job_runs(context, job_name, WAITING_STATUSES)


def waiting_run_for(context: dg.SensorEvaluationContext, job_name: str, asset: dg.AssetKey) -> str | None:
    """A waiting run of the job that materializes `asset` (a run of the whole job does), if one waits."""
    for run in waiting_runs(context, job_name):
        if run.asset_selection is None or asset in run.asset_selection:
            return run.run_id
    return None
