"""Who may see the dashboard: the holder of DASHBOARD_TOKEN, as a bearer token or via a login session.

- `Authorization: Bearer <token>`: scripts and tests; not sent by a browser on its own, so no CSRF risk.
- Session cookie from `POST /api/login`: HttpOnly, SameSite=Strict, random id, server-side, expires.
  Every action made with it must carry the session's CSRF token in `X-CSRF-Token` (double submit: a
  page on another origin can make the browser send the cookie, but cannot read the token).
"""

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Request

SESSION_COOKIE = "dashboard_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Principal:
    via: str  # bearer | session
    csrf_token: str | None = None

    def may_act(self, sent_csrf_token: str) -> bool:
        """A bearer token acts as it is; a cookie session only with its own CSRF token."""
        if self.via != "session":
            return True
        return bool(sent_csrf_token) and hmac.compare_digest(
            sent_csrf_token.encode(), (self.csrf_token or "").encode()
        )


@dataclass
class _Session:
    csrf_token: str
    expires_at: float


class Authenticator:
    def __init__(self, token: str, session_seconds: int = 12 * 3600) -> None:
        if len(token) < 12:
            raise ValueError("DASHBOARD_TOKEN must be at least 12 characters")
        self._token = token.encode()
        self.session_seconds = session_seconds
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self._token)

    def open_session(self) -> tuple[str, str]:
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
            self._sessions[session_id] = _Session(csrf, now + self.session_seconds)
        return session_id, csrf

    def close_session(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)

    def session(self, session_id: str | None) -> _Session | None:
        if not session_id:
            return None
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None or found.expires_at <= time.monotonic():
                self._sessions.pop(session_id, None)
                return None
            return found

    def principal(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials and self.token_matches(credentials.strip()):
            return Principal("bearer")
        found = self.session(request.cookies.get(SESSION_COOKIE))
        if found is not None:
            return Principal("session", found.csrf_token)
        return None
