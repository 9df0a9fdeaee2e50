"""Shopify webhook receiver: `create_webhook_app()` (mounted by the dashboard API)."""

from dropship_pipelines.webhooks.app import create_webhook_app, verify_hmac

__all__ = ["create_webhook_app", "verify_hmac"]
