"""Tracking rules without I/O: Shopify's carrier names, the first-scan email, stalls and lost parcels."""

from datetime import UTC, datetime, timedelta

import pytest

from dropship_pipelines.rules.carriers import shopify_company, shopify_tracking
from dropship_pipelines.rules.tracking import TrackingPolicy, may_notify, scanned, stall

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cj_name", "shopify"),
    [
        ("YunExpress Special Line", "YunExpress"),
        ("USPS+", "USPS"),
        ("4PX Global Priority", "4PX"),
        ("DHL eCommerce Asia", "DHL eCommerce Asia"),
        ("China Post Registered Air Mail", "China Post"),
        ("CJPacket Ordinary", None),  # CJ's own line: not on Shopify's list
        ("Upstate Courier", None),  # whole words only: not UPS
    ],
)
def test_cj_routes_map_to_shopify_names(cj_name: str, shopify: str | None) -> None:
    assert shopify_company(cj_name) == shopify


def test_unknown_route_keeps_its_name_and_url_and_last_mile_wins_over_unknown() -> None:
    url = "https://cjpacket.com/?trackingNumber=CJ1"
    unknown = shopify_tracking("CJPacket Ordinary", None, url)
    assert (unknown.company, unknown.url, unknown.known) == ("CJPacket Ordinary", url, False)
    handed = shopify_tracking("CJPacket Ordinary", "USPS", url)
    assert (handed.company, handed.url, handed.known) == ("USPS", url, True)
    with pytest.raises(ValueError, match="tracking url"):
        shopify_tracking("USPS", None, "")


def test_email_waits_for_the_first_scan_unless_configured_at_label() -> None:
    assert not scanned("Not Found") and scanned("In transit")
    assert not may_notify(TrackingPolicy(), None)
    assert may_notify(TrackingPolicy(), NOW)
    assert may_notify(TrackingPolicy(notify_at="label"), None)
    with pytest.raises(ValueError, match="notify_at"):
        TrackingPolicy(notify_at="never")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lost_after_days"):
        TrackingPolicy(no_scan_days=10, lost_after_days=5)


def test_stalls_no_tracking_no_scan_and_lost() -> None:
    policy = TrackingPolicy(no_tracking_days=5, no_scan_days=7, lost_after_days=20)
    ordered = NOW - timedelta(days=6)

    def flag(**kw: object) -> str | None:
        base = {"ordered_at": ordered, "track_number": "T", "shipped_at": None, "last_scan_at": None}
        return stall(policy, NOW, **{**base, "carrier_status": "In transit", **kw})  # type: ignore[arg-type]

    assert flag(track_number=None) == "no_tracking"
    assert flag(track_number=None, ordered_at=NOW - timedelta(days=2)) is None
    assert flag(shipped_at=NOW - timedelta(days=8)) == "no_scan"
    assert flag(shipped_at=NOW - timedelta(days=30), last_scan_at=NOW - timedelta(days=1)) is None
    assert flag(shipped_at=NOW - timedelta(days=25)) == "lost"
    assert flag(carrier_status="Returned", shipped_at=NOW) == "lost"
    assert flag(carrier_status="Delivered", shipped_at=NOW - timedelta(days=40)) is None
