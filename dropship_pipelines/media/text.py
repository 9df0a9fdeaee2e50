"""Fonts, text measuring, word wrapping and fitting, and the stroked, shadowed text tiles of an ad.

The box a text is given is a hard limit: long or hostile text (a 300-character headline, one 80-letter word)
shrinks the font down to a minimum size, then is cut with an ellipsis, so it can never overflow the frame.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

log = logging.getLogger(__name__)

FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"

# White text with a dark stroke reads on any photo.
TEXT_FILL = (255, 255, 255)
TEXT_STROKE = (12, 12, 16)

AnyFont = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=128)
def load_font(bold: bool, size: int) -> AnyFont:
    """DejaVu if installed, else Pillow's default font — never fail for a missing font."""
    name = FONT_BOLD if bold else FONT_REGULAR
    for directory in FONT_DIRS:
        candidate = directory / name
        if candidate.is_file():
            try:
                return ImageFont.truetype(str(candidate), size)
            except OSError:
                log.warning("font %s is unreadable; falling back", candidate)
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def is_freetype(font: AnyFont) -> bool:
    return isinstance(font, ImageFont.FreeTypeFont)


def safe_text(font: AnyFont, text: str) -> str:
    """Bitmap fallback fonts only encode latin-1; replace the rest rather than crash."""
    if is_freetype(font):
        return text
    return text.encode("latin-1", errors="replace").decode("latin-1")


def _ellipsis(font: AnyFont) -> str:
    return "\u2026" if is_freetype(font) else "..."


def text_width(font: AnyFont, text: str, stroke: int) -> float:
    return float(font.getlength(safe_text(font, text))) + 2 * stroke


def line_height(font: AnyFont, stroke: int) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return math.ceil((ascent + descent) * 1.06) + stroke
    _left, top, _right, bottom = font.getbbox("Ag")
    return int(bottom - top) + 4 + stroke


def wrap_text(text: str, font: AnyFont, max_width: float, stroke: int) -> list[str]:
    """Greedy word wrap honouring explicit newlines; words wider than a line are split by characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split()
        if not words:
            continue
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if text_width(font, candidate, stroke) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            # The word alone may still be too wide (URLs, SKUs, German compounds): hard-split it.
            current = ""
            for char in word:
                if current and text_width(font, current + char, stroke) > max_width:
                    lines.append(current)
                    current = char
                else:
                    current += char
        if current:
            lines.append(current)
    return lines


def ellipsize(line: str, font: AnyFont, max_width: float, stroke: int) -> str:
    """Shorten ``line`` until it plus an ellipsis fits ``max_width``."""
    mark = _ellipsis(font)
    while line and text_width(font, line.rstrip() + mark, stroke) > max_width:
        line = line[:-1]
    return line.rstrip() + mark


@dataclass(frozen=True)
class TextLayout:
    font: AnyFont
    lines: tuple[str, ...]
    stroke: int
    line_height: int


def fit_text(
    text: str,
    *,
    bold: bool,
    max_size: int,
    min_size: int,
    max_width: int,
    max_height: int,
    stroke_ratio: float,
    pad: Callable[[int], int],
) -> TextLayout:
    """Pick the largest font size whose wrapped text fits the box; truncate with an ellipsis otherwise.

    This is what guarantees that long or hostile text (a 300-character headline, one 80-letter word) never
    overflows the frame: the box is a hard limit, the font shrinks to ``min_size`` and then lines are cut.
    """
    size = max(min_size, max_size)
    while True:
        font = load_font(bold, size)
        stroke = max(1, round(size * stroke_ratio)) if is_freetype(font) else 0
        inner_w = max_width - 2 * pad(size)
        inner_h = max_height - 2 * pad(size)
        line_h = line_height(font, stroke)
        lines = wrap_text(text, font, inner_w, stroke)
        if len(lines) * line_h <= inner_h or size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    max_lines = max(1, inner_h // line_h)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], ellipsize(lines[max_lines - 1] + " ", font, inner_w, stroke)]
    return TextLayout(font=font, lines=tuple(lines), stroke=stroke, line_height=line_h)


def fit_single_line(text: str, bold: bool, size: int, min_size: int, max_width: float) -> tuple[AnyFont, str]:
    """Largest font (down to ``min_size``) fitting ``text`` on one line; ellipsize if still too wide."""
    while True:
        font = load_font(bold, size)
        if text_width(font, text, 0) <= max_width or size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    if text_width(font, text, 0) > max_width:
        text = ellipsize(text, font, max_width, 0)
    return font, text


def _shadow_params(size: int) -> tuple[int, int]:
    """(offset, blur radius) of the drop shadow under text of font size ``size``."""
    return max(1, round(size * 0.06)), max(1, round(size * 0.07))


def _text_pad(size: int) -> int:
    offset, blur = _shadow_params(size)
    return offset + 2 * blur + 2


def render_text_block(
    text: str,
    *,
    bold: bool,
    max_size: int,
    min_size: int,
    max_width: int,
    max_height: int,
    fill: tuple[int, int, int] = TEXT_FILL,
    stroke_fill: tuple[int, int, int] = TEXT_STROKE,
    stroke_ratio: float = 0.085,
    shadow: bool = True,
) -> Image.Image | None:
    """Rasterise centred, wrapped text with a stroke and a soft drop shadow to an RGBA tile (once).

    The tile is padded by the stroke and shadow so nothing is clipped (the TextClip pitfall of losing the
    bottom of a stroked last line), and it is never larger than ``max_width`` x ``max_height``.
    """
    if not text.strip():
        return None
    layout = fit_text(
        text,
        bold=bold,
        max_size=max_size,
        min_size=min_size,
        max_width=max_width,
        max_height=max_height,
        stroke_ratio=stroke_ratio,
        pad=_text_pad,
    )
    font, stroke = layout.font, layout.stroke
    size = getattr(font, "size", min_size)
    pad = _text_pad(size)
    widths = [text_width(font, line, stroke) for line in layout.lines]
    tile_w = min(max_width, math.ceil(max(widths)) + 2 * pad)
    tile_h = min(max_height, len(layout.lines) * layout.line_height + 2 * pad)
    tile = Image.new("RGBA", (tile_w, tile_h), (*fill, 0))

    def draw_lines(target: ImageDraw.ImageDraw, dx: int, dy: int, colour: Any, outline: Any) -> None:
        for i, line in enumerate(layout.lines):
            xy = (tile_w / 2 + dx, pad + i * layout.line_height + stroke + dy)
            kwargs: dict[str, Any] = {"font": font, "fill": colour}
            if stroke:
                kwargs.update(stroke_width=stroke, stroke_fill=outline)
            if is_freetype(font):
                kwargs["anchor"] = "ma"
                target.text(xy, safe_text(font, line), **kwargs)
            else:
                line_w = text_width(font, line, stroke)
                target.text((xy[0] - line_w / 2, xy[1]), safe_text(font, line), **kwargs)

    if shadow:
        offset, blur = _shadow_params(size)
        mask = Image.new("L", tile.size, 0)
        draw_lines(ImageDraw.Draw(mask), offset, offset, 255, 255)
        mask = mask.filter(ImageFilter.GaussianBlur(blur)).point(lambda v: v * 0.65)
        shadow_layer = Image.new("RGBA", tile.size, (0, 0, 0, 0))
        shadow_layer.putalpha(mask)
        tile = Image.alpha_composite(tile, shadow_layer)
    text_layer = Image.new("RGBA", tile.size, (*fill, 0))
    draw_lines(ImageDraw.Draw(text_layer), 0, 0, (*fill, 255), (*stroke_fill, 255))
    return Image.alpha_composite(tile, text_layer)
