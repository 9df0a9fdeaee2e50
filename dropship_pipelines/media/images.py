"""Product images: decoding with clear errors, and the scene canvas each image is pre-composed to once.

A scene canvas is the image fitted, with rounded corners and a soft shadow, on a blurred, darkened fill of
itself (no black bars), slightly larger than the frame so the Ken-Burns motion has room to zoom and pan.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

ImageSize = tuple[int, int]
Rect = tuple[int, int, int, int]


class InvalidImageError(ValueError):
    """A product image is missing, unreadable or not an image; the message names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"product image {path}: {reason}")
        self.path = path


def load_image(path: Path, hint_size: ImageSize) -> Image.Image:
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


def _cover(img: Image.Image, size: ImageSize, resample: Image.Resampling) -> Image.Image:
    return ImageOps.fit(img, size, method=resample, centering=(0.5, 0.5))


def contain_size(img_size: ImageSize, box: ImageSize) -> ImageSize:
    """The largest size with the image's aspect ratio that fits ``box`` (never below 1 px)."""
    scale = min(box[0] / img_size[0], box[1] / img_size[1])
    return max(1, round(img_size[0] * scale)), max(1, round(img_size[1] * scale))


def flatten(img: Image.Image, background: tuple[int, int, int] = (245, 245, 245)) -> Image.Image:
    """RGB version of a possibly transparent product cut-out (for the blurred fill)."""
    if img.mode != "RGBA":
        return img
    base = Image.new("RGB", img.size, background)
    base.paste(img, (0, 0), img)
    return base


def compose_canvas(
    img: Image.Image,
    canvas_size: ImageSize,
    *,
    fit_box: tuple[float, float],
    center_y: float,
    darken: float,
) -> tuple[Image.Image, Rect]:
    """The image fitted on a blurred, darkened fill of itself, with rounded corners and a soft shadow.

    ``fit_box`` is the (width, height) fraction of the canvas the product may occupy and ``center_y`` its
    vertical centre; the blur is done on a 1/8 thumbnail and scaled up, which is both much cheaper than a
    full-resolution Gaussian and smoother. Also returns the "detail" rectangle (the product plus a margin):
    everything outside it is blurred, which lets the per-frame zoom resample it the cheap way.
    """
    cw, ch = canvas_size
    flat = flatten(img)
    small = (max(8, cw // 8), max(8, ch // 8))
    fill = _cover(flat, small, Image.Resampling.BILINEAR)
    fill = fill.filter(ImageFilter.GaussianBlur(max(2, small[0] // 24)))
    fill = fill.resize(canvas_size, Image.Resampling.BICUBIC)
    fill = fill.point(lambda v: int(v * darken))
    canvas = fill.convert("RGB")

    fg_w, fg_h = contain_size(img.size, (int(cw * fit_box[0]), int(ch * fit_box[1])))
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
