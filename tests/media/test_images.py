"""Product images: decoding errors name the file; the canvas keeps the product sharp in its detail box."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from dropship_pipelines.media import images


def test_contain_size_keeps_the_aspect_ratio_inside_the_box() -> None:
    assert images.contain_size((900, 900), (400, 300)) == (300, 300)
    assert images.contain_size((1400, 600), (700, 700)) == (700, 300)
    assert images.contain_size((10_000, 1), (100, 100)) == (100, 1)  # never below one pixel


def test_flatten_puts_a_cut_out_on_a_light_background() -> None:
    cut_out = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    flat = images.flatten(cut_out)
    assert flat.mode == "RGB"
    assert flat.getpixel((0, 0)) == (245, 245, 245)
    opaque = Image.new("RGB", (4, 4), (1, 2, 3))
    assert images.flatten(opaque) is opaque


def test_load_image_rejects_a_fully_transparent_png(tmp_path: Path) -> None:
    path = tmp_path / "ghost.png"
    Image.new("RGBA", (32, 32), (255, 0, 0, 0)).save(path)
    with pytest.raises(images.InvalidImageError, match=r"ghost\.png.*fully transparent"):
        images.load_image(path, (64, 64))


def test_load_image_keeps_alpha_of_a_cut_out(tmp_path: Path) -> None:
    path = tmp_path / "cutout.png"
    img = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse((4, 4, 28, 28), fill=(200, 30, 30, 255))
    img.save(path)
    assert images.load_image(path, (64, 64)).mode == "RGBA"


def test_canvas_has_the_frame_size_and_the_detail_box_holds_the_product() -> None:
    product = Image.new("RGB", (300, 200), (250, 250, 250))
    canvas, detail = images.compose_canvas(
        product, (400, 700), fit_box=(0.9, 0.6), center_y=0.47, darken=0.55
    )
    assert canvas.size == (400, 700)
    assert canvas.mode == "RGB"
    x0, y0, x1, y1 = detail
    assert 0 <= x0 < x1 <= 400 and 0 <= y0 < y1 <= 700
    # The product (360x240 after fitting) is inside the detail box, and the fill outside it is darkened.
    assert (x1 - x0, y1 - y0) == (360 + 8, 240 + 8)
    assert canvas.getpixel(((x0 + x1) // 2, (y0 + y1) // 2)) == (250, 250, 250)
    assert max(canvas.getpixel((2, 2))) < 250 * 0.55 + 1
