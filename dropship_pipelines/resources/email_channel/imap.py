"""One IMAP session through imapclient, its answers typed and its failures as the API errors."""

import contextlib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from dropship_pipelines.resources.errors import PermanentApiError, TransientApiError

API = "email"
FETCH_CHUNK = 200  # UIDs per FETCH: keeps each command line and answer bounded on big mailboxes
Security = Literal["ssl", "starttls", "none"]


@dataclass(frozen=True)
class Fetched:
    uid: int
    received_at: datetime
    flags: frozenset[str]
    literal: bytes | None  # the BODY[...] section asked for, if any


def _fetched(uid: int, data: dict[bytes, Any]) -> Fetched:
    received = data.get(b"INTERNALDATE")
    literal = next((v for k, v in data.items() if k.startswith(b"BODY[")), None)
    return Fetched(
        uid,
        received.astimezone(UTC) if isinstance(received, datetime) else datetime.now(UTC),
        frozenset(
            f.decode(errors="replace") if isinstance(f, bytes) else str(f) for f in data.get(b"FLAGS", ())
        ),
        bytes(literal) if literal is not None else None,
    )


class Mailbox:
    """A logged-in session: select a folder, search and fetch by UID, set flags, append."""

    def __init__(self, client: IMAPClient) -> None:
        self._client = client

    def select(self, folder: str, *, readonly: bool = False) -> tuple[int, int]:
        """Open `folder`; returns (UIDVALIDITY, message count)."""
        info = self._client.select_folder(folder, readonly=readonly)
        return int(info.get(b"UIDVALIDITY") or 0), int(info.get(b"EXISTS") or 0)

    def search(self, *criteria: str) -> list[int]:
        return sorted(int(u) for u in self._client.search(list(criteria)))

    def fetch(self, uids: list[int], items: list[str]) -> list[Fetched]:
        out: list[Fetched] = []
        for start in range(0, len(uids), FETCH_CHUNK):
            answer = self._client.fetch(uids[start : start + FETCH_CHUNK], items)
            out.extend(_fetched(uid, data) for uid, data in sorted(answer.items()))
        return out

    def fetch_positions(self, first: int, last: int, items: list[str]) -> list[Fetched]:
        """Messages by sequence number (`uid` then holds the position): the tail of a mailbox."""
        self._client.use_uid = False
        try:
            answer = self._client.fetch(list(range(first, last + 1)), items)
        finally:
            self._client.use_uid = True
        return [_fetched(number, data) for number, data in sorted(answer.items())]

    def add_flags(self, uids: list[int], flags: list[str]) -> None:
        if uids and flags:
            self._client.add_flags(uids, flags, silent=True)

    def remove_flags(self, uids: list[int], flags: list[str]) -> None:
        if uids and flags:
            self._client.remove_flags(uids, flags, silent=True)

    def ensure_folder(self, folder: str) -> None:
        if not self._client.folder_exists(folder):
            self._client.create_folder(folder)

    def append(self, folder: str, raw: bytes, *, flags: tuple[str, ...], received_at: datetime) -> None:
        self._client.append(folder, raw, flags=flags, msg_time=received_at)


@contextlib.contextmanager
def imap_session(
    host: str,
    port: int,
    *,
    user: str,
    password: str,
    security: Security,
    tls: Callable[[], ssl.SSLContext],
    timeout_s: float,
) -> Iterator[Mailbox]:
    """A logged-in session, logged out after; lost connections are transient, refusals permanent."""
    try:
        client = IMAPClient(
            host,
            port,
            ssl=security == "ssl",
            ssl_context=tls() if security == "ssl" else None,
            timeout=timeout_s,
        )
        if security == "starttls":
            client.starttls(tls())
    except (OSError, IMAPClientAbortError) as exc:
        raise TransientApiError(API, f"IMAP {host}:{port} unreachable: {exc}") from exc
    except IMAPClientError as exc:
        raise PermanentApiError(API, f"IMAP {host}:{port} refused TLS: {exc}") from exc
    client.normalise_times = False  # INTERNALDATE with its zone, not as naive local time
    try:
        try:
            client.login(user, password)
        except IMAPClientAbortError as exc:
            raise TransientApiError(API, f"IMAP login interrupted: {exc}") from exc
        except IMAPClientError as exc:
            raise PermanentApiError(
                API, f"IMAP login refused ({exc}): check EMAIL_IMAP_USER / EMAIL_IMAP_PASSWORD"
            ) from exc
        try:
            yield Mailbox(client)
        except (OSError, IMAPClientAbortError) as exc:
            raise TransientApiError(API, f"IMAP connection lost: {exc}") from exc
        except IMAPClientError as exc:
            raise PermanentApiError(API, f"IMAP refused a command: {exc}") from exc
    finally:
        with contextlib.suppress(OSError, IMAPClientError):
            client.logout()
