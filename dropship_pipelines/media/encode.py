"""Encoding a frame plan to H.264 with ffmpeg's x264, frames computed ahead on helper threads."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from dropship_pipelines.media.timeline import FramePlan

#: x264 settings. Once compositing was cheap the encoder became the larger CPU cost (the rgb24 -> yuv420p
#: conversion alone is ~1.2 CPU-s per 360 frames and cannot be tuned away). ffmpeg CPU-s for the 360 frames
#: of a 12 s 720x1280 ad / size / SSIM against the source frames, measured on the 2-core box:
#:   veryfast 6.8 s / 706 KB / 0.9820;  ultrafast 4.0 s / 5.1 MB / 0.9859;
#:   superfast + mbtree, rc-lookahead=10: 4.9 s / 778 KB / 0.9822  <- same quality as veryfast, -28 % CPU.
#: (superfast alone switches mbtree off and triples the file size: 2.3 MB.)
X264_PRESET = "superfast"
X264_PARAMS = "mbtree=1:rc-lookahead=10"
X264_CRF = 23
#: x264 worker threads; more than the cores only adds contention with the Python compositing thread.
FFMPEG_THREADS = max(1, min(4, os.cpu_count() or 2))
#: Frames composited concurrently ahead of the writer (Pillow releases the GIL while resampling).
FRAME_WORKERS = 2
PREFETCH_DEPTH = 3


def frames_in_order(
    render: Callable[[int], bytes], n_frames: int, *, workers: int, depth: int
) -> Iterator[bytes]:
    """``render(0) .. render(n_frames - 1)`` in order, each computed ahead on helper threads.

    The expensive parts of a frame (Pillow's resample/blend/paste) and the pipe write to ffmpeg release the
    GIL, so keeping ``depth`` frames in flight on ``workers`` threads lets compositing use whatever CPU x264
    leaves idle, while the frames still reach the encoder strictly in order."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="video-ad-frame") as pool:
        pending: deque[Future[bytes]] = deque()
        next_index = 0
        try:
            while next_index < n_frames or pending:
                while next_index < n_frames and len(pending) < max(1, depth):
                    pending.append(pool.submit(render, next_index))
                    next_index += 1
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def ffmpeg_command(width: int, height: int, fps: int, target: Path) -> list[str]:
    """x264 from raw planar YUV 4:2:0 frames on stdin, the encoder's own input format: ffmpeg converts
    nothing (the frames were composited in its colour space, see ``FramePlan.in_video_ycbcr``)."""
    from imageio_ffmpeg import get_ffmpeg_exe  # the ffmpeg build moviepy uses; deferred with the render

    return [
        get_ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{width}x{height}",
        "-r",
        str(fps),
        "-i",
        "-",
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        X264_PRESET,
        "-crf",
        str(X264_CRF),
        "-x264-params",
        X264_PARAMS,
        "-pix_fmt",
        "yuv420p",
        "-threads",
        str(FFMPEG_THREADS),
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(target),
    ]


def write_video(plan: FramePlan, fps: int, target: Path) -> None:
    """Encode the plan: its frames, in order and computed ahead, piped raw into one ffmpeg/x264 process."""
    width, height = plan.size
    n_frames = int(plan.duration * fps)  # the frames of [0, duration) on the fps grid
    video = plan.in_yuv420p()  # canvases and sprites converted once, not every frame

    def render(index: int) -> bytes:
        return video.frame(index / fps)

    with tempfile.TemporaryFile() as errors:
        encoder = subprocess.Popen(
            ffmpeg_command(width, height, fps, target), stdin=subprocess.PIPE, stderr=errors
        )
        assert encoder.stdin is not None
        try:
            for frame in frames_in_order(render, n_frames, workers=FRAME_WORKERS, depth=PREFETCH_DEPTH):
                encoder.stdin.write(frame)
            encoder.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early; its exit code and message say why
        except BaseException:
            encoder.kill()
            raise
        finally:
            code = encoder.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()[-2000:]
            raise RuntimeError(f"ffmpeg failed to encode {target} (exit code {code}): {message}")
