"""Probe a video file with the ffmpeg binary bundled by imageio-ffmpeg.

Why not ffprobe: imageio-ffmpeg ships only ``ffmpeg`` (no ``ffprobe``) and the machines this runs on have no
system ffmpeg, so the stream facts are read from the banner ``ffmpeg -i FILE`` prints on stderr, and the
exact frame count from ``imageio_ffmpeg.count_frames_and_secs`` (a stream copy, no decoding, so it is fast).
The renderer uses this both to verify what it wrote and to decide whether a cached file is still usable.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

__all__ = ["InvalidVideoError", "VideoProbe", "probe_video"]

_PROBE_TIMEOUT_S = 60.0

_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO_STREAM_RE = re.compile(r"Stream #\d+:\d+.*?: Video: (?P<rest>.*)")
_SIZE_RE = re.compile(r",\s*(\d+)x(\d+)")
_FPS_RE = re.compile(r"([\d.]+)\s*fps")
_TBR_RE = re.compile(r"([\d.]+k?)\s*tbr")


class InvalidVideoError(ValueError):
    """Raised when a path is not a readable video; a ValueError so callers can treat it as bad input."""


@dataclass(frozen=True)
class VideoProbe:
    """What ffmpeg reports about the first video stream of a file."""

    width: int
    height: int
    duration_s: float
    fps: float
    frame_count: int
    codec: str
    pix_fmt: str = ""


def _run_ffmpeg_info(path: Path) -> str:
    """Return the stderr banner of ``ffmpeg -i path`` (ffmpeg exits 1 there because no output is given)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=_PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InvalidVideoError(f"ffmpeg timed out after {_PROBE_TIMEOUT_S:.0f}s reading {path}") from exc
    return proc.stderr.decode("utf-8", errors="replace")


def _parse_fps(stream_rest: str) -> float:
    """Read the stream's frame rate: ``30 fps`` if present, else the ``tbr`` value."""
    match = _FPS_RE.search(stream_rest)
    if match:
        return float(match.group(1))
    match = _TBR_RE.search(stream_rest)
    if match:
        raw = match.group(1)
        return float(raw[:-1]) * 1000 if raw.endswith("k") else float(raw)
    return 0.0


def probe_video(path: Path) -> VideoProbe:
    """Describe the first video stream of ``path``.

    Raises InvalidVideoError (a ValueError) naming the file if it is missing, is not a media file, has no
    video stream or has no frames — e.g. a truncated file left behind by a crashed render.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidVideoError(f"not a valid video: {path} does not exist or is not a regular file")
    if path.stat().st_size == 0:
        raise InvalidVideoError(f"not a valid video: {path} is empty (0 bytes)")

    info = _run_ffmpeg_info(path)
    stream_match = _VIDEO_STREAM_RE.search(info)
    if stream_match is None:
        last_line = info.strip().splitlines()[-1] if info.strip() else "no output from ffmpeg"
        raise InvalidVideoError(f"not a valid video: ffmpeg finds no video stream in {path} ({last_line})")
    rest = stream_match.group("rest")
    codec = rest.split(",", 1)[0].split(" ", 1)[0].strip()
    fmt_match = re.match(r"[^,]+,\s*([A-Za-z0-9_]+)", rest)
    pix_fmt = fmt_match.group(1) if fmt_match else ""
    size_match = _SIZE_RE.search(rest)
    if size_match is None:
        raise InvalidVideoError(f"not a valid video: no frame size in the video stream of {path}: {rest!r}")
    width, height = int(size_match.group(1)), int(size_match.group(2))
    fps = _parse_fps(rest)

    try:
        frame_count, stream_secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError, ValueError) as exc:
        raise InvalidVideoError(f"not a valid video: ffmpeg cannot read the frames of {path}: {exc}") from exc
    if frame_count <= 0:
        raise InvalidVideoError(f"not a valid video: {path} has no frames")

    duration_match = _DURATION_RE.search(info)
    if duration_match:
        hours, minutes, seconds = duration_match.groups()
        duration_s = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    elif fps > 0:
        duration_s = frame_count / fps
    else:
        duration_s = float(stream_secs)

    return VideoProbe(
        width=width,
        height=height,
        duration_s=duration_s,
        fps=fps,
        frame_count=int(frame_count),
        codec=codec,
        pix_fmt=pix_fmt,
    )
