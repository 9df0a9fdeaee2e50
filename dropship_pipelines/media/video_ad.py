"""Render a product video ad: ``render_video_ad(spec, out_dir)`` for a ``VideoAdSpec``, cached by content.

The output is cached by content: the file is ``<out_dir>/<fingerprint>.mp4`` where the fingerprint hashes
the image BYTES, every text, the size, duration, fps and ``RENDERER_VERSION``. Bump the version whenever the
look changes so stale cached ads are not served. How the ad is made is in the package's docstring.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from dropship_pipelines.media.encode import write_video
from dropship_pipelines.media.images import InvalidImageError
from dropship_pipelines.media.probe import InvalidVideoError, probe_video
from dropship_pipelines.media.storyboard import build_plan

__all__ = ["RENDERER_VERSION", "RenderedVideo", "VideoAdSpec", "render_video_ad", "spec_fingerprint"]

log = logging.getLogger(__name__)

#: Part of the cache key: bump it whenever the rendered look or encoding changes.
RENDERER_VERSION = "video-ad-1"

MIN_DURATION_S = 10.0
MAX_DURATION_S = 20.0
MIN_SIDE_PX = 128
MAX_SIDE_PX = 4096
MAX_FPS = 60


@dataclass(frozen=True)
class VideoAdSpec:
    """Everything that determines an ad video. Validated on construction so a bad spec fails early.

    ``captions`` holds one caption per scene. There are ``max(len(images), len(captions))`` scenes (capped
    so each lasts at least ``storyboard.MIN_SCENE_S``); images cycle when captions outnumber them, and when
    images outnumber captions each caption spans a run of consecutive scenes instead of being repeated.
    """

    image_paths: tuple[Path, ...]
    headline: str
    captions: tuple[str, ...]
    price_text: str
    compare_at_text: str | None
    call_to_action: str
    width: int = 720
    height: int = 1280
    duration_s: float = 12.0
    fps: int = 30
    #: How the first scene opens (a creative test's variant, ``storyboard.OPENINGS``): "problem" shows the
    #: hook headline first and the price a moment later; "price" shows the price badge from the first frame.
    opening: str = "problem"

    def __post_init__(self) -> None:
        # Normalise sequences (callers pass lists, str paths) so equality/hash and the fingerprint are stable.
        paths = self.image_paths
        if isinstance(paths, (str, os.PathLike)):
            paths = (paths,)
        object.__setattr__(self, "image_paths", tuple(Path(p) for p in paths))
        captions = self.captions
        if isinstance(captions, str):
            captions = (captions,)
        object.__setattr__(self, "captions", tuple(captions))
        _validate_spec(self)


@dataclass(frozen=True)
class RenderedVideo:
    """A rendered (or cache-hit) ad. ``render_seconds`` is 0.0 when the file came from the cache."""

    path: Path
    width: int
    height: int
    duration_s: float
    fps: float
    size_bytes: int
    render_seconds: float
    fingerprint: str


def _validate_spec(spec: VideoAdSpec) -> None:
    """Reject specs that would fail deep inside ffmpeg or produce an unusable ad, with a clear message."""
    if not spec.image_paths:
        raise ValueError("VideoAdSpec.image_paths is empty: at least one product image is required")
    if spec.opening not in ("problem", "price"):
        raise ValueError(f"VideoAdSpec.opening must be 'problem' or 'price', got {spec.opening!r}")
    for name in ("headline", "price_text", "call_to_action"):
        if not isinstance(getattr(spec, name), str):
            raise ValueError(f"VideoAdSpec.{name} must be a str, got {type(getattr(spec, name)).__name__}")
    if spec.compare_at_text is not None and not isinstance(spec.compare_at_text, str):
        raise ValueError("VideoAdSpec.compare_at_text must be a str or None")
    if not all(isinstance(c, str) for c in spec.captions):
        raise ValueError("VideoAdSpec.captions must all be str")
    for name in ("width", "height"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"VideoAdSpec.{name} must be an int, got {value!r}")
        if not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise ValueError(f"VideoAdSpec.{name}={value} is out of range {MIN_SIDE_PX}..{MAX_SIDE_PX} px")
        if value % 2:
            raise ValueError(
                f"VideoAdSpec.{name}={value} must be even: H.264 in yuv420p needs even frame dimensions"
            )
    if isinstance(spec.fps, bool) or not isinstance(spec.fps, int) or not 1 <= spec.fps <= MAX_FPS:
        raise ValueError(f"VideoAdSpec.fps={spec.fps!r} must be an int in 1..{MAX_FPS}")
    duration = spec.duration_s
    if not isinstance(duration, (int, float)) or isinstance(duration, bool) or not math.isfinite(duration):
        raise ValueError(f"VideoAdSpec.duration_s={duration!r} must be a finite number of seconds")
    if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
        raise ValueError(
            f"VideoAdSpec.duration_s={duration:g} s is out of range: ads must last "
            f"{MIN_DURATION_S:g}..{MAX_DURATION_S:g} s"
        )


def _read_image_bytes_digest(path: Path) -> str:
    """sha256 of a file's bytes, with a clear error naming the file if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError as exc:
        raise InvalidImageError(path, "file not found") from exc
    except IsADirectoryError as exc:
        raise InvalidImageError(path, "is a directory, not an image file") from exc
    except OSError as exc:
        raise InvalidImageError(path, f"cannot be read ({exc.strerror or exc})") from exc
    return digest.hexdigest()


def spec_fingerprint(spec: VideoAdSpec) -> str:
    """sha256 over image BYTES (not paths), all text, size, duration, fps and RENDERER_VERSION.

    Hashing bytes rather than paths means re-downloading the same supplier image to a new temp path is a
    cache hit, while a changed image behind the same path is not. Fields are JSON-encoded so values cannot
    run into each other (``("ab", "c")`` and ``("a", "bc")`` hash differently).
    """
    payload = {
        "renderer": RENDERER_VERSION,
        "images": [_read_image_bytes_digest(p) for p in spec.image_paths],
        "headline": spec.headline,
        "captions": list(spec.captions),
        "price": spec.price_text,
        "compare_at": spec.compare_at_text,
        "cta": spec.call_to_action,
        "size": [spec.width, spec.height],
        "duration_s": round(float(spec.duration_s), 6),
        "fps": spec.fps,
    }
    if spec.opening != "problem":  # the default stays out, so the videos rendered before keep their key
        payload["opening"] = spec.opening
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _expected_frames(spec: VideoAdSpec) -> int:
    """Frames moviepy writes: ``int(duration * fps)`` (its own rule in ``iter_frames``)."""
    return int(float(spec.duration_s) * spec.fps)


def _probe_matches(path: Path, spec: VideoAdSpec) -> RenderedVideo | None:
    """A RenderedVideo for ``path`` if it is a complete H.264 file of the spec's geometry, else None."""
    try:
        probe = probe_video(path)
    except InvalidVideoError as exc:
        log.warning("cached video %s is unusable (%s); re-rendering", path, exc)
        return None
    ok = (
        probe.codec == "h264"
        and (probe.width, probe.height) == (spec.width, spec.height)
        and probe.frame_count == _expected_frames(spec)
        and abs(probe.duration_s - float(spec.duration_s)) <= 0.25
    )
    if not ok:
        log.warning("cached video %s does not match its spec (%s); re-rendering", path, probe)
        return None
    return RenderedVideo(
        path=path,
        width=probe.width,
        height=probe.height,
        duration_s=probe.duration_s,
        fps=probe.fps,
        size_bytes=path.stat().st_size,
        render_seconds=0.0,
        fingerprint=path.stem,
    )


def render_video_ad(spec: VideoAdSpec, out_dir: Path) -> RenderedVideo:
    """Render ``<out_dir>/<fingerprint>.mp4`` (H.264, yuv420p, no audio), or return it from the cache.

    A cached file is reused only if it probes as a complete H.264 video of the right geometry; otherwise it
    is re-rendered. Rendering writes to a unique temporary name in ``out_dir`` and renames atomically, so a
    crash or a concurrent render of the same spec never leaves a half-written file under the final name.
    """
    out_dir = Path(out_dir)
    fingerprint = spec_fingerprint(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{fingerprint}.mp4"
    if target.exists():
        cached = _probe_matches(target, spec)
        if cached is not None:
            log.info("video ad cache hit: %s", target)
            return cached

    started = time.perf_counter()
    plan = build_plan(spec)
    tmp = out_dir / f".{fingerprint}.{uuid.uuid4().hex[:8]}.part.mp4"
    try:
        write_video(plan, spec.fps, tmp)
        rendered = _probe_matches(tmp, spec)
        if rendered is None:
            raise RuntimeError(f"ffmpeg produced an invalid video for spec {fingerprint} ({tmp})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    elapsed = time.perf_counter() - started
    log.info("rendered %s in %.2f s (%.2fx real time)", target, elapsed, elapsed / float(spec.duration_s))
    return RenderedVideo(
        path=target,
        width=rendered.width,
        height=rendered.height,
        duration_s=rendered.duration_s,
        fps=rendered.fps,
        size_bytes=target.stat().st_size,
        render_seconds=elapsed,
        fingerprint=fingerprint,
    )
