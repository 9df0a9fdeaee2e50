"""What an alert may not carry: secrets and customers' personal data. Pure functions, no I/O."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
# Env var names whose values are credentials (CJ_API_KEY, SHOPIFY_ACCESS_TOKEN, ALERT_SMTP_PASSWORD, ...).
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|DSN)", re.IGNORECASE)
# Shorter values would redact common words ("test", "1234") and make the message unreadable.
MIN_SECRET_LENGTH = 6
# Record fields that identify a customer; matched on the field name so nested API payloads are covered.
PII_FIELDS = re.compile(
    r"(e-?mail|phone|address|street|zip|postal|first_?name|last_?name|full_?name|customer_?name|"
    r"shipping_?name|recipient|contact)",
    re.IGNORECASE,
)
SECRET_FIELDS = re.compile(r"(api_?key|token|secret|password|authorization|cookie|signature|hmac)", re.I)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # URL credentials: postgresql+psycopg2://user:pass@host -> user:[redacted]@host
    (re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@", re.I), r"\g<head>" + REDACTED + "@"),
    (re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}", re.I), r"\1 " + REDACTED),
    # key=value / "key": "value" pairs in query strings, headers and JSON-ish error bodies
    (
        re.compile(
            r"(?P<key>[\"']?(?:access_?token|api_?key|apikey|token|secret|password|passwd|client_secret|"
            r"x-shopify-access-token|cj-access-token|access-token)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+",
            re.I,
        ),
        r"\g<key>" + REDACTED,
    ),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
)
_PHONE_CANDIDATE = re.compile(r"(?<![\w/.:-])\+?\d[\d ()-]{6,}\d(?![\w/.-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone(match: re.Match[str]) -> str:
    """+15550101234 or (555) 010-1234 is a phone; ids (plain digits) and dates are not."""
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    international = text.startswith("+") and digits >= 8
    separated = digits >= 10 and any(c in text for c in " ()-") and not _DATE.search(text)
    return "[phone]" if international or separated else text


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values of the environment's credential variables, longest first (so no secret is half-replaced)."""
    values = {v for k, v in environ.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any of `secrets`, credentials in URLs/headers/key=value pairs, e-mails or phones."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _PHONE_CANDIDATE.sub(_phone, text)


def redact_value(value: Any, secrets: Iterable[str] = (), field: str = "") -> Any:
    """A record (dicts, lists, scalars) with PII and secret fields blanked and every string redacted."""
    secrets = list(secrets)
    if field and (PII_FIELDS.search(field) or SECRET_FIELDS.search(field)) and value not in (None, ""):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact_value(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, secrets) for v in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value
