"""Tracking rules: when the customer is told, which parcels are stalled or lost (no Dagster, no I/O).

- The shipping email goes at the carrier's first scan, not when the supplier prints a label
  (`notify_at = "first_scan"`; "label" tells at once, as before). A label is not a parcel on its way:
  "where is my order" tickets start when a customer follows a link that shows nothing for days.
- Stalled: no tracking `no_tracking_days` after the supplier order, or no carrier scan for
  `no_scan_days` after shipping (or since the last scan).
- Lost: the carrier says lost or returned, or no scan for `lost_after_days`: the supplier-failure path
  refunds and disputes it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

NotifyAt = Literal["first_scan", "label"]
Stall = Literal["no_tracking", "no_scan", "lost"]

# Carrier statuses (CJ's `trackingStatus`, 17TRACK's words) that mean no scan has happened yet.
NOT_SCANNED = frozenset({"", "not found", "notfound", "info received", "label created", "pending"})
# ... and those that mean the parcel will not arrive.
LOST_STATUSES = frozenset(
    {"lost", "returned", "return to sender", "returned to sender", "expired", "destroyed"}
)
DELIVERED_STATUSES = frozenset({"delivered"})


@dataclass(frozen=True)
class TrackingPolicy:
    notify_at: NotifyAt = "first_scan"
    no_tracking_days: int = 7  # after the supplier order, with no tracking number
    no_scan_days: int = 7  # after shipping (or the last scan) with no scan
    lost_after_days: int = 30  # no scan for this long: lost

    def __post_init__(self) -> None:
        if self.notify_at not in ("first_scan", "label"):
            raise ValueError(f"notify_at must be 'first_scan' or 'label', got {self.notify_at!r}")
        if min(self.no_tracking_days, self.no_scan_days, self.lost_after_days) <= 0:
            raise ValueError("stall and lost thresholds must be positive days")
        if self.lost_after_days < self.no_scan_days:
            raise ValueError("lost_after_days must not be shorter than no_scan_days")


def _key(status: str | None) -> str:
    return " ".join((status or "").lower().replace("_", " ").split())


def scanned(status: str | None) -> bool:
    """Whether the carrier has the parcel (any status past label creation)."""
    return _key(status) not in NOT_SCANNED


def carrier_says_lost(status: str | None) -> bool:
    return _key(status) in LOST_STATUSES


def delivered(status: str | None) -> bool:
    return _key(status) in DELIVERED_STATUSES


def may_notify(policy: TrackingPolicy, first_scan_at: datetime | None) -> bool:
    """Whether the shipping email may go now."""
    return policy.notify_at == "label" or first_scan_at is not None


def stall(
    policy: TrackingPolicy,
    now: datetime,
    *,
    ordered_at: datetime,
    track_number: str | None,
    shipped_at: datetime | None,
    last_scan_at: datetime | None,
    carrier_status: str | None,
) -> Stall | None:
    """Why this parcel needs attention now, or None. Delivered parcels never stall."""
    if delivered(carrier_status):
        return None
    if carrier_says_lost(carrier_status):
        return "lost"
    if not track_number:
        return "no_tracking" if now - ordered_at >= timedelta(days=policy.no_tracking_days) else None
    since = last_scan_at or shipped_at or ordered_at
    quiet = now - since
    if quiet >= timedelta(days=policy.lost_after_days):
        return "lost"
    if quiet >= timedelta(days=policy.no_scan_days):
        return "no_scan"
    return None
