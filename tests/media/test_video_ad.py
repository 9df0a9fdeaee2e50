"""Tests for the vertical video-ad renderer and the ffmpeg probe.

Real renders are few and short (10 s, mostly 360x640) so the module stays well under a minute on a
2-core machine; everything about layout, timing and validation is checked on the frame plan without
encoding.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from dropship_pipelines.media import storyboard, text, video_ad
from dropship_pipelines.media.images import InvalidImageError
from dropship_pipelines.media.probe import InvalidVideoError, probe_video
from dropship_pipelines.media.timeline import FramePlan
from dropship_pipelines.media.video_ad import (
    RenderedVideo,
    VideoAdSpec,
    render_video_ad,
    spec_fingerprint,
)
from tests.media.photos import product_photo


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    """Three images of different sizes, aspects and formats (square JPEG, portrait PNG, landscape JPEG)."""
    root = tmp_path_factory.mktemp("images")
    return (
        product_photo(root / "square.jpg", (900, 900), 30),
        product_photo(root / "portrait.png", (600, 900), 140),
        product_photo(root / "landscape.jpg", (1400, 600), 220),
    )


def _spec(images: tuple[Path, ...], **overrides: object) -> VideoAdSpec:
    fields: dict[str, object] = {
        "image_paths": images,
        "headline": "This lamp changed my evenings",
        "captions": ("Warm dimmable light", "Fits any room", "Free shipping"),
        "price_text": "$24.99",
        "compare_at_text": "$39.99",
        "call_to_action": "Shop now",
        "width": 360,
        "height": 640,
        "duration_s": 10.0,
        "fps": 30,
    }
    fields.update(overrides)
    return VideoAdSpec(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def full_size_render(
    images: tuple[Path, ...], tmp_path_factory: pytest.TempPathFactory
) -> tuple[VideoAdSpec, RenderedVideo]:
    """The one 720x1280 render of the module, shared by the output and cache tests."""
    spec = _spec(images, width=720, height=1280)
    return spec, render_video_ad(spec, tmp_path_factory.mktemp("videos"))


# ---------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------


def test_render_produces_h264_of_requested_geometry(
    full_size_render: tuple[VideoAdSpec, RenderedVideo],
) -> None:
    spec, video = full_size_render
    assert video.path.name == f"{video.fingerprint}.mp4"
    assert video.fingerprint == spec_fingerprint(spec)
    probe = probe_video(video.path)
    assert (probe.width, probe.height) == (720, 1280)
    assert probe.codec == "h264"
    assert probe.pix_fmt == "yuv420p"
    assert abs(probe.duration_s - 10.0) <= 0.2
    assert probe.frame_count == 300
    assert probe.fps == pytest.approx(30.0)
    assert (video.width, video.height, video.fps) == (720, 1280, 30.0)
    assert abs(video.duration_s - 10.0) <= 0.2
    assert video.size_bytes == video.path.stat().st_size > 10_000
    assert video.render_seconds > 0
    # No temp files are left next to the result.
    assert [p.name for p in video.path.parent.iterdir()] == [video.path.name]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def test_the_video_shows_the_composited_frames(
    full_size_render: tuple[VideoAdSpec, RenderedVideo],
) -> None:
    """The look: every decoded frame is the frame plan's frame at that time, within x264's loss at the
    chosen CRF (the composited frames reach the encoder unchanged: measured 34.5 dB worst frame, 12 s ad,
    the same before and after the raw-pipe writer replaced moviepy's)."""
    spec, video = full_size_render
    plan = storyboard.build_plan(spec)
    frames = imageio_ffmpeg.read_frames(str(video.path))
    next(frames)  # the stream's metadata
    worst = math.inf
    for index, raw in enumerate(frames):
        if index % 15 == 0:
            decoded = np.frombuffer(raw, dtype=np.uint8).reshape(spec.height, spec.width, 3)
            worst = min(worst, _psnr(decoded, plan.frame(index / spec.fps)))
    assert index + 1 == 300
    assert worst >= 32.0


def test_second_render_is_a_cache_hit(
    full_size_render: tuple[VideoAdSpec, RenderedVideo], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, first = full_size_render
    mtime_before = first.path.stat().st_mtime_ns

    def no_rerender(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached video was rendered again")

    monkeypatch.setattr(video_ad, "write_video", no_rerender)
    again = render_video_ad(spec, first.path.parent)
    assert again.path == first.path
    assert again.render_seconds == 0.0
    assert again.fingerprint == first.fingerprint
    assert (again.width, again.height) == (720, 1280)
    assert first.path.stat().st_mtime_ns == mtime_before


def test_corrupt_cached_file_is_rendered_again(images: tuple[Path, ...], tmp_path: Path) -> None:
    spec = _spec(images)
    target = tmp_path / f"{spec_fingerprint(spec)}.mp4"
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    video = render_video_ad(spec, tmp_path)
    assert video.path == target
    assert video.render_seconds > 0
    probe = probe_video(target)
    assert (probe.width, probe.height, probe.codec) == (360, 640, "h264")


def test_very_long_texts_still_render(images: tuple[Path, ...], tmp_path: Path) -> None:
    spec = _spec(
        images[:2],
        headline="STOP SCROLLING! This ultra-premium ergonomic memory-foam pillow with cooling gel " * 8,
        captions=("Supercalifragilisticexpialidociousandmanymorelettersthatneverend" * 3, "Ünïcödé ✓ 日本語"),
        price_text="from $1,299.99 USD per unit including shipping and handling",
        compare_at_text="$2,000.00",
        call_to_action="Tap the link below and get yours today before they are sold out again " * 3,
        duration_s=10.0,
    )
    video = render_video_ad(spec, tmp_path)
    probe = probe_video(video.path)
    assert (probe.width, probe.height) == (360, 640)
    assert abs(probe.duration_s - 10.0) <= 0.2


# ---------------------------------------------------------------------------------------------------------
# Fingerprint
# ---------------------------------------------------------------------------------------------------------


def test_fingerprint_follows_image_bytes_not_paths(images: tuple[Path, ...], tmp_path: Path) -> None:
    base = _spec(images)
    copies = tuple(Path(shutil.copy(p, tmp_path / f"copy_{i}{p.suffix}")) for i, p in enumerate(images))
    assert spec_fingerprint(_spec(copies)) == spec_fingerprint(base)

    changed = tmp_path / "changed.jpg"
    product_photo(changed, (900, 900), 31)  # same size and format, different pixels
    assert spec_fingerprint(_spec((changed, *images[1:]))) != spec_fingerprint(base)

    # Same path, new bytes behind it: a different ad.
    before = spec_fingerprint(_spec(copies))
    product_photo(copies[0], (900, 900), 99)
    assert spec_fingerprint(_spec(copies)) != before


@pytest.mark.parametrize(
    "change",
    [
        {"headline": "A different hook"},
        {"captions": ("Warm dimmable light", "Fits any room", "Free shipping!")},
        {"captions": ("Warm dimmable light", "Fits any room")},
        {"price_text": "$25.99"},
        {"compare_at_text": None},
        {"call_to_action": "Buy now"},
        {"width": 720, "height": 1280},
        {"duration_s": 11.0},
        {"fps": 25},
    ],
)
def test_fingerprint_changes_with_every_field(images: tuple[Path, ...], change: dict[str, object]) -> None:
    base = _spec(images)
    assert spec_fingerprint(dataclasses.replace(base, **change)) != spec_fingerprint(base)  # type: ignore[arg-type]


def test_fingerprint_is_stable_and_ignores_field_boundaries(images: tuple[Path, ...]) -> None:
    assert spec_fingerprint(_spec(images)) == spec_fingerprint(_spec(list(images)))  # type: ignore[arg-type]
    a = _spec(images, captions=("ab", "c"))
    b = _spec(images, captions=("a", "bc"))
    assert spec_fingerprint(a) != spec_fingerprint(b)
    assert len(spec_fingerprint(a)) == 64


def test_fingerprint_includes_renderer_version(
    images: tuple[Path, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = spec_fingerprint(_spec(images))
    monkeypatch.setattr(video_ad, "RENDERER_VERSION", video_ad.RENDERER_VERSION + "-next")
    assert spec_fingerprint(_spec(images)) != before


# ---------------------------------------------------------------------------------------------------------
# Validation and bad inputs
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration_s": 5.0}, r"duration_s=5 s is out of range.*10\.\.20"),
        ({"duration_s": 25.0}, r"duration_s=25 s is out of range.*10\.\.20"),
        ({"duration_s": float("nan")}, "finite"),
        ({"image_paths": ()}, "at least one product image"),
        ({"width": 721}, "width=721 must be even"),
        ({"height": 1279}, "height=1279 must be even"),
        ({"width": 0}, "width=0 is out of range"),
        ({"fps": 0}, "fps=0"),
        ({"headline": None}, "headline must be a str"),
    ],
)
def test_invalid_specs_raise_clear_value_errors(
    images: tuple[Path, ...], change: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _spec(images, **change)


def test_missing_image_raises_error_naming_the_file(images: tuple[Path, ...], tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "gone.jpg"
    spec = _spec((images[0], missing))
    with pytest.raises(InvalidImageError, match=r"gone\.jpg.*file not found") as excinfo:
        render_video_ad(spec, tmp_path / "out")
    assert excinfo.value.path == missing
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize(
    "content",
    [b"", b"definitely not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40],
    ids=["empty", "text", "truncated-png"],
)
def test_corrupt_image_raises_error_naming_the_file(
    images: tuple[Path, ...], tmp_path: Path, content: bytes
) -> None:
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(content)
    with pytest.raises(InvalidImageError, match=r"corrupt\.png"):
        render_video_ad(_spec((corrupt, images[0])), tmp_path / "out")
    assert not list((tmp_path / "out").glob("*.mp4"))


def test_truncated_jpeg_raises_error_naming_the_file(images: tuple[Path, ...], tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(images[0].read_bytes()[:2000])
    with pytest.raises(InvalidImageError, match=r"truncated\.jpg"):
        render_video_ad(_spec((truncated,)), tmp_path / "out")


def test_probe_rejects_files_that_are_not_videos(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    with pytest.raises(InvalidVideoError, match=r"notes\.mp4"):
        probe_video(text)
    with pytest.raises(ValueError, match="does not exist"):
        probe_video(tmp_path / "missing.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        probe_video(empty)


# ---------------------------------------------------------------------------------------------------------
# Layout and timeline (no encoding)
# ---------------------------------------------------------------------------------------------------------


def _overlay_boxes(plan: FramePlan) -> Iterator[tuple[int, int, int, int]]:
    for overlay in plan.overlays:
        for sprite in overlay.sprites:
            yield sprite.x, sprite.y, sprite.x + sprite.rgb.width, sprite.y + sprite.rgb.height


@pytest.mark.parametrize("size", [(360, 640), (720, 1280), (1080, 1920), (640, 640)])
def test_long_text_never_overflows_the_frame(images: tuple[Path, ...], size: tuple[int, int]) -> None:
    spec = _spec(
        images[:1],
        headline="word " * 400,
        captions=("x" * 500,),
        price_text="$" + "9" * 80,
        compare_at_text="$" + "1" * 80,
        call_to_action="Shop " * 200,
        width=size[0],
        height=size[1],
    )
    plan = storyboard.build_plan(spec)
    for x0, y0, x1, y1 in _overlay_boxes(plan):
        assert 0 <= x0 < x1 <= size[0]
        assert 0 <= y0 < y1 <= size[1]
    frame = plan.frame(1.0)
    assert frame.shape == (size[1], size[0], 3)
    assert frame.dtype == np.uint8


def test_frames_have_no_black_bars(images: tuple[Path, ...]) -> None:
    """The fitted image sits on a blurred fill of itself: no frame has a black border row or column."""
    plan = storyboard.build_plan(_spec(images))
    for t in (0.0, 2.0, 4.5, 6.0, 9.9):
        frame = plan.frame(t).astype(int)
        for edge in (frame[0], frame[-1], frame[:, 0], frame[:, -1]):
            assert edge.sum(axis=-1).mean() > 30, f"black edge at t={t}"


def test_captions_and_images_cycle_sensibly(images: tuple[Path, ...]) -> None:
    # More captions than images: images repeat, each caption gets its own scene.
    plan = storyboard.build_plan(_spec(images[:1], captions=("one", "two", "three"), duration_s=12.0))
    assert len(plan.scenes) == 3 + 1  # three product scenes + the call-to-action card
    # More images than captions: one caption spans several scenes instead of being repeated.
    plan = storyboard.build_plan(_spec(images, captions=("only caption",)))
    caption_overlays = [o for o in plan.overlays if 0.5 < o.start < 1.0 and o.end > 5.0]
    assert len(caption_overlays) == 1
    # Too many images for the duration: scenes stay at least MIN_SCENE_S long.
    plan = storyboard.build_plan(_spec(images * 4, captions=()))
    product = plan.scenes[:-1]
    assert all(s.end - s.start >= storyboard.MIN_SCENE_S for s in product)


def test_first_frame_shows_the_headline_and_last_frame_the_cta(images: tuple[Path, ...]) -> None:
    with_text = storyboard.build_plan(_spec(images)).frame(0.0).astype(int)
    without = storyboard.build_plan(_spec(images, headline="")).frame(0.0).astype(int)
    top = slice(0, 640 // 4)
    assert np.abs(with_text[top] - without[top]).mean() > 2  # the hook is in the thumbnail frame

    last_with = storyboard.build_plan(_spec(images)).frame(9.95).astype(int)
    last_without = storyboard.build_plan(_spec(images, call_to_action="")).frame(9.95).astype(int)
    assert np.abs(last_with - last_without).mean() > 1


def test_missing_fonts_fall_back_to_pillow_default(
    images: tuple[Path, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text, "FONT_DIRS", (Path("/nonexistent/fonts"),))
    text.load_font.cache_clear()
    try:
        plan = storyboard.build_plan(_spec(images, headline="Fallback font — still fine ✓"))
        assert plan.frame(1.0).shape == (640, 360, 3)
    finally:
        text.load_font.cache_clear()
