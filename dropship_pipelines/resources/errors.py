"""Errors every API resource raises, so assets can tell "try again later" from "this record is bad"."""

import httpx


class ApiError(Exception):
    """An external API refused a call. `api` names the service; the message says what to fix."""

    def __init__(self, api: str, message: str, *, code: str | int | None = None) -> None:
        # Clients re-raise an error as a narrower one with `str(error)` as the message, and some state the
        # code in their own words ("(code 100/33)"): the service's name and the code are said once.
        message = message.removeprefix(f"{api}: ")
        stated = code is None or f"(code {code}" in message
        super().__init__(f"{api}: {message}" + ("" if stated else f" (code {code})"))
        self.api = api
        self.code = code


class TransientApiError(ApiError):
    """Rate limits, 5xx, timeouts: the same call may succeed later. `retry_after` in seconds, if known."""

    def __init__(
        self, api: str, message: str, *, code: str | int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(api, message, code=code)
        self.retry_after = retry_after


class PermanentApiError(ApiError):
    """The call will fail the same way until something changes (bad input, missing record, bad auth)."""


class PayloadError(ApiError):
    """The API answered, but not in the shape its contract promises."""


def raise_if_retryable(api: str, response: httpx.Response, message: str) -> None:
    """TransientApiError when the service throttled the call (429) or failed on its side (5xx), carrying the
    wait its `Retry-After` header asks for."""
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After")
        raise TransientApiError(
            api,
            message,
            code=response.status_code,
            retry_after=float(retry_after) if retry_after else None,
        )
