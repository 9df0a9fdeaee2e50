"""The timeline of an ad and its per-frame compositing: scenes with Ken-Burns motion, timed overlays.

Everything here is prepared once (canvases, sprites, faded masks, the still end card); ``FramePlan.frame(t)``
is all that runs per frame, a handful of Pillow C calls. The package docstring says where the time went.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from dropship_pipelines.media.images import ImageSize, Rect

FADE_STEPS = 32

#: RGB -> Y'CbCr, BT.601 in limited ("TV") range: the conversion ffmpeg applied to the RGB frames it was
#: piped before the frames were composited in Y'CbCr themselves (rows: Y, Cb, Cr; then + VIDEO_OFFSET).
_RGB_TO_VIDEO = (
    np.array(
        [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], dtype=np.float64
    )
    * np.array([[219 / 255], [224 / 255], [224 / 255]])
).astype(np.float32)
VIDEO_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float32)


def to_video_ycbcr(img: Image.Image) -> Image.Image:
    """The image in the encoder's colour space (Pillow mode ``YCbCr`` holding BT.601 limited-range values).

    Every per-frame operation (resize, blend, paste through a mask) is a weighted average of pixels, and an
    affine colour map commutes with weighted averages, so compositing already-converted canvases and sprites
    gives the frame ffmpeg would have computed from the RGB one (to rounding), without converting each frame.
    """
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    video = rgb @ _RGB_TO_VIDEO.T + VIDEO_OFFSET
    return Image.frombytes("YCbCr", img.size, np.clip(np.rint(video), 0, 255).astype(np.uint8).tobytes())


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

    def in_yuv420p(self) -> Yuv420pPlan:
        """The same plan in the encoder's own input format, every canvas and sprite converted once."""
        return Yuv420pPlan.of(self)


def _half(size: ImageSize) -> ImageSize:
    return (size[0] + 1) // 2, (size[1] + 1) // 2


def _chroma_sprite(sprite: Sprite, video: Image.Image) -> Sprite:
    """The sprite on the half-resolution chroma grid: its box padded out to even frame coordinates, the
    alpha averaged over each 2x2 block and the chroma averaged weighted by alpha (premultiplied), so a
    block half covered by a letter's edge takes half the letter's colour and not its padding's."""
    ox, oy = sprite.x % 2, sprite.y % 2
    w, h = sprite.alpha.size
    pw, ph = w + ox + (w + ox) % 2, h + oy + (h + oy) % 2
    alpha = np.zeros((ph, pw), dtype=np.float32)
    alpha[oy : oy + h, ox : ox + w] = np.asarray(sprite.alpha, dtype=np.float32)
    colour = np.zeros((ph, pw, 3), dtype=np.float32)
    colour[oy : oy + h, ox : ox + w] = np.asarray(video, dtype=np.float32)

    def blocks(a: np.ndarray) -> np.ndarray:  # sum over 2x2 blocks
        return a.reshape(ph // 2, 2, pw // 2, 2, *a.shape[2:]).sum(axis=(1, 3))

    weight = blocks(alpha)
    mean = blocks(colour * alpha[..., None]) / np.maximum(weight, 1e-6)[..., None]
    chroma = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
    return Sprite(
        rgb=Image.frombytes("YCbCr", (pw // 2, ph // 2), chroma.tobytes()),
        alpha=Image.fromarray(np.clip(np.rint(weight / 4), 0, 255).astype(np.uint8)),
        x=(sprite.x - ox) // 2,
        y=(sprite.y - oy) // 2,
    )


@dataclass
class Yuv420pPlan:
    """A frame plan composited straight into planar YUV 4:2:0, ffmpeg's input for x264.

    ``luma`` is the plan with every canvas and sprite reduced once to its Y' plane (mode L, full size);
    ``chroma`` the same plan at half size in both directions (Pillow mode YCbCr, whose Y band is unused).
    Every per-frame operation (resize, blend, paste through a mask) is a weighted average of pixels, and
    the RGB -> Y'CbCr map is affine, so compositing converted canvases and sprites gives the frame ffmpeg
    computed from the RGB one (to rounding; chroma is averaged over 2x2 blocks, where ffmpeg filters it).
    What that saves per 12 s 720x1280 ad: ffmpeg's RGB -> YUV conversion (~0.9 CPU-s); most of Python's
    resampling (one band at full size and two at a quarter of the pixels, instead of three at full size);
    and 1.5 instead of 4 bytes per pixel through the pipe.
    """

    luma: FramePlan
    chroma: FramePlan

    @classmethod
    def of(cls, plan: FramePlan) -> Yuv420pPlan:
        luma_of: dict[int, Image.Image] = {}  # scenes sharing a canvas share its converted copies
        chroma_of: dict[int, Image.Image] = {}

        def convert(img: Image.Image) -> None:
            if id(img) not in luma_of:
                video = to_video_ycbcr(img)
                luma_of[id(img)] = video.getchannel(0)
                chroma_of[id(img)] = video.resize(_half(img.size), Image.Resampling.BOX)

        luma_scenes, chroma_scenes = [], []
        for s in plan.scenes:
            convert(s.canvas)
            x0, y0, x1, y1 = s.detail
            luma_scenes.append(Scene(luma_of[id(s.canvas)], s.detail, s.start, s.end, s.motion))
            half_detail = (x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2)
            chroma_scenes.append(Scene(chroma_of[id(s.canvas)], half_detail, s.start, s.end, s.motion))
        luma_overlays, chroma_overlays = [], []
        for o in plan.overlays:
            videos = [to_video_ycbcr(p.rgb) for p in o.sprites]
            pairs = list(zip(o.sprites, videos, strict=True))
            luma = tuple(Sprite(v.getchannel(0), p.alpha, p.x, p.y, p._faded) for p, v in pairs)
            chroma = tuple(_chroma_sprite(p, v) for p, v in pairs)
            luma_overlays.append(dataclasses.replace(o, sprites=luma))
            chroma_overlays.append(dataclasses.replace(o, sprites=chroma))
        return cls(
            luma=FramePlan(plan.size, plan.duration, luma_scenes, luma_overlays),
            chroma=FramePlan(_half(plan.size), plan.duration, chroma_scenes, chroma_overlays),
        )

    def frame(self, t: float) -> bytes:
        """The frame at ``t`` as yuv420p bytes: the Y plane, then Cb, then Cr (even frame sizes only;
        ``VideoAdSpec`` enforces them)."""
        chroma = self.chroma.frame_image(t)
        return self.luma.frame_image(t).tobytes() + chroma.tobytes("raw", "Cb") + chroma.tobytes("raw", "Cr")
