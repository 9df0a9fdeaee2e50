"""Vertical (9:16) product video ads, rendered faster than real time with moviepy as the pipeline.

The look: one scene per product image with a slow Ken-Burns zoom/pan and a crossfade between scenes, the
image fitted on a blurred, darkened fill of itself (no black bars), a hook headline at the top of the first
scene, a caption per scene, a price badge (with the compare-at price struck through) and a final
call-to-action card.

Why it is built the way it is — where the time went. Layering ``ImageClip``/``TextClip`` objects in a
``CompositeVideoClip`` costs ~1.8 s per second of 720x1280 video on a 2-core machine (measured here: 37 CPU-s
of Python for a 12 s ad): every frame resizes every layer through moviepy's per-clip machinery, blends
full-frame masks in float numpy and converts types back and forth. Here everything that does not change over
time is prepared ONCE with Pillow, and the per-frame work is a handful of C calls:

* each scene is pre-composed to one RGB "canvas" slightly larger than the frame (the fitted image with
  rounded corners and a shadow on a blurred fill of itself); a Ken-Burns frame is ``Image.resize`` with a
  float ``box`` — crop and sub-pixel zoom in one call, so the motion is smooth;
* that resize was 85 % of the frame time (18 ms), so it is split by content: the whole frame is sampled
  NEAREST (1 ms; invisible on the blurred fill) and only the sharp product rectangle BILINEAR, with the same
  float mapping (max difference to a full bilinear resize: 2/255);
* every text overlay (headline, captions, price badge, CTA button) is rasterised once to an RGB tile plus
  an alpha mask and pasted over its own bounding box only; fades use cached pre-scaled masks; the CTA
  button's pulse is a few pre-scaled copies;
* crossfades are ``Image.blend`` (C, uint8) and only in transition frames; the end card is still, so it
  is computed once;
* one ``moviepy.VideoClip(frame_function)`` feeds ``write_videofile``; frames are computed ahead on two
  helper threads (Pillow and the pipe write release the GIL), so compositing and x264 share both cores;
* x264 then becomes the larger cost, so its settings were chosen by measurement (see ``X264_PRESET``).

Result for a 12 s 720x1280 ad: ~3.2 CPU-s of Python + ~3.7 CPU-s of ffmpeg, ~6.7 s wall (RTF 0.56).

The output is cached by content: the file is ``<out_dir>/<fingerprint>.mp4`` where the fingerprint hashes
the image BYTES, every text, the size, duration, fps and ``RENDERER_VERSION``. Bump the version whenever the
look changes so stale cached ads are not served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from dropship_pipelines.media.probe import InvalidVideoError, probe_video

__all__ = [
    "RENDERER_VERSION",
    "InvalidImageError",
    "RenderedVideo",
    "VideoAdSpec",
    "render_video_ad",
    "spec_fingerprint",
]

log = logging.getLogger(__name__)

#: Part of the cache key: bump it whenever the rendered look or encoding changes.
RENDERER_VERSION = "video-ad-1"

MIN_DURATION_S = 10.0
MAX_DURATION_S = 20.0
MIN_SIDE_PX = 128
MAX_SIDE_PX = 4096
MAX_FPS = 60

#: x264 settings. Once compositing was cheap the encoder became the larger CPU cost (the rgb24 -> yuv420p
#: conversion alone is ~1.2 CPU-s per 360 frames and cannot be tuned away). ffmpeg CPU-s for the 360 frames
#: of a 12 s 720x1280 ad / size / SSIM against the source frames, measured on the 2-core box:
#:   veryfast 6.8 s / 706 KB / 0.9820;  ultrafast 4.0 s / 5.1 MB / 0.9859;
#:   superfast + mbtree, rc-lookahead=10: 4.9 s / 778 KB / 0.9822  <- same quality as veryfast, -28 % CPU.
#: (superfast alone switches mbtree off and triples the file size: 2.3 MB.)
X264_PRESET = "superfast"
X264_PARAMS = "mbtree=1:rc-lookahead=10"
X264_CRF = 23
#: x264 worker threads; more than the cores only adds contention with the Python compositing thread.
FFMPEG_THREADS = max(1, min(4, os.cpu_count() or 2))
#: Frames composited concurrently ahead of the writer (Pillow releases the GIL while resampling).
FRAME_WORKERS = 2
PREFETCH_DEPTH = 3

CROSSFADE_S = 0.5
MIN_SCENE_S = 2.0
#: The pre-composed scene canvas is this much larger than the frame: room for zoom and pan.
CANVAS_SCALE = 1.12
#: Ken-Burns zoom range inside the canvas (1.0 = whole canvas shown; CANVAS_SCALE = 1:1 pixels).
ZOOM_MIN = 1.0
ZOOM_MAX = 1.10

FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"

# Palette: white text with a dark stroke reads on any photo; the badge and button use strong accents.
TEXT_FILL = (255, 255, 255)
TEXT_STROKE = (12, 12, 16)
BADGE_FILL = (255, 210, 63)
BADGE_TEXT = (17, 17, 17)
BADGE_OLD_TEXT = (90, 80, 60)
DISCOUNT_FILL = (230, 36, 64)
CTA_FILL = (255, 61, 87)
CTA_TEXT = (255, 255, 255)

_ImageSize = tuple[int, int]
_Rect = tuple[int, int, int, int]
_Rgb = tuple[int, int, int]


class InvalidImageError(ValueError):
    """A product image is missing, unreadable or not an image; the message names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"product image {path}: {reason}")
        self.path = path


# --------------------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoAdSpec:
    """Everything that determines an ad video. Validated on construction so a bad spec fails early.

    ``captions`` holds one caption per scene. There are ``max(len(images), len(captions))`` scenes (capped
    so each lasts at least ``MIN_SCENE_S``); images cycle when captions outnumber them, and when images
    outnumber captions each caption spans a run of consecutive scenes instead of being repeated.
    """

    image_paths: tuple[Path, ...]
    headline: str
    captions: tuple[str, ...]
    price_text: str
    compare_at_text: str | None
    call_to_action: str
    width: int = 720
    height: int = 1280
    duration_s: float = 12.0
    fps: int = 30

    def __post_init__(self) -> None:
        # Normalise sequences (callers pass lists, str paths) so equality/hash and the fingerprint are stable.
        paths = self.image_paths
        if isinstance(paths, (str, os.PathLike)):
            paths = (paths,)
        object.__setattr__(self, "image_paths", tuple(Path(p) for p in paths))
        captions = self.captions
        if isinstance(captions, str):
            captions = (captions,)
        object.__setattr__(self, "captions", tuple(captions))
        _validate_spec(self)


@dataclass(frozen=True)
class RenderedVideo:
    """A rendered (or cache-hit) ad. ``render_seconds`` is 0.0 when the file came from the cache."""

    path: Path
    width: int
    height: int
    duration_s: float
    fps: float
    size_bytes: int
    render_seconds: float
    fingerprint: str


def _validate_spec(spec: VideoAdSpec) -> None:
    """Reject specs that would fail deep inside ffmpeg or produce an unusable ad, with a clear message."""
    if not spec.image_paths:
        raise ValueError("VideoAdSpec.image_paths is empty: at least one product image is required")
    for name in ("headline", "price_text", "call_to_action"):
        if not isinstance(getattr(spec, name), str):
            raise ValueError(f"VideoAdSpec.{name} must be a str, got {type(getattr(spec, name)).__name__}")
    if spec.compare_at_text is not None and not isinstance(spec.compare_at_text, str):
        raise ValueError("VideoAdSpec.compare_at_text must be a str or None")
    if not all(isinstance(c, str) for c in spec.captions):
        raise ValueError("VideoAdSpec.captions must all be str")
    for name in ("width", "height"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"VideoAdSpec.{name} must be an int, got {value!r}")
        if not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise ValueError(f"VideoAdSpec.{name}={value} is out of range {MIN_SIDE_PX}..{MAX_SIDE_PX} px")
        if value % 2:
            raise ValueError(
                f"VideoAdSpec.{name}={value} must be even: H.264 in yuv420p needs even frame dimensions"
            )
    if isinstance(spec.fps, bool) or not isinstance(spec.fps, int) or not 1 <= spec.fps <= MAX_FPS:
        raise ValueError(f"VideoAdSpec.fps={spec.fps!r} must be an int in 1..{MAX_FPS}")
    duration = spec.duration_s
    if not isinstance(duration, (int, float)) or isinstance(duration, bool) or not math.isfinite(duration):
        raise ValueError(f"VideoAdSpec.duration_s={duration!r} must be a finite number of seconds")
    if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
        raise ValueError(
            f"VideoAdSpec.duration_s={duration:g} s is out of range: ads must last "
            f"{MIN_DURATION_S:g}..{MAX_DURATION_S:g} s"
        )


# --------------------------------------------------------------------------------------------------------
# Fingerprint (content cache key)
# --------------------------------------------------------------------------------------------------------


def _read_image_bytes_digest(path: Path) -> str:
    """sha256 of a file's bytes, with a clear error naming the file if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError as exc:
        raise InvalidImageError(path, "file not found") from exc
    except IsADirectoryError as exc:
        raise InvalidImageError(path, "is a directory, not an image file") from exc
    except OSError as exc:
        raise InvalidImageError(path, f"cannot be read ({exc.strerror or exc})") from exc
    return digest.hexdigest()


def spec_fingerprint(spec: VideoAdSpec) -> str:
    """sha256 over image BYTES (not paths), all text, size, duration, fps and RENDERER_VERSION.

    Hashing bytes rather than paths means re-downloading the same supplier image to a new temp path is a
    cache hit, while a changed image behind the same path is not. Fields are JSON-encoded so values cannot
    run into each other (``("ab", "c")`` and ``("a", "bc")`` hash differently).
    """
    payload = {
        "renderer": RENDERER_VERSION,
        "images": [_read_image_bytes_digest(p) for p in spec.image_paths],
        "headline": spec.headline,
        "captions": list(spec.captions),
        "price": spec.price_text,
        "compare_at": spec.compare_at_text,
        "cta": spec.call_to_action,
        "size": [spec.width, spec.height],
        "duration_s": round(float(spec.duration_s), 6),
        "fps": spec.fps,
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------------
# Fonts and text
# --------------------------------------------------------------------------------------------------------

_AnyFont = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=128)
def _font(bold: bool, size: int) -> _AnyFont:
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


def _is_freetype(font: _AnyFont) -> bool:
    return isinstance(font, ImageFont.FreeTypeFont)


def _safe_text(font: _AnyFont, text: str) -> str:
    """Bitmap fallback fonts only encode latin-1; replace the rest rather than crash."""
    if _is_freetype(font):
        return text
    return text.encode("latin-1", errors="replace").decode("latin-1")


def _ellipsis(font: _AnyFont) -> str:
    return "\u2026" if _is_freetype(font) else "..."


def _text_width(font: _AnyFont, text: str, stroke: int) -> float:
    return float(font.getlength(_safe_text(font, text))) + 2 * stroke


def _line_height(font: _AnyFont, stroke: int) -> int:
    if isinstance(font, ImageFont.FreeTypeFont):
        ascent, descent = font.getmetrics()
        return math.ceil((ascent + descent) * 1.06) + stroke
    _left, top, _right, bottom = font.getbbox("Ag")
    return int(bottom - top) + 4 + stroke


def _wrap(text: str, font: _AnyFont, max_width: float, stroke: int) -> list[str]:
    """Greedy word wrap honouring explicit newlines; words wider than a line are split by characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split()
        if not words:
            continue
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if _text_width(font, candidate, stroke) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            # The word alone may still be too wide (URLs, SKUs, German compounds): hard-split it.
            current = ""
            for char in word:
                if current and _text_width(font, current + char, stroke) > max_width:
                    lines.append(current)
                    current = char
                else:
                    current += char
        if current:
            lines.append(current)
    return lines


def _ellipsize(line: str, font: _AnyFont, max_width: float, stroke: int) -> str:
    """Shorten ``line`` until it plus an ellipsis fits ``max_width``."""
    mark = _ellipsis(font)
    while line and _text_width(font, line.rstrip() + mark, stroke) > max_width:
        line = line[:-1]
    return line.rstrip() + mark


@dataclass(frozen=True)
class _TextLayout:
    font: _AnyFont
    lines: tuple[str, ...]
    stroke: int
    line_height: int


def _fit_text(
    text: str,
    *,
    bold: bool,
    max_size: int,
    min_size: int,
    max_width: int,
    max_height: int,
    stroke_ratio: float,
    pad: Callable[[int], int],
) -> _TextLayout:
    """Pick the largest font size whose wrapped text fits the box; truncate with an ellipsis otherwise.

    This is what guarantees that long or hostile text (a 300-character headline, one 80-letter word) never
    overflows the frame: the box is a hard limit, the font shrinks to ``min_size`` and then lines are cut.
    """
    size = max(min_size, max_size)
    while True:
        font = _font(bold, size)
        stroke = max(1, round(size * stroke_ratio)) if _is_freetype(font) else 0
        inner_w = max_width - 2 * pad(size)
        inner_h = max_height - 2 * pad(size)
        line_h = _line_height(font, stroke)
        lines = _wrap(text, font, inner_w, stroke)
        if len(lines) * line_h <= inner_h or size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    max_lines = max(1, inner_h // line_h)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _ellipsize(lines[max_lines - 1] + " ", font, inner_w, stroke)]
    return _TextLayout(font=font, lines=tuple(lines), stroke=stroke, line_height=line_h)


def _shadow_params(size: int) -> tuple[int, int]:
    """(offset, blur radius) of the drop shadow under text of font size ``size``."""
    return max(1, round(size * 0.06)), max(1, round(size * 0.07))


def _text_pad(size: int) -> int:
    offset, blur = _shadow_params(size)
    return offset + 2 * blur + 2


def _render_text_block(
    text: str,
    *,
    bold: bool,
    max_size: int,
    min_size: int,
    max_width: int,
    max_height: int,
    fill: _Rgb = TEXT_FILL,
    stroke_fill: _Rgb = TEXT_STROKE,
    stroke_ratio: float = 0.085,
    shadow: bool = True,
) -> Image.Image | None:
    """Rasterise centred, wrapped text with a stroke and a soft drop shadow to an RGBA tile (once).

    The tile is padded by the stroke and shadow so nothing is clipped (the TextClip pitfall of losing the
    bottom of a stroked last line), and it is never larger than ``max_width`` x ``max_height``.
    """
    if not text.strip():
        return None
    layout = _fit_text(
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
    widths = [_text_width(font, line, stroke) for line in layout.lines]
    tile_w = min(max_width, math.ceil(max(widths)) + 2 * pad)
    tile_h = min(max_height, len(layout.lines) * layout.line_height + 2 * pad)
    tile = Image.new("RGBA", (tile_w, tile_h), (*fill, 0))

    def draw_lines(target: ImageDraw.ImageDraw, dx: int, dy: int, colour: Any, outline: Any) -> None:
        for i, line in enumerate(layout.lines):
            xy = (tile_w / 2 + dx, pad + i * layout.line_height + stroke + dy)
            kwargs: dict[str, Any] = {"font": font, "fill": colour}
            if stroke:
                kwargs.update(stroke_width=stroke, stroke_fill=outline)
            if _is_freetype(font):
                kwargs["anchor"] = "ma"
                target.text(xy, _safe_text(font, line), **kwargs)
            else:
                line_w = _text_width(font, line, stroke)
                target.text((xy[0] - line_w / 2, xy[1]), _safe_text(font, line), **kwargs)

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


# --------------------------------------------------------------------------------------------------------
# Price badge and call-to-action button
# --------------------------------------------------------------------------------------------------------


def _parse_amount(text: str) -> float | None:
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


def _discount_label(price_text: str, compare_at_text: str | None) -> str | None:
    """The "-38%" chip text when both prices parse and the price is really lower; None when in doubt."""
    if not compare_at_text:
        return None
    price, compare = _parse_amount(price_text), _parse_amount(compare_at_text)
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


def _fit_single_line(
    text: str, bold: bool, size: int, min_size: int, max_width: float
) -> tuple[_AnyFont, str]:
    """Largest font (down to ``min_size``) fitting ``text`` on one line; ellipsize if still too wide."""
    while True:
        font = _font(bold, size)
        if _text_width(font, text, 0) <= max_width or size <= min_size:
            break
        size = max(min_size, int(size * 0.92))
    if _text_width(font, text, 0) > max_width:
        text = _ellipsize(text, font, max_width, 0)
    return font, text


def _render_price_badge(
    price_text: str, compare_at_text: str | None, frame_w: int, scale: float = 1.0
) -> Image.Image | None:
    """A rounded yellow badge: struck-through compare-at price, the price, and a red "-NN%" chip."""
    if not price_text.strip():
        return None
    max_w = int(frame_w * 0.88)
    price_size = max(12, round(frame_w * 0.085 * scale))
    pad_x, pad_y = round(price_size * 0.45), round(price_size * 0.22)
    gap = round(price_size * 0.35)
    discount = _discount_label(price_text, compare_at_text)
    old_text = compare_at_text.strip() if compare_at_text and compare_at_text.strip() else None

    # Shrink everything together until the row fits the width budget.
    for _ in range(40):
        price_font = _font(True, price_size)
        old_font = _font(False, max(10, round(price_size * 0.58)))
        chip_font = _font(True, max(10, round(price_size * 0.42)))
        parts_w = _text_width(price_font, price_text, 0)
        if old_text:
            parts_w += gap + _text_width(old_font, old_text, 0)
        if discount:
            parts_w += gap + _text_width(chip_font, discount, 0) + price_size * 0.4
        if parts_w + 2 * pad_x <= max_w or price_size <= 14:
            break
        price_size = max(14, int(price_size * 0.92))
        pad_x, pad_y = round(price_size * 0.45), round(price_size * 0.22)
        gap = round(price_size * 0.35)

    budget = max_w - 2 * pad_x
    if old_text and parts_w + 2 * pad_x > max_w:
        old_text = None  # drop the compare-at before truncating the actual price
        discount = None
    price_font, price_line = _fit_single_line(price_text, True, price_size, 14, budget)
    row_h = _line_height(price_font, 0)
    items: list[tuple[str, _AnyFont, str]] = []
    if old_text:
        items.append(("old", old_font, old_text))
    items.append(("price", price_font, price_line))
    if discount:
        items.append(("chip", chip_font, discount))
    widths = []
    for kind, font, text in items:
        w = _text_width(font, text, 0)
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
        text = _safe_text(font, text)
        anchor = {"anchor": "lm"} if _is_freetype(font) else {}
        y = mid_y if anchor else mid_y - _line_height(font, 0) / 2
        if kind == "old":
            draw.text((x, y), text, font=font, fill=(*BADGE_OLD_TEXT, 255), **anchor)
            thickness = max(2, round(price_size * 0.06))
            draw.line((x - 2, mid_y, x + w + 2, mid_y), fill=(*DISCOUNT_FILL, 255), width=thickness)
        elif kind == "price":
            draw.text((x, y), text, font=font, fill=(*BADGE_TEXT, 255), **anchor)
        else:
            chip_h = round(_line_height(font, 0) * 1.15)
            draw.rounded_rectangle(
                (x, mid_y - chip_h / 2, x + w, mid_y + chip_h / 2),
                radius=chip_h // 2,
                fill=(*DISCOUNT_FILL, 255),
            )
            draw.text((x + price_size * 0.2, y), text, font=font, fill=(255, 255, 255, 255), **anchor)
        x += w + gap
    return _shadowed(badge, radius=max(2, badge_h // 8), offset=max(2, badge_h // 14))


def _render_cta_button(text: str, frame_w: int, frame_h: int) -> Image.Image | None:
    """A red pill button with white bold text (two lines at most), shadowed."""
    if not text.strip():
        return None
    max_w = int(frame_w * 0.84)
    size = max(12, round(frame_w * 0.072))
    pad_x, pad_y = round(size * 0.9), round(size * 0.45)
    label = _render_text_block(
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


# --------------------------------------------------------------------------------------------------------
# Scene canvases (built once per scene)
# --------------------------------------------------------------------------------------------------------


def _load_image(path: Path, hint_size: _ImageSize) -> Image.Image:
    """Decode a product image to RGB or RGBA, EXIF-rotated; a clear error naming the file otherwise."""
    try:
        with Image.open(path) as img:
            img.draft("RGB", hint_size)  # JPEG: decode at reduced scale when the photo is huge
            img = ImageOps.exif_transpose(img)
            has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            img = img.convert("RGBA" if has_alpha else "RGB")
            img.load()
    except FileNotFoundError as exc:
        raise InvalidImageError(path, "file not found") from exc
    except Image.DecompressionBombError as exc:
        raise InvalidImageError(path, f"image is too large to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImageError(path, f"not a readable PNG/JPEG image ({exc})") from exc
    if img.width < 1 or img.height < 1:
        raise InvalidImageError(path, "image has no pixels")
    if img.mode == "RGBA" and img.getchannel("A").getextrema()[1] == 0:
        raise InvalidImageError(path, "image is fully transparent")
    return img


def _cover(img: Image.Image, size: _ImageSize, resample: Image.Resampling) -> Image.Image:
    return ImageOps.fit(img, size, method=resample, centering=(0.5, 0.5))


def _contain_size(img_size: _ImageSize, box: _ImageSize) -> _ImageSize:
    scale = min(box[0] / img_size[0], box[1] / img_size[1])
    return max(1, round(img_size[0] * scale)), max(1, round(img_size[1] * scale))


def _flatten(img: Image.Image, background: _Rgb = (245, 245, 245)) -> Image.Image:
    """RGB version of a possibly transparent product cut-out (for the blurred fill)."""
    if img.mode != "RGBA":
        return img
    base = Image.new("RGB", img.size, background)
    base.paste(img, (0, 0), img)
    return base


def _compose_canvas(
    img: Image.Image,
    canvas_size: _ImageSize,
    *,
    fit_box: tuple[float, float],
    center_y: float,
    darken: float,
) -> tuple[Image.Image, _Rect]:
    """The image fitted on a blurred, darkened fill of itself, with rounded corners and a soft shadow.

    ``fit_box`` is the (width, height) fraction of the canvas the product may occupy and ``center_y`` its
    vertical centre; the blur is done on a 1/8 thumbnail and scaled up, which is both much cheaper than a
    full-resolution Gaussian and smoother. Also returns the "detail" rectangle (the product plus a margin):
    everything outside it is blurred, which lets the per-frame zoom resample it the cheap way.
    """
    cw, ch = canvas_size
    flat = _flatten(img)
    small = (max(8, cw // 8), max(8, ch // 8))
    fill = _cover(flat, small, Image.Resampling.BILINEAR)
    fill = fill.filter(ImageFilter.GaussianBlur(max(2, small[0] // 24)))
    fill = fill.resize(canvas_size, Image.Resampling.BICUBIC)
    fill = fill.point(lambda v: int(v * darken))
    canvas = fill.convert("RGB")

    fg_w, fg_h = _contain_size(img.size, (int(cw * fit_box[0]), int(ch * fit_box[1])))
    fg = img.resize((fg_w, fg_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    x = (cw - fg_w) // 2
    y = int(ch * center_y - fg_h / 2)
    y = min(max(0, y), ch - fg_h)

    radius = max(2, round(min(cw, ch) * 0.028))
    if fg.mode == "RGBA":
        mask = fg.getchannel("A")
    else:
        mask = Image.new("L", (fg_w, fg_h), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, fg_w - 1, fg_h - 1), radius=radius, fill=255)

    # Soft shadow from the product's own silhouette.
    blur = max(2, round(min(cw, ch) * 0.025))
    offset = max(2, round(min(cw, ch) * 0.012))
    # Blurred at 1/4 scale and scaled back up: same look as a full-size Gaussian at a fraction of the cost.
    shadow = Image.new("L", canvas_size, 0)
    shadow.paste(mask, (x + offset, y + 2 * offset))
    quarter = (max(1, cw // 4), max(1, ch // 4))
    shadow = shadow.resize(quarter, Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(max(1, blur / 4)))
    shadow = shadow.resize(canvas_size, Image.Resampling.BICUBIC).point(lambda v: int(v * 0.6))
    canvas.paste((0, 0, 0), (0, 0, cw, ch), shadow)
    canvas.paste(fg.convert("RGB"), (x, y), mask)
    margin = 4
    detail = (max(0, x - margin), max(0, y - margin), min(cw, x + fg_w + margin), min(ch, y + fg_h + margin))
    return canvas, detail


# --------------------------------------------------------------------------------------------------------
# Timeline and per-frame compositing
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Motion:
    """Ken-Burns move: zoom from ``z0`` to ``z1`` while the box centre goes from ``a0`` to ``a1``.

    Anchors are fractions of the room the box has to move in, so any anchor keeps the box inside the canvas.
    """

    z0: float
    z1: float
    a0: tuple[float, float]
    a1: tuple[float, float]


_MOTIONS: tuple[_Motion, ...] = (
    _Motion(ZOOM_MIN, ZOOM_MAX, (0.5, 0.5), (0.5, 0.35)),
    _Motion(ZOOM_MAX, ZOOM_MIN + 0.02, (0.25, 0.5), (0.6, 0.5)),
    _Motion(ZOOM_MIN + 0.02, ZOOM_MAX, (0.65, 0.6), (0.35, 0.45)),
    _Motion(ZOOM_MAX, ZOOM_MIN, (0.5, 0.25), (0.5, 0.6)),
)
#: The end card holds still: it is computed once and x264 encodes the repeated frames almost for free;
#: the fade-ins and the pulsing button keep it alive.
_CTA_MOTION = _Motion(ZOOM_MIN, ZOOM_MIN, (0.5, 0.5), (0.5, 0.5))


@dataclass
class _Scene:
    canvas: Image.Image
    detail: _Rect  # canvas region with sharp content (the product); the rest is blurred fill
    start: float  # visible from (crossfade included)
    end: float  # visible until (crossfade included)
    motion: _Motion
    _still: Image.Image | None = None  # cached frame of a scene without motion

    @property
    def is_still(self) -> bool:
        return self.motion.z0 == self.motion.z1 and self.motion.a0 == self.motion.a1


@dataclass
class _Sprite:
    """One pre-rasterised overlay image: RGB pixels plus an alpha mask, at a fixed frame position."""

    rgb: Image.Image
    alpha: Image.Image
    x: int
    y: int
    _faded: dict[int, Image.Image] = field(default_factory=dict)

    def mask(self, step: int) -> Image.Image:
        """The alpha mask at fade level ``step``/32, computed once per level and cached."""
        if step >= _FADE_STEPS:
            return self.alpha
        cached = self._faded.get(step)
        if cached is None:
            lut = [v * step // _FADE_STEPS for v in range(256)]
            cached = self._faded[step] = self.alpha.point(lut)
        return cached


_FADE_STEPS = 32


@dataclass
class _Overlay:
    """A sprite shown for a time window with fades; several sprites = a pulse (smallest first)."""

    sprites: tuple[_Sprite, ...]
    start: float
    end: float
    fade_in: float
    fade_out: float
    pulse_period: float = 0.0
    pulse_start: float = 0.0

    def draw(self, img: Image.Image, t: float) -> None:
        """Paste onto ``img`` in place: only the sprite's bounding box is touched."""
        if not self.start <= t < self.end:
            return
        level = 1.0
        if self.fade_in > 0:
            level = min(level, (t - self.start) / self.fade_in)
        if self.fade_out > 0:
            level = min(level, (self.end - t) / self.fade_out)
        step = max(0, min(_FADE_STEPS, round(level * _FADE_STEPS)))
        if step == 0:
            return
        sprite = self.sprites[0]
        if len(self.sprites) > 1 and self.pulse_period > 0 and t >= self.pulse_start:
            # A short "heartbeat" at the start of each period, then rest: draws the eye without nagging.
            phase = ((t - self.pulse_start) % self.pulse_period) / self.pulse_period
            amount = math.sin(math.pi * phase / 0.35) if phase < 0.35 else 0.0
            sprite = self.sprites[round(amount * (len(self.sprites) - 1))]
        img.paste(sprite.rgb, (sprite.x, sprite.y), sprite.mask(step))


def _sprite(
    tile: Image.Image, frame: _ImageSize, center_x: float, top: float | None, center_y: float
) -> _Sprite:
    """Place a tile, clamped inside the frame (and cropped if it could ever be larger than the frame)."""
    fw, fh = frame
    if tile.width > fw or tile.height > fh:
        tile = tile.crop((0, 0, min(tile.width, fw), min(tile.height, fh)))
    x = round(fw * center_x - tile.width / 2)
    y = round(fh * top) if top is not None else round(fh * center_y - tile.height / 2)
    x = min(max(0, x), fw - tile.width)
    y = min(max(0, y), fh - tile.height)
    rgba = tile.convert("RGBA")
    return _Sprite(rgb=rgba.convert("RGB"), alpha=rgba.getchannel("A"), x=x, y=y)


def _overlay(
    tile: Image.Image | None,
    frame: _ImageSize,
    *,
    center_x: float,
    top: float | None = None,
    center_y: float = 0.5,
    start: float,
    end: float,
    fade_in: float = 0.3,
    fade_out: float = 0.3,
    pulse_scales: Sequence[float] = (),
    pulse_period: float = 0.0,
) -> _Overlay | None:
    """An overlay for a time window; ``pulse_scales`` pre-renders scaled copies for a pulse animation."""
    if tile is None or end <= start:
        return None
    sprites = [_sprite(tile, frame, center_x, top, center_y)]
    for scale in pulse_scales:
        size = (max(1, round(tile.width * scale)), max(1, round(tile.height * scale)))
        sprites.append(_sprite(tile.resize(size, Image.Resampling.LANCZOS), frame, center_x, top, center_y))
    return _Overlay(
        sprites=tuple(sprites),
        start=start,
        end=end,
        fade_in=fade_in,
        fade_out=fade_out,
        pulse_period=pulse_period,
        pulse_start=start + fade_in + 0.3,
    )


@dataclass
class _Plan:
    """Everything precomputed for one render; ``frame(t)`` is all that runs per frame."""

    size: _ImageSize
    duration: float
    scenes: list[_Scene]
    overlays: list[_Overlay]

    def _scene_frame(self, scene: _Scene, t: float) -> Image.Image:
        """One Ken-Burns frame: Pillow resizes from a float box of the canvas (crop + sub-pixel zoom at once).

        Resampling is ~85 % of the frame cost (18 ms per 720x1280 bilinear resize here), so it is split by
        content: the whole frame is sampled NEAREST (~1 ms; invisible on the blurred fill, whose neighbouring
        pixels are near-identical) and only the sharp product rectangle is resampled BILINEAR and pasted over
        it. Both use the same float mapping, so the seam (inside the blurred margin) is invisible and the
        motion stays sub-pixel smooth; cost drops roughly in proportion to the product's share of the frame.
        """
        if scene.is_still and scene._still is not None:
            return scene._still.copy()  # callers paste overlays onto the frame: never hand out the cache
        span = max(1e-6, scene.end - scene.start)
        p = min(1.0, max(0.0, (t - scene.start) / span))
        m = scene.motion
        zoom = m.z0 + (m.z1 - m.z0) * p
        ax = m.a0[0] + (m.a1[0] - m.a0[0]) * p
        ay = m.a0[1] + (m.a1[1] - m.a0[1]) * p
        cw, ch = scene.canvas.size
        bw, bh = cw / zoom, ch / zoom
        x0 = (cw - bw) * ax
        y0 = (ch - bh) * ay
        bx0, by0 = max(0.0, x0), max(0.0, y0)
        bx1, by1 = min(float(cw), x0 + bw), min(float(ch), y0 + bh)
        fw, fh = self.size
        img = scene.canvas.resize(self.size, Image.Resampling.NEAREST, box=(bx0, by0, bx1, by1))
        sx, sy = (bx1 - bx0) / fw, (by1 - by0) / fh
        rx0, ry0, rx1, ry1 = scene.detail
        dx0 = max(0, math.floor((rx0 - bx0) / sx))
        dy0 = max(0, math.floor((ry0 - by0) / sy))
        dx1 = min(fw, math.ceil((rx1 - bx0) / sx))
        dy1 = min(fh, math.ceil((ry1 - by0) / sy))
        if dx1 > dx0 and dy1 > dy0:
            sub_box = (
                max(0.0, bx0 + dx0 * sx),
                max(0.0, by0 + dy0 * sy),
                min(float(cw), bx0 + dx1 * sx),
                min(float(ch), by0 + dy1 * sy),
            )
            patch = scene.canvas.resize((dx1 - dx0, dy1 - dy0), Image.Resampling.BILINEAR, box=sub_box)
            img.paste(patch, (dx0, dy0))
        if scene.is_still:
            scene._still = img.copy()
        return img

    def frame_image(self, t: float) -> Image.Image:
        active = [s for s in self.scenes if s.start <= t < s.end] or [self.scenes[-1]]
        img = self._scene_frame(active[0], t)
        if len(active) > 1:  # crossfade: the incoming scene's weight ramps 0 -> 1 over the overlap
            incoming = active[1]
            overlap = max(1e-6, active[0].end - incoming.start)
            weight = min(1.0, max(0.0, (t - incoming.start) / overlap))
            img = Image.blend(img, self._scene_frame(incoming, t), weight)
        for overlay in self.overlays:
            overlay.draw(img, t)
        return img

    def frame(self, t: float) -> np.ndarray:
        return np.asarray(self.frame_image(t))


def _distribute(n_scenes: int, n_items: int) -> list[tuple[int, int]]:
    """Split ``n_scenes`` scenes into ``n_items`` contiguous runs [first, last] (n_items <= n_scenes)."""
    return [(i * n_scenes // n_items, (i + 1) * n_scenes // n_items - 1) for i in range(n_items)]


def _build_plan(spec: VideoAdSpec) -> _Plan:
    """Decode images, pre-compose canvases, rasterise overlays and lay out the timeline (all once)."""
    w, h = spec.width, spec.height
    duration = float(spec.duration_s)
    canvas_size = (round(w * CANVAS_SCALE), round(h * CANVAS_SCALE))
    hint = (canvas_size[0], canvas_size[1])

    cta_s = min(3.5, max(2.5, duration * 0.22))
    product_s = duration - cta_s
    max_scenes = max(1, int(product_s // MIN_SCENE_S))
    n_scenes = min(max(len(spec.image_paths), len(spec.captions)), max_scenes)
    if len(spec.image_paths) > n_scenes:
        log.info("ad uses %d of %d images (%.1f s leaves room for %d scenes)",
                 n_scenes, len(spec.image_paths), duration, n_scenes)  # fmt: skip
    # Decode every image, used or not, so a corrupt file always fails loudly instead of depending on length.
    images = [_load_image(p, hint) for p in spec.image_paths][:n_scenes]

    bounds = [product_s * i / n_scenes for i in range(n_scenes + 1)] + [duration]
    half = CROSSFADE_S / 2
    scenes: list[_Scene] = []
    canvases: dict[int, tuple[Image.Image, _Rect]] = {}
    for i in range(n_scenes):
        key = i % len(images)
        if key not in canvases:
            canvases[key] = _compose_canvas(
                images[key], canvas_size, fit_box=(0.90, 0.60), center_y=0.47, darken=0.55
            )
        canvas, detail = canvases[key]
        start = 0.0 if i == 0 else bounds[i] - half
        scenes.append(_Scene(canvas, detail, start, bounds[i + 1] + half, _MOTIONS[i % len(_MOTIONS)]))
    cta_canvas, cta_detail = _compose_canvas(
        images[0], canvas_size, fit_box=(0.66, 0.40), center_y=0.36, darken=0.38
    )
    scenes.append(_Scene(cta_canvas, cta_detail, product_s - half, duration + 1.0, _CTA_MOTION))

    frame = (w, h)
    overlays: list[_Overlay | None] = []
    # Headline: visible from the very first frame (it is the thumbnail), at least ~3 s.
    headline_end = min(max(bounds[1] - half, 3.0), product_s - half)
    headline = _render_text_block(
        spec.headline,
        bold=True,
        max_size=round(w * 0.085),
        min_size=max(10, round(w * 0.042)),
        max_width=int(w * 0.92),
        max_height=int(h * 0.21),
    )
    overlays.append(
        _overlay(headline, frame, center_x=0.5, top=0.045, start=0.0, end=headline_end, fade_in=0.0)
    )

    captions = list(spec.captions[:n_scenes])
    runs = _distribute(n_scenes, len(captions)) if captions else []
    for caption, (first, last) in zip(captions, runs, strict=True):
        tile = _render_text_block(
            caption,
            bold=True,
            max_size=round(w * 0.064),
            min_size=max(10, round(w * 0.036)),
            max_width=int(w * 0.90),
            max_height=int(h * 0.15),
        )
        start = bounds[first] + (0.6 if first == 0 else 0.15)
        end = bounds[last + 1] - (half if last == n_scenes - 1 else 0.1)
        overlays.append(_overlay(tile, frame, center_x=0.5, center_y=0.735, start=start, end=end))

    badge = _render_price_badge(spec.price_text, spec.compare_at_text, w)
    badge_start = min(1.0, bounds[1] * 0.5)
    overlays.append(
        _overlay(badge, frame, center_x=0.5, center_y=0.835, start=badge_start, end=product_s - half)
    )

    cta_badge = _render_price_badge(spec.price_text, spec.compare_at_text, w, scale=1.15)
    cta_button = _render_cta_button(spec.call_to_action, w, h)
    cta_in = product_s + 0.05
    overlays.append(
        _overlay(cta_badge, frame, center_x=0.5, center_y=0.63, start=cta_in, end=duration + 1.0, fade_out=0)
    )
    overlays.append(
        _overlay(
            cta_button,
            frame,
            center_x=0.5,
            center_y=0.76,
            start=cta_in + 0.2,
            end=duration + 1.0,
            fade_out=0,
            pulse_scales=[1 + 0.07 * k / 6 for k in range(1, 7)],
            pulse_period=1.4,
        )
    )
    return _Plan(size=frame, duration=duration, scenes=scenes, overlays=[o for o in overlays if o])


class _PrefetchingFrames:
    """Frame function that computes the next frames on helper threads while moviepy writes the current one.

    moviepy's writer loop is strictly serial: get_frame, ``tobytes``, blocking pipe write to ffmpeg. The
    expensive parts (Pillow's resample/blend/paste and the pipe write) release the GIL, so keeping a few
    frames in flight on ``workers`` threads lets frame compositing use whatever CPU x264 leaves idle.
    Frames are still delivered strictly in order. A time that was not predicted (moviepy probes frame 0
    for the size) is computed inline. Only moviepy's thread calls this object, so no lock is needed.
    """

    def __init__(self, plan: _Plan, fps: int, *, workers: int, depth: int) -> None:
        self._plan = plan
        self._fps = fps
        self._n_frames = int(plan.duration * fps)
        self._depth = max(0, depth)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="video-ad-frame")
        self._pending: dict[int, Future[np.ndarray]] = {}

    def _index(self, t: float) -> int | None:
        index = round(t * self._fps)
        return index if abs(index / self._fps - t) < 1e-6 else None

    def __call__(self, t: float) -> np.ndarray:
        index = self._index(t)
        if index is None:
            return self._plan.frame(t)
        for ahead in range(index + 1, min(self._n_frames, index + 1 + self._depth)):
            if ahead not in self._pending:
                self._pending[ahead] = self._pool.submit(self._plan.frame, ahead / self._fps)
        future = self._pending.pop(index, None)
        return future.result() if future is not None else self._plan.frame(t)

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)


# --------------------------------------------------------------------------------------------------------
# Rendering with cache
# --------------------------------------------------------------------------------------------------------


def _expected_frames(spec: VideoAdSpec) -> int:
    """Frames moviepy writes: ``int(duration * fps)`` (its own rule in ``iter_frames``)."""
    return int(float(spec.duration_s) * spec.fps)


def _probe_matches(path: Path, spec: VideoAdSpec) -> RenderedVideo | None:
    """A RenderedVideo for ``path`` if it is a complete H.264 file of the spec's geometry, else None."""
    try:
        probe = probe_video(path)
    except InvalidVideoError as exc:
        log.warning("cached video %s is unusable (%s); re-rendering", path, exc)
        return None
    ok = (
        probe.codec == "h264"
        and (probe.width, probe.height) == (spec.width, spec.height)
        and probe.frame_count == _expected_frames(spec)
        and abs(probe.duration_s - float(spec.duration_s)) <= 0.25
    )
    if not ok:
        log.warning("cached video %s does not match its spec (%s); re-rendering", path, probe)
        return None
    return RenderedVideo(
        path=path,
        width=probe.width,
        height=probe.height,
        duration_s=probe.duration_s,
        fps=probe.fps,
        size_bytes=path.stat().st_size,
        render_seconds=0.0,
        fingerprint=path.stem,
    )


def _write_video(plan: _Plan, spec: VideoAdSpec, target: Path) -> None:
    """Encode the plan through moviepy: one VideoClip whose frame function is the precomputed plan."""
    from moviepy import VideoClip  # deferred: importing moviepy costs ~0.3 s and is only needed here

    frames = _PrefetchingFrames(plan, spec.fps, workers=FRAME_WORKERS, depth=PREFETCH_DEPTH)
    try:
        clip = VideoClip(frame_function=frames, duration=float(spec.duration_s))
        clip.write_videofile(
            str(target),
            fps=spec.fps,
            codec="libx264",
            audio=False,
            preset=X264_PRESET,
            threads=FFMPEG_THREADS,
            logger=None,
            ffmpeg_params=[
                "-crf",
                str(X264_CRF),
                "-x264-params",
                X264_PARAMS,
                "-pix_fmt",
                "yuv420p",
                "-movflags",
                "+faststart",
            ],
        )
        clip.close()
    finally:
        frames.close()


def render_video_ad(spec: VideoAdSpec, out_dir: Path) -> RenderedVideo:
    """Render ``<out_dir>/<fingerprint>.mp4`` (H.264, yuv420p, no audio), or return it from the cache.

    A cached file is reused only if it probes as a complete H.264 video of the right geometry; otherwise it
    is re-rendered. Rendering writes to a unique temporary name in ``out_dir`` and renames atomically, so a
    crash or a concurrent render of the same spec never leaves a half-written file under the final name.
    """
    out_dir = Path(out_dir)
    fingerprint = spec_fingerprint(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{fingerprint}.mp4"
    if target.exists():
        cached = _probe_matches(target, spec)
        if cached is not None:
            log.info("video ad cache hit: %s", target)
            return cached

    started = time.perf_counter()
    plan = _build_plan(spec)
    tmp = out_dir / f".{fingerprint}.{uuid.uuid4().hex[:8]}.part.mp4"
    try:
        _write_video(plan, spec, tmp)
        rendered = _probe_matches(tmp, spec)
        if rendered is None:
            raise RuntimeError(f"ffmpeg produced an invalid video for spec {fingerprint} ({tmp})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    elapsed = time.perf_counter() - started
    log.info("rendered %s in %.2f s (%.2fx real time)", target, elapsed, elapsed / float(spec.duration_s))
    return RenderedVideo(
        path=target,
        width=rendered.width,
        height=rendered.height,
        duration_s=rendered.duration_s,
        fps=rendered.fps,
        size_bytes=target.stat().st_size,
        render_seconds=elapsed,
        fingerprint=fingerprint,
    )
