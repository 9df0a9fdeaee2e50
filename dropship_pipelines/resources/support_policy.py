"""The store's customer-service policy as a resource: an operator changes it for a run from the launchpad
(resources.support_policy.config) or for good in the code location, never in the rules."""

from decimal import Decimal

import dagster as dg

from dropship_pipelines.rules.support_policy import SupportPolicy


class SupportPolicyResource(dg.ConfigurableResource):
    """Refund window and limit, discounts, tone, signature and what a machine may answer on its own."""

    refund_window_days: int = 30
    auto_refund_limit: float = 25.0
    max_discount_percent: int = 0
    tone: str = "warm, brief and factual"
    signature: str = "The Sandbox Store team"
    min_confidence: float = 0.7
    max_reply_chars: int = 1200
    auto_intents: list[str] = ["where_is_order", "refund", "complaint"]
    languages: list[str] = ["en", "es", "de", "fr"]

    def policy(self) -> SupportPolicy:
        return SupportPolicy(
            refund_window_days=self.refund_window_days,
            auto_refund_limit=Decimal(str(self.auto_refund_limit)),
            max_discount_percent=self.max_discount_percent,
            tone=self.tone,
            signature=self.signature,
            min_confidence=self.min_confidence,
            max_reply_chars=self.max_reply_chars,
            auto_intents=tuple(self.auto_intents),
            languages=tuple(self.languages),
        )
