"""The store's customer-service policy: what an automatic reply may say and what goes to a human.

The one statement of the policy: each setting, what it means and its default. Plain data, set as
configuration (`SupportPolicyResource` exposes the operator's settings with these defaults and builds it);
the validation and routing rules read it, so a change of policy is a change of configuration, not of code.
"""

from dataclasses import dataclass, field
from decimal import Decimal

# What a customer can want; the LLM classifies into exactly these.
INTENTS = (
    "where_is_order",
    "refund",
    "change_address",
    "wrong_item",
    "product_question",
    "complaint",
    "other",
)


@dataclass(frozen=True)
class SupportPolicy:
    refund_window_days: int = 30  # refunds only this long after the order was placed
    auto_refund_limit: Decimal = Decimal("25.00")  # refunds above this amount need a human
    max_discount_percent: int = 0  # discount a reply may offer on its own (0 = none)
    tone: str = "warm, brief and factual"
    signature: str = "The Sandbox Store team"
    min_confidence: float = 0.7  # the classifier's confidence below which a human answers
    max_reply_chars: int = 1200
    min_reply_chars: int = 40
    # Intents an automatic reply may answer; every other one is a policy topic for a human.
    auto_intents: tuple[str, ...] = ("where_is_order", "refund", "complaint")
    languages: tuple[str, ...] = ("en", "es", "de", "fr")
    escalation_tag: str = "needs-human"
    answered_tag: str = "auto-answered"
    extra_policy_topics: tuple[str, ...] = field(default=())

    def auto_answers(self, intent: str) -> bool:
        return intent in self.auto_intents and intent not in self.extra_policy_topics
