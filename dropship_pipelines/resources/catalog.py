"""Every resource the code location uses, built once with its settings (secrets as `EnvVar`)."""

from typing import Any

import dagster as dg

from dropship_pipelines.resources.ad_policy import AdPolicy
from dropship_pipelines.resources.cj import CJDropshippingResource
from dropship_pipelines.resources.helpdesk import HelpdeskResource
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.support_policy import SupportPolicyResource
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource
from dropship_pipelines.settings import LIVE_CJ_BASE_URL, LIVE_OPENAI_BASE_URL, env


def build_resources() -> dict[str, Any]:
    return {
        "store_db": StoreDatabase(url=dg.EnvVar("STORE_DATABASE_URL")),
        "cj": CJDropshippingResource(
            base_url=env("CJ_BASE_URL", LIVE_CJ_BASE_URL),
            api_key=dg.EnvVar("CJ_API_KEY"),
            requests_per_second=float(env("CJ_REQUESTS_PER_SECOND", "4")),
            token_cache_dir=env("DROPSHIP_TOKEN_CACHE_DIR", ".data/tokens"),
        ),
        "shopify": ShopifyAdminResource(
            shop_url=dg.EnvVar("SHOPIFY_SHOP_URL"),
            access_token=dg.EnvVar("SHOPIFY_ACCESS_TOKEN"),
            api_version=env("SHOPIFY_API_VERSION", "2026-10"),
        ),
        "pricing": PricingPolicy.configure_at_launch(),  # operators may change the rule per run
        "llm": LlmResource(
            base_url=env("OPENAI_BASE_URL", LIVE_OPENAI_BASE_URL),
            api_key=dg.EnvVar("OPENAI_API_KEY"),
            model=env("OPENAI_MODEL", "gpt-4o-mini"),
        ),
        "helpdesk": HelpdeskResource(
            base_url=dg.EnvVar("HELPDESK_BASE_URL"),
            username=dg.EnvVar("HELPDESK_USERNAME"),
            api_key=dg.EnvVar("HELPDESK_API_KEY"),
            requests_per_second=float(env("HELPDESK_REQUESTS_PER_SECOND", "2")),
        ),
        "support_policy": SupportPolicyResource(),
        "meta_ads": MetaAdsResource(
            base_url=env("META_BASE_URL", "https://graph.facebook.com"),
            api_version=env("META_API_VERSION", "v26.0"),
            access_token=dg.EnvVar("META_ACCESS_TOKEN"),
            ad_account_id=dg.EnvVar("META_AD_ACCOUNT_ID"),
            page_id=env("META_PAGE_ID", ""),
        ),
        "tiktok_ads": TikTokAdsResource(
            base_url=env("TIKTOK_BASE_URL", "https://business-api.tiktok.com/open_api/v1.3"),
            access_token=dg.EnvVar("TIKTOK_ACCESS_TOKEN"),
            advertiser_id=dg.EnvVar("TIKTOK_ADVERTISER_ID"),
        ),
        "ad_policy": AdPolicy(
            store_url=env("STORE_PUBLIC_URL", "https://sandbox-store.myshopify.com"),
            media_dir=env("DROPSHIP_MEDIA_DIR", ".data/media"),
        ),
    }
