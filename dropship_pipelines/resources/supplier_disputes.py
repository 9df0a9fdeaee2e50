"""Disputes with the supplier, in supplier-neutral terms: asking for money back for an order it failed
(cancelled it, ran out of stock after ordering, lost or damaged the parcel) or for an order the store
cancelled after the supplier was paid (the supplier's cancellation path).

A dispute carries our own key (`DisputeRequest.key`, unique at the supplier), by which a retry finds the
dispute an earlier attempt opened: `find_dispute` before `open_dispute`, so none is opened twice."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from dropship_pipelines.resources.errors import PermanentApiError


@dataclass(frozen=True)
class DisputeRequest:
    key: str  # ours, unique at the supplier
    supplier_order_id: str
    reason: (
        str  # supplier-neutral: cancel_before_shipping | supplier_cancelled | out_of_stock | lost_parcel ...
    )
    message: str  # the evidence from the ledger, in words
    evidence_urls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SupplierDispute:
    dispute_id: str
    key: str | None
    supplier_order_id: str
    status: str | None = None
    amount: Decimal | None = None  # what the supplier is asked to pay back (USD)
    refunded: Decimal | None = None  # what it paid back once settled


class DisputeRefusedError(PermanentApiError):
    """The supplier will not open this dispute (the order cannot be disputed, a reason it does not take)."""


class SupplierDisputes(Protocol):
    def find_dispute(self, supplier_order_id: str, key: str) -> SupplierDispute | None: ...
    def open_dispute(self, request: DisputeRequest) -> SupplierDispute: ...
    def disputes(self, supplier_order_id: str) -> list[SupplierDispute]: ...


def disputes_for(supplier: Any) -> SupplierDisputes:
    """The dispute API of a supplier client (CJ's is the first); a clear error for one without."""
    from dropship_pipelines.resources.cj.client import CJDropshippingResource
    from dropship_pipelines.resources.cj.disputes import CjDisputes

    if isinstance(supplier, CJDropshippingResource):
        return CjDisputes(supplier)
    if hasattr(supplier, "open_dispute") and hasattr(supplier, "find_dispute"):
        return supplier  # type: ignore[no-any-return]
    raise TypeError(f"supplier {type(supplier).__name__} has no dispute API")
