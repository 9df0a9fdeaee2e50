"""The encoder's input: the plan's frames in order, computed ahead on helper threads, in ffmpeg's yuv420p."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from dropship_pipelines.media import encode, storyboard, timeline
from dropship_pipelines.media.video_ad import VideoAdSpec
from tests.media.photos import product_photo

PHOTOS = (((900, 900), 30), ((600, 900), 140), ((1400, 600), 220))


class _CountingRender:
    """A stand-in frame renderer: frame ``i`` is ``bytes([i])``; records the threads it ran on."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def __call__(self, index: int) -> bytes:
        with self._lock:
            self.calls.append((index, threading.current_thread().name))
        return bytes([index])


def test_frames_come_back_in_order_and_are_computed_ahead() -> None:
    render = _CountingRender()
    got = [frame[0] for frame in encode.frames_in_order(render, 10, workers=2, depth=3)]
    assert got == list(range(10))
    assert sorted(index for index, _ in render.calls) == list(range(10))  # each once, none past the end
    assert all(name.startswith("video-ad-frame") for _, name in render.calls)


def test_stopping_early_computes_no_more_than_the_frames_in_flight() -> None:
    render = _CountingRender()
    frames = encode.frames_in_order(render, 100, workers=1, depth=3)
    assert next(frames) == bytes([0])
    frames.close()
    assert len(render.calls) <= 4


def _ffmpeg_yuv420p(rgb: Image.Image) -> np.ndarray:
    """What x264 was handed before the frames were composited in Y'CbCr: ffmpeg's own rgb -> yuv420p."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb0"]
    command += ["-s", f"{rgb.width}x{rgb.height}", "-i", "-", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]
    done = subprocess.run(command, input=rgb.tobytes("raw", "RGBX"), capture_output=True, check=True)
    return np.frombuffer(done.stdout, dtype=np.uint8)


def test_the_encoders_frames_are_the_rgb_frames_as_ffmpeg_converted_them(tmp_path: Path) -> None:
    """The look is unchanged by compositing in YUV: at times inside scenes, crossfades, fades and the end
    card, the yuv420p frame equals ffmpeg's conversion of the plan's RGB frame to a level or two in Y'
    (rounding) and on average to under a level in chroma (averaged over 2x2 blocks where ffmpeg filters)."""
    images = tuple(product_photo(tmp_path / f"{i}.png", size, hue) for i, (size, hue) in enumerate(PHOTOS))
    spec = VideoAdSpec(
        image_paths=images,
        headline="This lamp changed my evenings",
        captions=("Warm dimmable light", "Fits any room", "Free shipping"),
        price_text="$24.99",
        compare_at_text="$39.99",
        call_to_action="Shop now",
        width=360,
        height=640,
        duration_s=10.0,
    )
    plan = storyboard.build_plan(spec)
    video = plan.in_yuv420p()
    y_size = spec.width * spec.height
    for t in (0.0, 0.4, 1.2, 2.5, 2.6, 4.9, 7.3, 7.9, 9.9):
        expected = _ffmpeg_yuv420p(plan.frame_image(t)).astype(int)
        got = np.frombuffer(video.frame(t), dtype=np.uint8).astype(int)
        assert got.shape == expected.shape == (y_size * 3 // 2,)
        luma = np.abs(got[:y_size] - expected[:y_size])
        chroma = np.abs(got[y_size:] - expected[y_size:])
        assert luma.max() <= 2, t
        assert chroma.mean() <= 1.0 and np.percentile(chroma, 99) <= 8, t


def test_a_sprite_at_odd_coordinates_lands_on_the_same_pixels_in_chroma() -> None:
    """A sprite at an odd x/y is padded onto the half-size chroma grid, not shifted by a pixel."""
    still = timeline.Motion(1.0, 1.0, (0.5, 0.5), (0.5, 0.5))
    canvas = Image.new("RGB", (40, 40), (128, 128, 128))
    tile = Image.new("RGBA", (5, 3), (255, 0, 0, 255))
    sprite = timeline.Sprite(tile.convert("RGB"), tile.getchannel("A"), x=7, y=9)
    plan = timeline.FramePlan(
        size=(20, 20),
        duration=1.0,
        scenes=[timeline.Scene(canvas, (0, 0, 40, 40), 0.0, 1.0, still)],
        overlays=[timeline.Overlay((sprite,), 0.0, 1.0, 0.0, 0.0)],
    )
    frame = np.frombuffer(plan.in_yuv420p().frame(0.5), dtype=np.uint8)
    cr = frame[400 + 100 :].reshape(10, 10).astype(int)  # red raises Cr; grey is 128
    covered = np.zeros((20, 20))
    covered[9:12, 7:12] = 1
    expected = covered.reshape(10, 2, 10, 2).mean(axis=(1, 3))  # the share of each 2x2 block under it
    assert np.abs((cr - 128) / (cr.max() - 128) - expected).max() <= 0.05
