"""The sandbox's own credentials. Not secrets: they only open the simulated world on loopback.

`.env.sandbox` at the repository root sets the pipelines' environment variables to these values.
"""

CJ_API_KEY = "CJ5550001@api@0f3b6c2a9d8e4f7a8b1c2d3e4f5a6b7c"
SHOPIFY_ACCESS_TOKEN = "shpat_sandbox_00000000000000000000000000000001"
SHOPIFY_WEBHOOK_SECRET = "sandbox-webhook-secret"
OPENAI_API_KEY = "sk-sandbox-000000000000000000000000000000000000"
META_ACCESS_TOKEN = "EAAsandbox000000000000000000000000000000"
META_AD_ACCOUNT_ID = "act_1000000000001"
TIKTOK_ACCESS_TOKEN = "tiktok-sandbox-000000000000000000000000"
TIKTOK_ADVERTISER_ID = "7000000000000000001"
HELPDESK_USERNAME = "agent@sandbox-store.example"
HELPDESK_API_KEY = "gorgias-sandbox-0000000000000000"
# The Meta pixel and the TikTok pixel and identity the sandbox's ad accounts own: ad sets that optimise for
# purchases must name them, as the real platforms require.
META_PIXEL_ID = "1234567890123456"
TIKTOK_PIXEL_ID = "7100000000000000001"
TIKTOK_IDENTITY_ID = "7200000000000000001"
# The TikTok pixel's code: the Events API names the pixel by it (`event_source_id`), not by its numeric id.
TIKTOK_PIXEL_CODE = "CSANDBOX0000000000001"
