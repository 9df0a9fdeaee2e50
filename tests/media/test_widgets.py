"""The price badge and the call-to-action button: the discount they claim, and that they fit the frame."""

from __future__ import annotations

import pytest

from dropship_pipelines.media import widgets


@pytest.mark.parametrize(
    ("price", "compare", "label"),
    [
        ("$24.99", "$39.99", "-38%"),
        ("24,99 €", "39,99 €", "-38%"),
        ("$1,299.00", "$1,999.00", "-35%"),
        ("$39.99", "$24.99", None),
        ("$24.99", None, None),
        ("Call us", "$10", None),
    ],
)
def test_discount_label(price: str, compare: str | None, label: str | None) -> None:
    assert widgets.discount_label(price, compare) == label


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$1,299.00", 1299.0),
        ("24,99 EUR", 24.99),
        ("1.299,50 €", 1299.5),
        ("$1,299", 1299.0),
        ("from $5", 5.0),
        ("Call us", None),
    ],
)
def test_parse_amount(text: str, amount: float | None) -> None:
    assert widgets.parse_amount(text) == amount


@pytest.mark.parametrize("frame_w", [360, 720, 1080])
def test_price_badge_fits_the_frame_even_for_absurd_prices(frame_w: int) -> None:
    for price, compare in (("$24.99", "$39.99"), ("$" + "9" * 80, "$" + "1" * 80), ("$24.99", None)):
        badge = widgets.render_price_badge(price, compare, frame_w)
        assert badge is not None
        assert badge.mode == "RGBA"
        assert badge.width <= frame_w
    assert widgets.render_price_badge("  ", "$10", frame_w) is None


def test_cta_button_fits_the_frame_and_blank_text_draws_nothing() -> None:
    button = widgets.render_cta_button("Tap the link below and get yours today " * 5, 360, 640)
    assert button is not None
    assert button.width <= 360 and button.height <= 640 * 0.3
    assert widgets.render_cta_button("", 360, 640) is None
