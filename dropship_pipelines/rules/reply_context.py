"""What a reply to a customer may state: the order's facts, the actions executed for the ticket, the
store's policy and the language. Built by the code from the store database and the action ledger, never
from the LLM; the renderer writes from it and the last gate checks against it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dropship_pipelines.rules.reply_draft import ActionKind
from dropship_pipelines.rules.reply_languages import language_pack
from dropship_pipelines.rules.store_policy import StorePolicy

ORDER_STATUSES = ("processing", "shipped", "delivered", "cancelled", "on_hold", "delayed")


@dataclass(frozen=True)
class OrderFacts:
    """Everything a reply may state about an order; built from the store database, never from the LLM."""

    order_name: str  # "#1001"
    status: str  # processing | shipped | delivered | cancelled | on_hold | delayed (a stalled parcel)
    placed_on: date
    total: Decimal
    currency: str = "USD"
    items: tuple[str, ...] = ()
    supplier_status: str | None = None
    track_number: str | None = None
    carrier: str | None = None
    tracking_url: str | None = None
    shipped_on: date | None = None
    customer_first_name: str | None = None
    # The delivery window the supplier's or carrier's data supports; None when nothing supports one.
    eta_earliest: date | None = None
    eta_latest: date | None = None
    # The tracking workflow's flag (rules/tracking.py): "no_tracking" | "no_scan" | "lost"; None when the
    # parcel is moving. A stalled parcel has no delivery window the data supports: a reply says it is
    # being looked into, never that it is on its way.
    tracking_stall: str | None = None


@dataclass(frozen=True)
class ExecutedAction:
    """An action the agent performed for this ticket (recorded in the ledger, done at the remote side)."""

    kind: ActionKind
    amount: Decimal | None = None  # refunds only
    currency: str | None = None  # refunds only

    def __post_init__(self) -> None:
        if self.kind is ActionKind.REFUND and (self.amount is None or not self.currency):
            raise ValueError("a refund states its amount and currency")
        if self.kind is not ActionKind.REFUND and (self.amount is not None or self.currency is not None):
            raise ValueError(f"a {self.kind.value} carries no amount")


@dataclass(frozen=True)
class ReplyContext:
    """The one source of what a reply may say (hashable: the gate caches what it derives from it)."""

    order: OrderFacts | None
    policy: StorePolicy
    executed_actions: tuple[ExecutedAction, ...] = ()
    language: str = "en"  # ISO 639-1; the gate refuses any language it cannot check
    locale: str | None = None  # Babel locale for dates and money ("de_CH"); None = the language's own

    @property
    def babel_locale(self) -> str:
        return self.locale or language_pack(self.language).locale

    def executed(self, kind: ActionKind) -> tuple[ExecutedAction, ...]:
        return tuple(action for action in self.executed_actions if action.kind is kind)
