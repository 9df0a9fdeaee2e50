"""Overlays and the frame plan: placement clamped to the frame, fades, pulses, still scenes cached."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dropship_pipelines.media import timeline

FRAME = (100, 200)


def _tile(size: tuple[int, int] = (20, 10), colour: tuple[int, int, int] = (255, 0, 0)) -> Image.Image:
    return Image.new("RGBA", size, (*colour, 255))


def test_sprite_is_clamped_and_cropped_inside_the_frame() -> None:
    sprite = timeline.place_sprite(_tile(), FRAME, center_x=1.0, top=None, center_y=1.0)
    assert (sprite.x, sprite.y) == (80, 190)
    huge = timeline.place_sprite(_tile((500, 500)), FRAME, center_x=0.5, top=0.0, center_y=0.5)
    assert (huge.x, huge.y, huge.rgb.size) == (0, 0, FRAME)


def test_overlay_without_tile_or_time_window_is_none() -> None:
    assert timeline.make_overlay(None, FRAME, center_x=0.5, start=0.0, end=1.0) is None
    assert timeline.make_overlay(_tile(), FRAME, center_x=0.5, start=2.0, end=2.0) is None


def test_overlay_fades_in_and_is_only_drawn_in_its_window() -> None:
    overlay = timeline.make_overlay(_tile(), FRAME, center_x=0.5, start=1.0, end=3.0, fade_in=1.0, fade_out=0)
    assert overlay is not None
    sprite = overlay.sprites[0]

    def red_at(t: float) -> int:
        img = Image.new("RGB", FRAME, (0, 0, 0))
        overlay.draw(img, t)
        return img.getpixel((sprite.x + 1, sprite.y + 1))[0]

    assert red_at(0.5) == 0  # before the window
    assert red_at(1.0) == 0  # fade level 0
    assert 100 < red_at(1.5) < 160  # half-way through the fade
    assert red_at(2.5) == 255
    assert red_at(3.0) == 0  # the window is half-open
    assert sprite.mask(16) is sprite.mask(16)  # faded masks are cached per level


def test_pulse_uses_the_scaled_copies_after_it_starts() -> None:
    overlay = timeline.make_overlay(
        _tile(), FRAME, center_x=0.5, start=0.0, end=10.0, fade_in=0.0, pulse_scales=[1.5], pulse_period=1.0
    )
    assert overlay is not None
    assert [s.rgb.size for s in overlay.sprites] == [(20, 10), (30, 15)]
    assert overlay.pulse_start == 0.3


def _plan(motion: timeline.Motion) -> timeline.FramePlan:
    canvas = Image.new("RGB", (112, 224), (40, 80, 120))
    scene = timeline.Scene(canvas, (20, 20, 90, 200), 0.0, 2.0, motion)
    return timeline.FramePlan(size=FRAME, duration=2.0, scenes=[scene], overlays=[])


def test_frames_have_the_plan_size_and_a_still_scene_is_computed_once() -> None:
    still = _plan(timeline.Motion(1.0, 1.0, (0.5, 0.5), (0.5, 0.5)))
    first = still.frame(0.0)
    assert first.shape == (200, 100, 3) and first.dtype == np.uint8
    assert still.scenes[0]._still is not None
    assert np.array_equal(still.frame(1.5), first)

    moving = _plan(timeline.Motion(1.0, 1.1, (0.5, 0.5), (0.5, 0.35)))
    assert moving.frame(1.0).shape == (200, 100, 3)
    assert moving.scenes[0]._still is None


def test_crossfade_blends_the_two_scenes_in_their_overlap() -> None:
    still = timeline.Motion(1.0, 1.0, (0.5, 0.5), (0.5, 0.5))
    black = timeline.Scene(Image.new("RGB", (112, 224), (0, 0, 0)), (0, 0, 112, 224), 0.0, 2.0, still)
    white = timeline.Scene(Image.new("RGB", (112, 224), (255, 255, 255)), (0, 0, 112, 224), 1.0, 3.0, still)
    plan = timeline.FramePlan(size=FRAME, duration=3.0, scenes=[black, white], overlays=[])
    assert plan.frame(0.5)[0, 0, 0] == 0
    assert 120 <= plan.frame(1.5)[0, 0, 0] <= 135
    assert plan.frame(2.5)[0, 0, 0] == 255
