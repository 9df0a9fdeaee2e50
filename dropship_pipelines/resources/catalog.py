"""Every resource the code location uses, built once with its settings (secrets as `EnvVar`)."""

from typing import Any

import dagster as dg

from dropship_pipelines.resources.cj import CJDropshippingResource
from dropship_pipelines.resources.helpdesk import HelpdeskResource
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.support_policy import SupportPolicyResource
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
        "pricing": PricingPolicy(),
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
    }
