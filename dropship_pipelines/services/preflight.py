"""The preflight: is everything the workflows need in place, at whatever the environment points at?

Read-only by construction (only reads and the probes of `resources/readiness.py`; the one model call is
a one-token completion). Each check gives a row: area, check, ok / fail / warn, what was found, and for
anything not ok the fix. Checks:

- Shopify: credentials and the API version served (Shopify falls forward from a retired one), the
  access scopes the workflows need, and a webhook subscription for every topic they consume;
- CJ: credentials, the wallet balance supplier orders are paid from, a shipping route to each main
  market, and the message settings (from the ledger: CJ cannot read them back);
- Meta: the ad account's status, the pixel; TikTok: the advertiser's status, the identity, the pixel;
- OpenAI: one cheap call (a key without credit answers `insufficient_quota`);
- the support channel: one read.

A resource that cannot even be built (a variable unset, a pixel id missing) is a failed row too, with the
variable to set: the table is always printed whole.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.engine import Engine

from dropship_pipelines.alerts.redact import redact, secret_values
from dropship_pipelines.resources import readiness
from dropship_pipelines.resources.ad_platforms import AdPlatformAuthError
from dropship_pipelines.resources.cj import account as cj_account
from dropship_pipelines.resources.errors import ApiError, TransientApiError
from dropship_pipelines.resources.shopify import webhooks as shopify_webhooks
from dropship_pipelines.resources.supplier import BasketLine
from dropship_pipelines.services.webhook_subscriptions import CJ_TOPIC, NOT_CONFIGURED, callback_urls
from dropship_pipelines.settings import env
from dropship_pipelines.store import write_mode_queries as q

Status = Literal["ok", "warn", "fail"]
# What the workflows do at Shopify: list products, read and change orders, fulfil (and hold) their
# fulfillment orders, read the delivery profiles free-shipping claims come from (a write scope grants its
# read scope too).
SHOPIFY_SCOPES = (
    "write_products",
    "write_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_shipping",
)
DEFAULT_MARKETS = "US,GB,DE,CA,AU"
DEFAULT_MIN_CJ_BALANCE = "50"
WEBHOOK_FIX = (
    "run `dagster job execute -m dropship_pipelines.definitions -j webhook_subscriptions_job` (the "
    "webhook_subscriptions_sensor does it when the daemon starts)"
)
# The fix when an API refuses our credentials, per service.
CREDENTIAL_FIXES = {
    "shopify": "put the app's Admin API access token in SHOPIFY_ACCESS_TOKEN (Shopify admin > Apps > "
    "Develop apps > your app > API credentials) and the shop's URL in SHOPIFY_SHOP_URL",
    "cj": "put the API key from CJ (My CJ > Authorization > API) in CJ_API_KEY",
    "openai": "put a valid key in OPENAI_API_KEY (platform.openai.com > API keys)",
    "helpdesk": "check HELPDESK_USERNAME / HELPDESK_API_KEY (Gorgias > Settings > REST API)",
    "email": "check the EMAIL_IMAP_* / EMAIL_SMTP_* settings",
    "meta": "put a system-user token with ads_management in META_ACCESS_TOKEN",
    "tiktok": "re-authorise the app and put the long-lived token in TIKTOK_ACCESS_TOKEN",
}


@dataclass(frozen=True)
class Check:
    area: str
    check: str
    status: Status
    detail: str
    fix: str = ""


OpenResource = Callable[[str], AbstractContextManager[Any]]


def _clean(text: str) -> str:
    return redact(str(text), secret_values(os.environ))[:300]


def _fix_for(error: Exception, api: str) -> str:
    if isinstance(error, AdPlatformAuthError):
        return _clean(str(error).split(". ", 1)[-1])  # its message ends with what to do
    if isinstance(error, TransientApiError):
        return f"{api} did not answer properly just now: run the preflight again (if it persists: its status)"
    if isinstance(error, ApiError) and error.code in (401, 403, 1600001, 1600005, 40001, 40100, 190):
        return CREDENTIAL_FIXES.get(api, "check the service's credentials")
    if isinstance(error, ApiError):
        return CREDENTIAL_FIXES.get(api, "check the service's settings")
    # Not an API answer: the resource could not be built (a variable unset or invalid).
    return f"set the {api} settings named in the error (see .env.example)"


class _Checks:
    def __init__(self) -> None:
        self.rows: list[Check] = []

    def add(self, area: str, check: str, status: Status, detail: str, fix: str = "") -> None:
        self.rows.append(Check(area, check, status, _clean(detail), fix if status != "ok" else ""))

    def failed(self, area: str, check: str, error: Exception, api: str) -> None:
        self.add(area, check, "fail", str(error), _fix_for(error, api))


def _opened(checks: _Checks, open_resource: OpenResource, name: str, area: str, api: str) -> Iterator[Any]:
    """Yield the built resource once, or record why it could not be built."""
    try:
        manager = open_resource(name)
        resource = manager.__enter__()
    except Exception as error:  # a missing variable or setting: the check says which
        checks.failed(area, "settings", error, api)
        return
    try:
        yield resource
    finally:
        manager.__exit__(None, None, None)


def _shopify(checks: _Checks, shopify: Any) -> None:
    area = "Shopify"
    try:
        name, served = readiness.shopify_served_version(shopify)
    except ApiError as error:
        if error.code == "VERSION":
            checks.add(
                area,
                "API version",
                "fail",
                str(error),
                "set SHOPIFY_API_VERSION to a supported YYYY-MM release (shopify.dev/docs/api/usage/versioning)",  # noqa: E501
            )
        else:
            checks.failed(area, "credentials", error, "shopify")
        return
    checks.add(area, "credentials", "ok", f"shop {name}")
    if served and served != shopify.api_version:
        checks.add(
            area,
            "API version",
            "warn",
            f"asked for {shopify.api_version}, Shopify served {served} (the version asked for is retired)",
            f"set SHOPIFY_API_VERSION={served} or newer, after checking the release notes",
        )
    else:
        checks.add(area, "API version", "ok", served or shopify.api_version)
    try:
        held = set(shopify_webhooks.access_scopes(shopify))
    except ApiError as error:
        checks.failed(area, "access scopes", error, "shopify")
    else:
        missing = [s for s in SHOPIFY_SCOPES if s not in held]
        if missing:
            checks.add(
                area,
                "access scopes",
                "fail",
                f"missing {', '.join(missing)} (granted: {', '.join(sorted(held)) or 'none'})",
                f"grant {', '.join(missing)} to the app (Shopify admin > Apps > Develop apps > Configuration"
                " > Admin API access scopes), reinstall it and put the new token in SHOPIFY_ACCESS_TOKEN",
            )
        else:
            checks.add(area, "access scopes", "ok", ", ".join(SHOPIFY_SCOPES))
    urls = callback_urls()
    if urls is None:
        checks.add(area, "webhook subscriptions", "fail", "no callback URL", NOT_CONFIGURED)
        return
    try:
        existing = shopify_webhooks.webhook_subscriptions(shopify)
    except ApiError as error:
        checks.failed(area, "webhook subscriptions", error, "shopify")
        return
    ours = {s.topic for s in existing if s.callback_url == urls.shopify}
    missing = [t for t in shopify_webhooks.TOPICS if t not in ours]
    if missing:
        checks.add(
            area, "webhook subscriptions", "fail", f"not subscribed: {', '.join(missing)} -> {urls.shopify}",
            WEBHOOK_FIX,
        )  # fmt: skip
    else:
        checks.add(area, "webhook subscriptions", "ok", f"{len(ours)} topics -> {urls.shopify}")


def _cj(checks: _Checks, cj: Any, engine: Engine | None) -> None:
    area = "CJ"
    try:
        balance = cj_account.balance(cj)
    except ApiError as error:
        checks.failed(area, "credentials", error, "cj")
        return
    checks.add(area, "credentials", "ok", "authenticated")
    floor = Decimal(env("PREFLIGHT_MIN_CJ_BALANCE", DEFAULT_MIN_CJ_BALANCE))
    if balance < floor:
        checks.add(
            area,
            "wallet balance",
            "fail",
            f"USD {balance:.2f}, under USD {floor:.2f}: supplier orders would be refused (1604000)",
            "top up the CJ wallet (My CJ > Wallet > Recharge) before orders come in",
        )
    else:
        checks.add(area, "wallet balance", "ok", f"USD {balance:.2f}")
    markets = [m.strip().upper() for m in env("PREFLIGHT_MARKETS", DEFAULT_MARKETS).split(",") if m.strip()]
    try:
        page = cj.catalog_page(1, size=10)
        sample = next(p for p in page.products if p.pid and not getattr(p, "malformed", None))
        detail = cj.product_detail(sample.pid)
        vid = detail.variants[0].vid
    except (ApiError, StopIteration, IndexError) as error:
        checks.add(
            area, "logistics", "fail", f"no sample product to quote: {error}", "check CJ's product API"
        )
        return
    for country in markets:
        try:
            options = cj.freight_options(country, [BasketLine(vid, 1)])
        except ApiError as error:
            checks.add(
                area, f"logistics {country}", "fail", str(error),
                f"CJ quotes no shipping to {country}: drop it from PREFLIGHT_MARKETS or stop selling there",
            )  # fmt: skip
            continue
        if not options:
            checks.add(
                area, f"logistics {country}", "fail", "no shipping route",
                f"CJ has no route to {country} for the sample product: pick products shipped from a "
                f"warehouse that serves {country}",
            )  # fmt: skip
        else:
            best = min(options, key=lambda o: o.price)
            checks.add(area, f"logistics {country}", "ok", f"{len(options)} routes, from USD {best.price}")
    urls = callback_urls()
    if urls is None:
        checks.add(area, "webhook settings", "fail", "no callback URL", NOT_CONFIGURED)
        return
    rows = []
    if engine is not None:
        with engine.connect() as conn:
            rows = [r for r in q.subscription_rows(conn, "cj") if r["topic"] == CJ_TOPIC]
    if rows and rows[0]["state"] == "registered" and rows[0]["callback_url"] == urls.cj:
        checks.add(
            area,
            "webhook settings",
            "ok",
            f"set {rows[0]['checked_at']} -> {urls.cj} (CJ cannot be read back)",
        )
    else:
        found = f"{rows[0]['state']}: {rows[0]['error'] or rows[0]['callback_url']}" if rows else "never set"
        checks.add(area, "webhook settings", "fail", found, WEBHOOK_FIX)


def _meta(checks: _Checks, meta: Any) -> None:
    area = "Meta"
    try:
        account = readiness.meta_account(meta)
    except ApiError as error:
        if error.code == 2635:
            checks.add(area, "API version", "fail", str(error), "set META_API_VERSION to a current vNN.0")
        else:
            checks.failed(area, "ad account", error, "meta")
        return
    status = readiness.META_ACCOUNT_STATUS.get(int(account.get("account_status") or 0), "UNKNOWN")
    if status == "ACTIVE":
        checks.add(area, "ad account", "ok", f"{account.get('name')} ({meta._account}) ACTIVE")
    else:
        checks.add(
            area, "ad account", "fail", f"{meta._account} is {status}",
            "settle the account in Meta Business Settings > Billing (or pick an active account in "
            "META_AD_ACCOUNT_ID)",
        )  # fmt: skip
    try:
        pixel = readiness.meta_pixel(meta)
    except ApiError as error:
        checks.add(
            area, "pixel", "fail", str(error),
            f"META_PIXEL_ID {meta.pixel_id} cannot be read: create the pixel in Events Manager (or give the "
            "system user access to it) and set META_PIXEL_ID to its id",
        )  # fmt: skip
    else:
        checks.add(area, "pixel", "ok", f"{pixel.get('name') or ''} ({pixel.get('id')})")


def _tiktok(checks: _Checks, tiktok: Any) -> None:
    area = "TikTok"
    try:
        advertiser = readiness.tiktok_advertiser(tiktok)
    except ApiError as error:
        checks.failed(area, "advertiser", error, "tiktok")
        return
    if advertiser.get("status") == "STATUS_ENABLE":
        checks.add(
            area, "advertiser", "ok", f"{advertiser.get('name')} ({tiktok.advertiser_id}) STATUS_ENABLE"
        )
    else:
        checks.add(
            area, "advertiser", "fail", f"{tiktok.advertiser_id} is {advertiser.get('status')}",
            "resolve the account's review or payment in TikTok Ads Manager (or set TIKTOK_ADVERTISER_ID)",
        )  # fmt: skip
    try:
        identities = readiness.tiktok_identities(tiktok)
        pixels = readiness.tiktok_pixels(tiktok)
    except ApiError as error:
        checks.failed(area, "identity and pixel", error, "tiktok")
        return
    if tiktok.identity_id and not any(str(i.get("identity_id")) == tiktok.identity_id for i in identities):
        checks.add(
            area, "identity", "fail", f"{tiktok.identity_type} {tiktok.identity_id} not found",
            "create the identity in Ads Manager > Assets > Identities and set TIKTOK_IDENTITY_ID to its id",
        )  # fmt: skip
    else:
        checks.add(area, "identity", "ok", f"{tiktok.identity_type} {tiktok.identity_id or '(none needed)'}")
    if not any(str(p.get("pixel_id")) == tiktok.pixel_id for p in pixels):
        checks.add(
            area, "pixel", "fail", f"pixel {tiktok.pixel_id} not found",
            "create the pixel in Events Manager and set TIKTOK_PIXEL_ID to its id",
        )  # fmt: skip
    else:
        checks.add(area, "pixel", "ok", tiktok.pixel_id)


def _openai(checks: _Checks, llm: Any) -> None:
    try:
        model = readiness.openai_ping(llm)
    except ApiError as error:
        fix = _fix_for(error, "openai")
        if error.code == readiness.OPENAI_QUOTA_CODE:
            fix = (
                "add credit or raise the usage limit (platform.openai.com > Settings > Billing / Limits); "
                "until then no copy or reply can be written"
            )
        elif error.code == 404:
            fix = "set OPENAI_MODEL to a model this key may use"
        checks.add("OpenAI", "quota", "fail", str(error), fix)
        return
    checks.add("OpenAI", "quota", "ok", f"one-token call answered by {model}")


def _support(checks: _Checks, channel: Any) -> None:
    try:
        newest = channel.newest_received_at()
    except ApiError as error:
        checks.failed("Support", "credentials", error, getattr(error, "api", "helpdesk"))
        return
    checks.add("Support", "credentials", "ok", f"newest message {newest or 'none yet'}")


Section = Callable[[_Checks, Any, Engine | None], None]
SECTIONS: tuple[tuple[str, str, str, Section], ...] = (
    # (resource, area, api, its checks)
    ("shopify", "Shopify", "shopify", lambda c, r, _e: _shopify(c, r)),
    ("supplier", "CJ", "cj", _cj),
    ("meta_ads", "Meta", "meta", lambda c, r, _e: _meta(c, r)),
    ("tiktok_ads", "TikTok", "tiktok", lambda c, r, _e: _tiktok(c, r)),
    ("llm", "OpenAI", "openai", lambda c, r, _e: _openai(c, r)),
    ("helpdesk", "Support", "helpdesk", lambda c, r, _e: _support(c, r)),
)


def run_preflight(open_resource: OpenResource, engine: Engine | None) -> list[Check]:
    """Every check, in a fixed order; `open_resource(name)` builds one resource of the code location."""
    checks = _Checks()
    for name, area, api, section in SECTIONS:
        for resource in _opened(checks, open_resource, name, area, api):
            try:
                section(checks, resource, engine)
            except Exception as error:  # a check that broke is a failed row, never a missing table
                checks.add(
                    area, "unexpected error", "fail", f"{type(error).__name__}: {error}", _fix_for(error, api)
                )
    return checks.rows


def ready(rows: list[Check]) -> bool:
    return not any(r.status == "fail" for r in rows)


def render(rows: list[Check]) -> str:
    """The readiness table as text (what the job prints)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Readiness", title_justify="left")
    for column in ("area", "check", "status", "found", "fix"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.area, r.check, r.status.upper(), r.detail, r.fix)
    console = Console(width=200, record=True, force_terminal=False)
    with console.capture() as captured:
        console.print(table)
    return captured.get()
