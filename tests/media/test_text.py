"""Fonts, wrapping and fitting: text never leaves the box it is given."""

from __future__ import annotations

import os

import pytest
from PIL import ImageFont

from dropship_pipelines.media import text


def _font() -> text.AnyFont:
    return text.load_font(True, 32)


def test_wrap_keeps_words_whole_and_lines_within_width() -> None:
    font = _font()
    lines = text.wrap_text("Warm dimmable light for every room of the house", font, 200, stroke=2)
    assert len(lines) > 1
    assert " ".join(lines) == "Warm dimmable light for every room of the house"
    assert all(text.text_width(font, line, 2) <= 200 for line in lines)


def test_wrap_honours_newlines_and_drops_blank_paragraphs() -> None:
    lines = text.wrap_text("Free\n\nshipping", _font(), 1000, stroke=0)
    assert lines == ["Free", "shipping"]
    assert text.wrap_text("", _font(), 1000, stroke=0) == []


def test_wrap_hard_splits_a_word_wider_than_the_line() -> None:
    font = _font()
    word = "Supercalifragilisticexpialidocious"
    lines = text.wrap_text(f"a {word}", font, 150, stroke=0)
    assert lines[0] == "a"
    assert "".join(lines[1:]) == word
    assert all(text.text_width(font, line, 0) <= 150 for line in lines)


def test_ellipsize_fits_the_width_and_ends_with_a_mark() -> None:
    font = _font()
    short = text.ellipsize("This lamp changed my evenings", font, 120, stroke=0)
    assert short.endswith("\u2026")
    assert text.text_width(font, short, 0) <= 120


def test_fit_text_shrinks_the_font_before_cutting_lines() -> None:
    box = {"bold": True, "max_size": 60, "min_size": 12, "max_width": 600, "max_height": 120}
    roomy = text.fit_text("Shop now", stroke_ratio=0.0, pad=lambda size: 0, **box)  # type: ignore[arg-type]
    assert roomy.font.size == 60  # type: ignore[union-attr]
    assert roomy.lines == ("Shop now",)

    crowded = text.fit_text("word " * 400, stroke_ratio=0.0, pad=lambda size: 0, **box)  # type: ignore[arg-type]
    assert crowded.font.size == 12  # type: ignore[union-attr]
    assert len(crowded.lines) * crowded.line_height <= 120
    assert crowded.lines[-1].endswith("\u2026")


def test_fit_single_line_shrinks_then_ellipsizes() -> None:
    font, line = text.fit_single_line("$24.99", True, 40, 14, max_width=1000)
    assert (font.size, line) == (40, "$24.99")  # type: ignore[union-attr]
    font, line = text.fit_single_line("$" + "9" * 80, True, 40, 14, max_width=200)
    assert font.size == 14  # type: ignore[union-attr]
    assert line.endswith("\u2026")
    assert text.text_width(font, line, 0) <= 200


def test_text_block_stays_inside_its_box_and_blank_text_draws_nothing() -> None:
    box = {"bold": True, "max_size": 60, "min_size": 12, "max_width": 300, "max_height": 140}
    tile = text.render_text_block("STOP SCROLLING! " * 40, **box)  # type: ignore[arg-type]
    assert tile is not None
    assert tile.mode == "RGBA"
    assert tile.width <= 300 and tile.height <= 140
    assert tile.getchannel("A").getextrema()[1] == 255
    assert text.render_text_block("   ", **box) is None  # type: ignore[arg-type]


def test_bitmap_fallback_font_replaces_what_it_cannot_encode() -> None:
    bitmap = ImageFont.load_default_imagefont()
    assert text.safe_text(bitmap, "日本 ✓") == "?? ?"
    assert text.safe_text(_font(), "日本 ✓") == "日本 ✓"


@pytest.mark.skipif(not os.path.isdir("/usr/share/fonts/truetype/dejavu"), reason="DejaVu not installed")
def test_dejavu_is_used_when_installed() -> None:
    font = text.load_font(True, 40)
    assert "DejaVu" in " ".join(font.getname())  # type: ignore[union-attr]
