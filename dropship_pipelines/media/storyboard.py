"""The ad's storyboard: which scenes, which motion, and where and when each text and widget appears.

One scene per product image with a slow Ken-Burns zoom/pan and a crossfade between scenes, a hook headline
at the top of the first scene, a caption per scene, a price badge, and a final call-to-action card.

Two openings (``VideoAdSpec.opening``, the two variants of a creative test, ``rules/creative_tests.py``):
"problem" opens on the hook headline and brings the price badge in a moment later; "price" opens on the
price (the badge, enlarged, on the very first frame, so it is in the thumbnail) and settles it to its usual
size after the first scene. This is
the module to open to change the look of an ad; bump ``RENDERER_VERSION`` in ``video_ad`` when you do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PIL import Image

from dropship_pipelines.media.images import Rect, compose_canvas, load_image
from dropship_pipelines.media.text import render_text_block
from dropship_pipelines.media.timeline import FramePlan, Motion, Overlay, Scene, make_overlay
from dropship_pipelines.media.widgets import render_cta_button, render_price_badge

if TYPE_CHECKING:  # video_ad imports this module to render; the spec type is only needed for annotations
    from dropship_pipelines.media.video_ad import VideoAdSpec

log = logging.getLogger(__name__)

OPENINGS = ("problem", "price")
CROSSFADE_S = 0.5
MIN_SCENE_S = 2.0
#: The pre-composed scene canvas is this much larger than the frame: room for zoom and pan.
CANVAS_SCALE = 1.12
#: Ken-Burns zoom range inside the canvas (1.0 = whole canvas shown; CANVAS_SCALE = 1:1 pixels).
ZOOM_MIN = 1.0
ZOOM_MAX = 1.10

MOTIONS: tuple[Motion, ...] = (
    Motion(ZOOM_MIN, ZOOM_MAX, (0.5, 0.5), (0.5, 0.35)),
    Motion(ZOOM_MAX, ZOOM_MIN + 0.02, (0.25, 0.5), (0.6, 0.5)),
    Motion(ZOOM_MIN + 0.02, ZOOM_MAX, (0.65, 0.6), (0.35, 0.45)),
    Motion(ZOOM_MAX, ZOOM_MIN, (0.5, 0.25), (0.5, 0.6)),
)
#: The end card holds still: it is computed once and x264 encodes the repeated frames almost for free;
#: the fade-ins and the pulsing button keep it alive.
CTA_MOTION = Motion(ZOOM_MIN, ZOOM_MIN, (0.5, 0.5), (0.5, 0.5))


def distribute(n_scenes: int, n_items: int) -> list[tuple[int, int]]:
    """Split ``n_scenes`` scenes into ``n_items`` contiguous runs [first, last] (n_items <= n_scenes)."""
    return [(i * n_scenes // n_items, (i + 1) * n_scenes // n_items - 1) for i in range(n_items)]


def build_plan(spec: VideoAdSpec) -> FramePlan:
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
    images = [load_image(p, hint) for p in spec.image_paths][:n_scenes]

    bounds = [product_s * i / n_scenes for i in range(n_scenes + 1)] + [duration]
    half = CROSSFADE_S / 2
    scenes: list[Scene] = []
    canvases: dict[int, tuple[Image.Image, Rect]] = {}
    for i in range(n_scenes):
        key = i % len(images)
        if key not in canvases:
            canvases[key] = compose_canvas(
                images[key], canvas_size, fit_box=(0.90, 0.60), center_y=0.47, darken=0.55
            )
        canvas, detail = canvases[key]
        start = 0.0 if i == 0 else bounds[i] - half
        scenes.append(Scene(canvas, detail, start, bounds[i + 1] + half, MOTIONS[i % len(MOTIONS)]))
    cta_canvas, cta_detail = compose_canvas(
        images[0], canvas_size, fit_box=(0.66, 0.40), center_y=0.36, darken=0.38
    )
    scenes.append(Scene(cta_canvas, cta_detail, product_s - half, duration + 1.0, CTA_MOTION))

    frame = (w, h)
    overlays: list[Overlay | None] = []
    # Headline: visible from the very first frame (it is the thumbnail), at least ~3 s.
    headline_end = min(max(bounds[1] - half, 3.0), product_s - half)
    headline = render_text_block(
        spec.headline,
        bold=True,
        max_size=round(w * 0.085),
        min_size=max(10, round(w * 0.042)),
        max_width=int(w * 0.92),
        max_height=int(h * 0.21),
    )
    overlays.append(
        make_overlay(headline, frame, center_x=0.5, top=0.045, start=0.0, end=headline_end, fade_in=0.0)
    )

    captions = list(spec.captions[:n_scenes])
    runs = distribute(n_scenes, len(captions)) if captions else []
    for caption, (first, last) in zip(captions, runs, strict=True):
        tile = render_text_block(
            caption,
            bold=True,
            max_size=round(w * 0.064),
            min_size=max(10, round(w * 0.036)),
            max_width=int(w * 0.90),
            max_height=int(h * 0.15),
        )
        start = bounds[first] + (0.6 if first == 0 else 0.15)
        end = bounds[last + 1] - (half if last == n_scenes - 1 else 0.1)
        overlays.append(make_overlay(tile, frame, center_x=0.5, center_y=0.735, start=start, end=end))

    badge = render_price_badge(spec.price_text, spec.compare_at_text, w)
    badge_start = min(1.0, bounds[1] * 0.5)
    if spec.opening == "price":
        # Price-first: the offer is the hook, large from frame 0 through the first scene, then as usual.
        opener = render_price_badge(spec.price_text, spec.compare_at_text, w, scale=1.3)
        overlays.append(
            make_overlay(opener, frame, center_x=0.5, center_y=0.80, start=0.0, end=bounds[1], fade_in=0.0)
        )
        badge_start = bounds[1]
    overlays.append(
        make_overlay(badge, frame, center_x=0.5, center_y=0.835, start=badge_start, end=product_s - half)
    )

    cta_badge = render_price_badge(spec.price_text, spec.compare_at_text, w, scale=1.15)
    cta_button = render_cta_button(spec.call_to_action, w, h)
    cta_in = product_s + 0.05
    overlays.append(
        make_overlay(
            cta_badge, frame, center_x=0.5, center_y=0.63, start=cta_in, end=duration + 1.0, fade_out=0
        )
    )
    overlays.append(
        make_overlay(
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
    return FramePlan(size=frame, duration=duration, scenes=scenes, overlays=[o for o in overlays if o])
