"""Product-photo-like test images, cheap to encode, for the media tests."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def product_photo(path: Path, size: tuple[int, int], hue: int) -> Path:
    """A gradient background, a light round 'product' with a dark outline, a coloured box."""
    w, h = size
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    rgb = np.stack(
        [
            np.broadcast_to((hue + 120 * x) % 256, (h, w)),
            np.broadcast_to(80 + 120 * y, (h, w)),
            np.broadcast_to(200 - 100 * x * y, (h, w)),
        ],
        axis=-1,
    ).astype(np.uint8)
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    draw.ellipse((w * 0.2, h * 0.2, w * 0.8, h * 0.8), fill=(245, 240, 230), outline=(20, 20, 20), width=4)
    draw.rectangle((w * 0.4, h * 0.35, w * 0.6, h * 0.65), fill=(hue, 60, 150))
    img.save(path)
    return path
