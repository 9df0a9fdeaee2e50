"""The ad's widgets, each rasterised once to an RGBA tile: the price badge and the call-to-action button."""

from __future__ import annotations

import math
import re

from PIL import Image, ImageDraw, ImageFilter

from dropship_pipelines.media.text import (
    AnyFont,
    fit_single_line,
    is_freetype,
    line_height,
    load_font,
    render_text_block,
    safe_text,
    text_width,
)

# Strong accents: the badge and the button must stand out on any product photo.
BADGE_FILL = (255, 210, 63)
BADGE_TEXT = (17, 17, 17)
BADGE_OLD_TEXT = (90, 80, 60)
DISCOUNT_FILL = (230, 36, 64)
CTA_FILL = (255, 61, 87)
CTA_TEXT = (255, 255, 255)


def parse_amount(text: str) -> float | None:
    """Best-effort number from a price string ("$1,299.00", "24,99 EUR"); None when unsure."""
    match = re.search(r"\d[\d.,\s]*", text)
    if not match:
        return None
    raw = match.group(0).strip().replace(" ", "")
    if "," in raw and "." in raw:
        decimal = "," if raw.rfind(",") > raw.rfind(".") else "."
        raw = raw.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif "," in raw or "." in raw:
        sep = "," if "," in raw else "."
        head, _, tail = raw.rpartition(sep)
        raw = f"{head.replace(sep, '')}.{tail}" if raw.count(sep) == 1 and len(tail) in (1, 2) else raw
        raw = raw.replace(sep, "")
    try:
        return float(raw)
    except ValueError:
        return None


def discount_label(price_text: str, compare_at_text: str | None) -> str | None:
    """The "-38%" chip text when both prices parse and the price is really lower; None when in doubt."""
    if not compare_at_text:
        return None
    price, compare = parse_amount(price_text), parse_amount(compare_at_text)
    if price is None or compare is None or compare <= 0 or not 0 < price < compare:
        return None
    percent = round((1 - price / compare) * 100)
    return f"-{percent}%" if 1 <= percent <= 95 else None


def _shadowed(tile: Image.Image, radius: int, offset: int, opacity: float = 0.55) -> Image.Image:
    """Add a soft drop shadow under an RGBA tile, growing the tile so the shadow is not clipped."""
    margin = offset + 2 * radius
    out = Image.new("RGBA", (tile.width + 2 * margin, tile.height + 2 * margin), (0, 0, 0, 0))
    shadow_alpha = Image.new("L", out.size, 0)
    shadow_alpha.paste(tile.getchannel("A"), (margin + offset, margin + offset))
    shadow_alpha = shadow_alpha.filter(ImageFilter.GaussianBlur(radius)).point(lambda v: v * opacity)
    out.putalpha(shadow_alpha)
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    layer.paste(tile, (margin, margin))
    return Image.alpha_composite(out, layer)


def render_price_badge(
    price_text: str, compare_at_text: str | None, frame_w: int, scale: float = 1.0
) -> Image.Image | None:
    """A rounded yellow badge: struck-through compare-at price, the price, and a red "-NN%" chip."""
    if not price_text.strip():
        return None
    max_w = int(frame_w * 0.88)
    price_size = max(12, round(frame_w * 0.085 * scale))
    pad_x, pad_y = round(price_size * 0.45), round(price_size * 0.22)
    gap = round(price_size * 0.35)
    discount = discount_label(price_text, compare_at_text)
    old_text = compare_at_text.strip() if compare_at_text and compare_at_text.strip() else None

    # Shrink everything together until the row fits the width budget.
    for _ in range(40):
        price_font = load_font(True, price_size)
        old_font = load_font(False, max(10, round(price_size * 0.58)))
        chip_font = load_font(True, max(10, round(price_size * 0.42)))
        parts_w = text_width(price_font, price_text, 0)
        if old_text:
            parts_w += gap + text_width(old_font, old_text, 0)
        if discount:
            parts_w += gap + text_width(chip_font, discount, 0) + price_size * 0.4
        if parts_w + 2 * pad_x <= max_w or price_size <= 14:
            break
        price_size = max(14, int(price_size * 0.92))
        pad_x, pad_y = round(price_size * 0.45), round(price_size * 0.22)
        gap = round(price_size * 0.35)

    budget = max_w - 2 * pad_x
    if old_text and parts_w + 2 * pad_x > max_w:
        old_text = None  # drop the compare-at before truncating the actual price
        discount = None
    price_font, price_line = fit_single_line(price_text, True, price_size, 14, budget)
    row_h = line_height(price_font, 0)
    items: list[tuple[str, AnyFont, str]] = []
    if old_text:
        items.append(("old", old_font, old_text))
    items.append(("price", price_font, price_line))
    if discount:
        items.append(("chip", chip_font, discount))
    widths = []
    for kind, font, text in items:
        w = text_width(font, text, 0)
        widths.append(w + (price_size * 0.4 if kind == "chip" else 0))
    content_w = sum(widths) + gap * (len(items) - 1)
    badge_w = min(max_w, math.ceil(content_w) + 2 * pad_x)
    badge_h = row_h + 2 * pad_y
    badge = Image.new("RGBA", (badge_w, badge_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    draw.rounded_rectangle((0, 0, badge_w - 1, badge_h - 1), radius=badge_h // 2, fill=(*BADGE_FILL, 255))
    x = (badge_w - content_w) / 2
    mid_y = badge_h / 2
    for (kind, font, text), w in zip(items, widths, strict=True):
        text = safe_text(font, text)
        anchor = {"anchor": "lm"} if is_freetype(font) else {}
        y = mid_y if anchor else mid_y - line_height(font, 0) / 2
        if kind == "old":
            draw.text((x, y), text, font=font, fill=(*BADGE_OLD_TEXT, 255), **anchor)
            thickness = max(2, round(price_size * 0.06))
            draw.line((x - 2, mid_y, x + w + 2, mid_y), fill=(*DISCOUNT_FILL, 255), width=thickness)
        elif kind == "price":
            draw.text((x, y), text, font=font, fill=(*BADGE_TEXT, 255), **anchor)
        else:
            chip_h = round(line_height(font, 0) * 1.15)
            draw.rounded_rectangle(
                (x, mid_y - chip_h / 2, x + w, mid_y + chip_h / 2),
                radius=chip_h // 2,
                fill=(*DISCOUNT_FILL, 255),
            )
            draw.text((x + price_size * 0.2, y), text, font=font, fill=(255, 255, 255, 255), **anchor)
        x += w + gap
    return _shadowed(badge, radius=max(2, badge_h // 8), offset=max(2, badge_h // 14))


def render_cta_button(text: str, frame_w: int, frame_h: int) -> Image.Image | None:
    """A red pill button with white bold text (two lines at most), shadowed."""
    if not text.strip():
        return None
    max_w = int(frame_w * 0.84)
    size = max(12, round(frame_w * 0.072))
    pad_x, pad_y = round(size * 0.9), round(size * 0.45)
    label = render_text_block(
        text,
        bold=True,
        max_size=size,
        min_size=max(10, round(size * 0.45)),
        max_width=max_w - 2 * pad_x,
        max_height=int(frame_h * 0.14),
        fill=CTA_TEXT,
        stroke_fill=(150, 20, 40),
        stroke_ratio=0.0,
        shadow=False,
    )
    if label is None:
        return None
    label = label.crop(label.getbbox() or (0, 0, label.width, label.height))
    btn_w = min(max_w, label.width + 2 * pad_x)
    btn_h = label.height + 2 * pad_y
    button = Image.new("RGBA", (btn_w, btn_h), (0, 0, 0, 0))
    ImageDraw.Draw(button).rounded_rectangle(
        (0, 0, btn_w - 1, btn_h - 1), radius=min(btn_h // 2, round(size * 0.9)), fill=(*CTA_FILL, 255)
    )
    button.alpha_composite(label, ((btn_w - label.width) // 2, (btn_h - label.height) // 2))
    return _shadowed(button, radius=max(2, btn_h // 7), offset=max(2, btn_h // 12))
