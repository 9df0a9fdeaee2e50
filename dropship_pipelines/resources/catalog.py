"""Every resource the code location uses, built once with its settings (secrets as `EnvVar`)."""

from typing import TYPE_CHECKING, Any

import dagster as dg

from dropship_pipelines.resources.ad_policy import AdPolicyResource
from dropship_pipelines.resources.cj.client import CJDropshippingResource
from dropship_pipelines.resources.helpdesk import HelpdeskResource
from dropship_pipelines.resources.llm import LlmResource
from dropship_pipelines.resources.meta_ads import MetaAdsResource
from dropship_pipelines.resources.order_gate_policy import order_gate_policy
from dropship_pipelines.resources.pricing import PricingPolicy
from dropship_pipelines.resources.shopify.client import ShopifyAdminResource
from dropship_pipelines.resources.store_db import StoreDatabase
from dropship_pipelines.resources.support_policy import SupportPolicyResource
from dropship_pipelines.resources.tiktok_ads import TikTokAdsResource
from dropship_pipelines.settings import LIVE_CJ_BASE_URL, LIVE_OPENAI_BASE_URL, env, image_hosts

if TYPE_CHECKING:  # imported by `support_channel` for a store that uses it
    from dropship_pipelines.resources.email_channel.resource import EmailChannelResource


def support_channel() -> "HelpdeskResource | EmailChannelResource":
    """The helpdesk API, or for a store without one (SUPPORT_CHANNEL=email) its support mailbox."""
    if env("SUPPORT_CHANNEL", "helpdesk") == "email":
        # Imported only here: the mailbox brings imapclient and the MIME stack, which loading the code
        # location for a store on the helpdesk (every `dagster job execute`) does not need.
        from dropship_pipelines.resources.email_channel.resource import EmailChannelResource

        return EmailChannelResource(
            imap_host=dg.EnvVar("EMAIL_IMAP_HOST"),
            imap_port=dg.EnvVar.int("EMAIL_IMAP_PORT"),
            imap_user=dg.EnvVar("EMAIL_IMAP_USER"),
            imap_password=dg.EnvVar("EMAIL_IMAP_PASSWORD"),
            imap_security=env("EMAIL_IMAP_SECURITY", "ssl"),  # type: ignore[arg-type]
            smtp_host=dg.EnvVar("EMAIL_SMTP_HOST"),
            smtp_port=dg.EnvVar.int("EMAIL_SMTP_PORT"),
            # A local relay may take mail without AUTH: then neither variable needs to exist.
            smtp_user=env("EMAIL_SMTP_USER", ""),
            smtp_password=dg.EnvVar("EMAIL_SMTP_PASSWORD") if env("EMAIL_SMTP_USER", "") else "",
            smtp_security=env("EMAIL_SMTP_SECURITY", "starttls"),  # type: ignore[arg-type]
            from_address=dg.EnvVar("EMAIL_FROM"),
        )
    return HelpdeskResource(
        base_url=dg.EnvVar("HELPDESK_BASE_URL"),
        username=dg.EnvVar("HELPDESK_USERNAME"),
        api_key=dg.EnvVar("HELPDESK_API_KEY"),
        requests_per_second=float(env("HELPDESK_REQUESTS_PER_SECOND", "2")),
    )


def build_resources() -> dict[str, Any]:
    return {
        "store_db": StoreDatabase(url=dg.EnvVar("STORE_DATABASE_URL")),
        "supplier": CJDropshippingResource(  # any `Supplier`; CJ Dropshipping is the first
            base_url=env("CJ_BASE_URL", LIVE_CJ_BASE_URL),
            api_key=dg.EnvVar("CJ_API_KEY"),
            requests_per_second=float(env("CJ_REQUESTS_PER_SECOND", "4")),
            ip_requests_per_second=float(env("CJ_IP_REQUESTS_PER_SECOND", "10")),
            token_cache_dir=env("DROPSHIP_TOKEN_CACHE_DIR", ".data/tokens"),
        ),
        "shopify": ShopifyAdminResource(
            shop_url=dg.EnvVar("SHOPIFY_SHOP_URL"),
            access_token=dg.EnvVar("SHOPIFY_ACCESS_TOKEN"),
            api_version=env("SHOPIFY_API_VERSION", "2026-10"),
        ),
        "pricing": PricingPolicy.configure_at_launch(),  # operators may change the rule per run
        "order_gate": order_gate_policy(),
        "llm": LlmResource(
            base_url=env("OPENAI_BASE_URL", LIVE_OPENAI_BASE_URL),
            api_key=dg.EnvVar("OPENAI_API_KEY"),
            model=env("OPENAI_MODEL", "gpt-4o-mini"),
        ),
        "helpdesk": support_channel(),
        "support_policy": SupportPolicyResource(),
        "meta_ads": MetaAdsResource(
            base_url=env("META_BASE_URL", "https://graph.facebook.com"),
            api_version=env("META_API_VERSION", "v26.0"),
            access_token=dg.EnvVar("META_ACCESS_TOKEN"),
            ad_account_id=dg.EnvVar("META_AD_ACCOUNT_ID"),
            page_id=env("META_PAGE_ID", ""),
            pixel_id=dg.EnvVar("META_PIXEL_ID"),
            video_base_url=env("META_VIDEO_BASE_URL", ""),  # empty: Meta's video host for META_BASE_URL
        ),
        "tiktok_ads": TikTokAdsResource(
            base_url=env("TIKTOK_BASE_URL", "https://business-api.tiktok.com/open_api/v1.3"),
            access_token=dg.EnvVar("TIKTOK_ACCESS_TOKEN"),
            advertiser_id=dg.EnvVar("TIKTOK_ADVERTISER_ID"),
            pixel_id=dg.EnvVar("TIKTOK_PIXEL_ID"),
            pixel_code=env("TIKTOK_PIXEL_CODE", ""),  # the Events API's name of the pixel
            identity_id=dg.EnvVar("TIKTOK_IDENTITY_ID"),
            identity_type=env("TIKTOK_IDENTITY_TYPE", "CUSTOMIZED_USER"),
        ),
        "ad_policy": AdPolicyResource(
            store_url=env("STORE_PUBLIC_URL", "https://sandbox-store.myshopify.com"),
            media_dir=env("DROPSHIP_MEDIA_DIR", ".data/media"),
            image_hosts=image_hosts(),
        ),
    }
