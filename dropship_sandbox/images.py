"""Product photos for the catalog, drawn on demand and deterministically from the product id."""

import hashlib
import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

_SIZE = (800, 800)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


@lru_cache(maxsize=512)
def product_image_png(pid: str, number: int, label: str) -> bytes:
    """A studio-style shot: a gradient backdrop, a product silhouette and its name."""
    digest = hashlib.sha256(f"{pid}:{number}".encode()).digest()
    base = (digest[0], digest[1], digest[2])
    accent = (255 - digest[3] // 2, 255 - digest[4] // 2, 255 - digest[5] // 2)
    image = Image.new("RGB", _SIZE, base)
    draw = ImageDraw.Draw(image)
    for y in range(_SIZE[1]):
        shade = y / _SIZE[1]
        draw.line([(0, y), (_SIZE[0], y)], fill=tuple(int(c * (1 - 0.5 * shade) + 40 * shade) for c in base))
    cx, cy = _SIZE[0] // 2 + (digest[6] % 80) - 40, _SIZE[1] // 2 - 40
    radius = 170 + digest[7] % 80
    if digest[8] % 2:
        draw.ellipse(
            [cx - radius, cy - radius, cx + radius, cy + radius], fill=accent, outline="white", width=6
        )
    else:
        draw.rounded_rectangle(
            [cx - radius, cy - radius, cx + radius, cy + radius],
            radius=40,
            fill=accent,
            outline="white",
            width=6,
        )
    draw.ellipse([cx - radius // 3, cy - radius // 3, cx + radius // 3, cy + radius // 3], fill=base)
    draw.text(
        (_SIZE[0] // 2, _SIZE[1] - 90),
        label[:32],
        font=_font(38),
        fill="white",
        anchor="mm",
        stroke_width=3,
        stroke_fill="black",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
