"""The timeline of an ad and its per-frame compositing: scenes with Ken-Burns motion, timed overlays.

Everything here is prepared once (canvases, sprites, faded masks, the still end card); ``FramePlan.frame(t)``
is all that runs per frame, a handful of Pillow C calls. The package docstring says where the time went.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from dropship_pipelines.media.images import ImageSize, Rect

FADE_STEPS = 32


@dataclass(frozen=True)
class Motion:
    """Ken-Burns move: zoom from ``z0`` to ``z1`` while the box centre goes from ``a0`` to ``a1``.

    Anchors are fractions of the room the box has to move in, so any anchor keeps the box inside the canvas.
    """

    z0: float
    z1: float
    a0: tuple[float, float]
    a1: tuple[float, float]


@dataclass
class Scene:
    canvas: Image.Image
    detail: Rect  # canvas region with sharp content (the product); the rest is blurred fill
    start: float  # visible from (crossfade included)
    end: float  # visible until (crossfade included)
    motion: Motion
    _still: Image.Image | None = None  # cached frame of a scene without motion

    @property
    def is_still(self) -> bool:
        return self.motion.z0 == self.motion.z1 and self.motion.a0 == self.motion.a1


@dataclass
class Sprite:
    """One pre-rasterised overlay image: RGB pixels plus an alpha mask, at a fixed frame position."""

    rgb: Image.Image
    alpha: Image.Image
    x: int
    y: int
    _faded: dict[int, Image.Image] = field(default_factory=dict)

    def mask(self, step: int) -> Image.Image:
        """The alpha mask at fade level ``step``/32, computed once per level and cached."""
        if step >= FADE_STEPS:
            return self.alpha
        cached = self._faded.get(step)
        if cached is None:
            lut = [v * step // FADE_STEPS for v in range(256)]
            cached = self._faded[step] = self.alpha.point(lut)
        return cached


@dataclass
class Overlay:
    """A sprite shown for a time window with fades; several sprites = a pulse (smallest first)."""

    sprites: tuple[Sprite, ...]
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
        step = max(0, min(FADE_STEPS, round(level * FADE_STEPS)))
        if step == 0:
            return
        sprite = self.sprites[0]
        if len(self.sprites) > 1 and self.pulse_period > 0 and t >= self.pulse_start:
            # A short "heartbeat" at the start of each period, then rest: draws the eye without nagging.
            phase = ((t - self.pulse_start) % self.pulse_period) / self.pulse_period
            amount = math.sin(math.pi * phase / 0.35) if phase < 0.35 else 0.0
            sprite = self.sprites[round(amount * (len(self.sprites) - 1))]
        img.paste(sprite.rgb, (sprite.x, sprite.y), sprite.mask(step))


def place_sprite(
    tile: Image.Image, frame: ImageSize, center_x: float, top: float | None, center_y: float
) -> Sprite:
    """Place a tile, clamped inside the frame (and cropped if it could ever be larger than the frame)."""
    fw, fh = frame
    if tile.width > fw or tile.height > fh:
        tile = tile.crop((0, 0, min(tile.width, fw), min(tile.height, fh)))
    x = round(fw * center_x - tile.width / 2)
    y = round(fh * top) if top is not None else round(fh * center_y - tile.height / 2)
    x = min(max(0, x), fw - tile.width)
    y = min(max(0, y), fh - tile.height)
    rgba = tile.convert("RGBA")
    return Sprite(rgb=rgba.convert("RGB"), alpha=rgba.getchannel("A"), x=x, y=y)


def make_overlay(
    tile: Image.Image | None,
    frame: ImageSize,
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
) -> Overlay | None:
    """An overlay for a time window; ``pulse_scales`` pre-renders scaled copies for a pulse animation."""
    if tile is None or end <= start:
        return None
    sprites = [place_sprite(tile, frame, center_x, top, center_y)]
    for scale in pulse_scales:
        size = (max(1, round(tile.width * scale)), max(1, round(tile.height * scale)))
        sprites.append(
            place_sprite(tile.resize(size, Image.Resampling.LANCZOS), frame, center_x, top, center_y)
        )
    return Overlay(
        sprites=tuple(sprites),
        start=start,
        end=end,
        fade_in=fade_in,
        fade_out=fade_out,
        pulse_period=pulse_period,
        pulse_start=start + fade_in + 0.3,
    )


@dataclass
class FramePlan:
    """Everything precomputed for one render; ``frame(t)`` is all that runs per frame."""

    size: ImageSize
    duration: float
    scenes: list[Scene]
    overlays: list[Overlay]

    def _scene_frame(self, scene: Scene, t: float) -> Image.Image:
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
