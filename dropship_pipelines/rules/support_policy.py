"""The store's customer-service policy: what an automatic reply may say and do, and what goes to a human.

The one statement of the policy: each setting, what it means and its default. Plain data, set as
configuration (`SupportPolicyResource` exposes the operator's settings with these defaults and builds it);
the routing, action and cost rules read it, so a change of policy is a change of configuration, not of
code. What a reply may state is the store policy file's (rules/store_policy.py); this is what the agent
may decide.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from dropship_pipelines.rules.reply_draft import ActionKind
from dropship_pipelines.rules.reply_languages import SUPPORTED_LANGUAGES

# What a customer can want; the LLM classifies into exactly these (the intent prompt's answer model is
# typed with it).
Intent = Literal[
    "where_is_order",
    "shipping_time",
    "return_policy",
    "refund",
    "cancel",
    "change_address",
    "wrong_item",
    "product_question",
    "thanks",
    "complaint",
    "other",
]

# The action an intent asks for, when the policy lets a machine perform it. A reply states an action only
# once it is executed (the renderer refuses any other), so an intent whose action cannot be performed is
# answered by a human.
ACTION_FOR_INTENT: dict[str, ActionKind] = {
    "cancel": ActionKind.CANCEL,
    "refund": ActionKind.REFUND,
    "change_address": ActionKind.ADDRESS_CHANGE,
}


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
    # Intents an automatic reply may answer; every other one is a policy topic for a human. An address
    # change is not among them by default: redirecting a parcel is how a stolen account is cashed in, and
    # the new address must be read from the message; an operator who wants it automatic adds it.
    auto_intents: tuple[str, ...] = (
        "where_is_order",
        "shipping_time",
        "return_policy",
        "refund",
        "cancel",
        "product_question",
        "thanks",
        "complaint",
    )
    # Intents that need an order the sender owns; the others (policy questions, thanks) are answered
    # from the store policy alone and disclose nothing about any order.
    order_intents: tuple[str, ...] = (
        "where_is_order",
        "refund",
        "cancel",
        "change_address",
        "wrong_item",
        "complaint",
    )
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    escalation_tag: str = "needs-human"
    answered_tag: str = "auto-answered"
    extra_policy_topics: tuple[str, ...] = field(default=())
    # The store's own order-name prefix ("A" for "A1001"); "#" is always recognised.
    order_name_prefix: str = "#"
    # Bounded cost: what one message may cost and how many a sender or the store may send a day.
    max_body_chars: int = 4000  # of the customer's newest words, after quoted history and signature
    max_reply_tokens: int = 600  # completion tokens of one draft
    max_intent_tokens: int = 80  # completion tokens of one classification
    max_drafts: int = 2  # a second rejected draft sends the message to a human
    max_messages_per_sender_per_day: int = 6
    max_messages_per_day: int = 2000
    daily_token_budget: int = 2_000_000  # prompt + completion tokens a day; beyond it a human answers

    def auto_answers(self, intent: str) -> bool:
        return intent in self.auto_intents and intent not in self.extra_policy_topics

    def needs_order(self, intent: str) -> bool:
        return intent in self.order_intents

    def action_for(self, intent: str) -> ActionKind | None:
        return ACTION_FOR_INTENT.get(intent)

    def refund_within_policy(self, total: Decimal, placed_on: date, today: date) -> bool:
        """A machine refunds an order only within the window and up to the automatic limit."""
        return (today - placed_on).days <= self.refund_window_days and total <= self.auto_refund_limit
