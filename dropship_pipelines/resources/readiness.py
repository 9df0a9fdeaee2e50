"""Read-only probes the preflight makes of each API (what only its client knows: paths, fields, codes).

Each returns what the service said, parsed; failures raise the clients' `ApiError`s. None of these
writes anything: a readiness check against the live services is safe at any time.
"""

from typing import Any

import httpx

from dropship_pipelines.resources.errors import PayloadError, PermanentApiError, TransientApiError
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource

# Meta's `account_status` values (AdAccount reference); only ACTIVE runs ads.
META_ACCOUNT_STATUS = {
    1: "ACTIVE",
    2: "DISABLED",
    3: "UNSETTLED",
    7: "PENDING_RISK_REVIEW",
    8: "PENDING_SETTLEMENT",
    9: "IN_GRACE_PERIOD",
    100: "PENDING_CLOSURE",
    101: "CLOSED",
    201: "ANY_ACTIVE",
    202: "ANY_CLOSED",
}
OPENAI_QUOTA_CODE = "insufficient_quota"
SHOP_QUERY = "query Shop { shop { name myshopifyDomain } }"


def shopify_served_version(shopify: ShopifyAdminResource) -> tuple[str, str | None]:
    """(the shop's name, the API version Shopify served: `X-Shopify-API-Version`, which differs from the
    one asked for when that one is no longer supported and Shopify fell forward). A 404 means Shopify does
    not know the version at all."""
    response = httpx.post(
        shopify.endpoint,
        json={"query": SHOP_QUERY, "operationName": "Shop"},
        headers={"X-Shopify-Access-Token": shopify.access_token},
        timeout=shopify.timeout_s,
    )
    if response.status_code == 401:
        raise PermanentApiError("shopify", "invalid access token; check SHOPIFY_ACCESS_TOKEN", code=401)
    if response.status_code == 404:
        raise PermanentApiError(
            "shopify", f"API version {shopify.api_version!r} does not exist (HTTP 404)", code="VERSION"
        )
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientApiError("shopify", f"HTTP {response.status_code}", code=response.status_code)
    try:
        body = response.json()
        name = body["data"]["shop"]["name"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadError("shopify", f"shop query: HTTP {response.status_code}, unexpected answer") from exc
    return name, response.headers.get("X-Shopify-API-Version")


def meta_account(meta: MetaAdsResource) -> dict[str, Any]:
    """`GET act_<id>?fields=account_status,name,currency`."""
    return meta._call(
        lambda: meta._request("GET", meta._account, params={"fields": "account_status,name,currency"})
    )


def meta_pixel(meta: MetaAdsResource) -> dict[str, Any]:
    """`GET <pixel id>?fields=id,name`: the pixel exists and this token may use it."""
    return meta._call(lambda: meta._request("GET", meta.pixel_id, params={"fields": "id,name"}))


def tiktok_advertiser(tiktok: TikTokAdsResource) -> dict[str, Any]:
    """`GET /advertiser/info/`: the advertiser account, with its `status` (STATUS_ENABLE runs ads)."""
    data = tiktok._call(
        lambda: tiktok._request(
            "GET",
            "/advertiser/info/",
            params={"advertiser_ids": [tiktok.advertiser_id], "fields": ["name", "status", "currency"]},
        )
    )
    rows = (data or {}).get("list") or []
    if not rows:
        raise PermanentApiError("tiktok", f"advertiser {tiktok.advertiser_id} not found", code="NOT_FOUND")
    return rows[0]


def tiktok_identities(tiktok: TikTokAdsResource) -> list[dict[str, Any]]:
    """`GET /identity/get/` of the configured identity type."""
    data = tiktok._call(
        lambda: tiktok._request(
            "GET", "/identity/get/", params={"identity_type": tiktok.identity_type, "page_size": 100}
        )
    )
    return list((data or {}).get("identity_list") or [])


def tiktok_pixels(tiktok: TikTokAdsResource) -> list[dict[str, Any]]:
    """`GET /pixel/list/` filtered to the configured pixel."""
    data = tiktok._call(
        lambda: tiktok._request("GET", "/pixel/list/", params={"pixel_id": tiktok.pixel_id, "page_size": 20})
    )
    return list((data or {}).get("pixels") or [])


def openai_ping(llm: LlmResource) -> str:
    """One completion of one token (the cheapest call that draws on the quota); the model that answered.
    `insufficient_quota` (429), a bad key (401) or an unknown model (404) raise PermanentApiError with
    OpenAI's code; a plain rate limit or a 5xx raises TransientApiError."""
    import openai

    try:
        completion = llm._client().chat.completions.create(
            model=llm.model,
            messages=[{"role": "user", "content": "Reply with OK."}],
            max_completion_tokens=1,
        )
    except openai.RateLimitError as exc:
        code = (exc.body or {}).get("code") if isinstance(exc.body, dict) else None
        if code == OPENAI_QUOTA_CODE:
            raise PermanentApiError(
                "openai", "insufficient_quota: the account has no credit left", code=code
            ) from exc
        raise TransientApiError("openai", f"rate limited: {exc.message}", code=429) from exc
    except openai.AuthenticationError as exc:
        raise PermanentApiError("openai", "invalid API key; check OPENAI_API_KEY", code=401) from exc
    except openai.NotFoundError as exc:
        raise PermanentApiError("openai", f"model {llm.model!r} not found", code=404) from exc
    except openai.APIStatusError as exc:
        error = TransientApiError if exc.status_code >= 500 else PermanentApiError
        raise error("openai", f"HTTP {exc.status_code}: {exc.message}", code=exc.status_code) from exc
    except openai.APIConnectionError as exc:
        raise TransientApiError("openai", f"cannot reach {llm.base_url}: {exc}") from exc
    return completion.model
