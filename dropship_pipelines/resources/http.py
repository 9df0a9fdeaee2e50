"""The HTTP connection pool every API client keeps: one `httpx.Client` per resource instance."""

import threading
import weakref

import httpx


class PooledHttp:
    """One pooled `httpx.Client` per resource instance, made on first use.

    Lazily, so it also works on an instance used outside a run (the dashboard's pause action), where no
    setup hook runs; there is no teardown hook either, as `process_config_and_initialize()` refuses
    resources that have one. The pool closes when the instance that holds it is garbage-collected."""

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def client(self, timeout_s: float) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=timeout_s)
                weakref.finalize(self, self._client.close)
            return self._client
