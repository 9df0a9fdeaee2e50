"""The store's customer-service policy as a resource: an operator changes it for a run from the launchpad
(resources.support_policy.config) or for good in the code location, never in the rules.

`SupportPolicy` (rules/support_policy.py) states each setting, what it means and its default; this resource
only exposes the ones an operator may change, with those same defaults, and builds the policy from them.
"""

from decimal import Decimal

import dagster as dg
from pydantic import TypeAdapter

from dropship_pipelines.rules.store_policy import StorePolicy, default_store_policy, load_store_policy
from dropship_pipelines.rules.support_policy import SupportPolicy

DEFAULT = SupportPolicy()
_BUILD = TypeAdapter(SupportPolicy)  # float -> Decimal, list -> tuple; unexposed settings keep defaults


class SupportPolicyResource(dg.ConfigurableResource):
    """Refund window and limit, discounts, tone, signature and what a machine may answer on its own."""

    refund_window_days: int = DEFAULT.refund_window_days
    auto_refund_limit: float = float(DEFAULT.auto_refund_limit)  # Dagster config has no Decimal type
    max_discount_percent: int = DEFAULT.max_discount_percent
    tone: str = DEFAULT.tone
    signature: str = DEFAULT.signature
    min_confidence: float = DEFAULT.min_confidence
    max_reply_chars: int = DEFAULT.max_reply_chars
    auto_intents: list[str] = list(DEFAULT.auto_intents)
    languages: list[str] = list(DEFAULT.languages)
    order_name_prefix: str = DEFAULT.order_name_prefix
    max_body_chars: int = DEFAULT.max_body_chars
    max_reply_tokens: int = DEFAULT.max_reply_tokens
    max_drafts: int = DEFAULT.max_drafts
    max_messages_per_sender_per_day: int = DEFAULT.max_messages_per_sender_per_day
    max_messages_per_day: int = DEFAULT.max_messages_per_day
    daily_token_budget: int = DEFAULT.daily_token_budget
    # The operator's store policy file (what replies may state); empty: the one shipped with the package.
    store_policy_file: str = ""

    def policy(self) -> SupportPolicy:
        settings = {
            name: getattr(self, name) for name in type(self).model_fields if name != "store_policy_file"
        }
        # The amount as the operator wrote it (25.0), not the float's binary expansion.
        settings["auto_refund_limit"] = Decimal(str(self.auto_refund_limit))
        return _BUILD.validate_python(settings)

    def store_policy(self) -> StorePolicy:
        return load_store_policy(self.store_policy_file) if self.store_policy_file else default_store_policy()
