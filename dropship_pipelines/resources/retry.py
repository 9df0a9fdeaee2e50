"""Backoff shared by the API resources: honours Retry-After and throttle hints, else exponential jitter."""

import logging
from collections.abc import Callable
from typing import TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from dropship_pipelines.resources.errors import TransientApiError

T = TypeVar("T")
log = logging.getLogger("dropship_pipelines.api")
RETRYABLE = (TransientApiError, httpx.TransportError)


def _wait(max_wait_s: float) -> Callable[[RetryCallState], float]:
    exponential = wait_random_exponential(multiplier=0.25, max=max_wait_s)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", None)
        if hinted is not None:
            return min(float(hinted), max_wait_s)
        return exponential(state)

    return wait


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("retrying after attempt %d: %s", state.attempt_number, error)


def call_with_retries(fn: Callable[[], T], *, max_attempts: int, max_wait_s: float = 30.0) -> T:
    """Run `fn`, retrying transient failures; the last error is raised as is."""
    retrying = Retrying(
        retry=retry_if_exception_type(RETRYABLE),
        stop=stop_after_attempt(max_attempts),
        wait=_wait(max_wait_s),
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(fn)
