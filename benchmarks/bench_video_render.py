"""Benchmark the vertical video-ad renderer against the same ad as one ffmpeg filter graph.

    python benchmarks/bench_video_render.py [--width 720 --height 1280 --duration 12 --runs 3]
                                            [--baseline graph|naive|none] [--baseline-runs N]
                                            [--also-1080] [--no-baseline] [--profile] [--json PATH]

Prints seconds per render (median of runs), the real-time factor (render seconds / video seconds; below 1
means faster than real time) and CPU seconds (this process plus ffmpeg), for ``render_video_ad`` and for a
baseline encoded with the same x264 settings and threads, so the comparison is about compositing, not the
encoder. The baseline (the issue's): the same frame plan as one ffmpeg filter graph (the plan's canvases
and text tiles as inputs, each looped from one decoded frame; Ken-Burns by per-frame scale + crop,
crossfades by xfade, each overlay by overlay with its fades; the CTA's pulse left out), rendered by ffmpeg
alone. ``--baseline naive``: an ImageClip + TextClip + CompositeVideoClip composite in moviepy. The timed
runs alternate renderer and baseline, so load from others on the machine hits both alike. Every run renders
into a fresh directory (no cache hits). moviepy is imported before timing: a long-lived worker pays that
~0.9 s once, not per ad.

Wall times on a shared 2-core box move with whatever else runs; the load average is printed next to the
figures and the CPU seconds are the steadier number to compare.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import pstats
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from rich.console import Console
from rich.table import Table

from dropship_pipelines.media import encode, storyboard, video_ad
from dropship_pipelines.media.video_ad import VideoAdSpec, render_video_ad
from dropship_testkit.bench import Figure, add_json_option, report_figures

GOAL_RTF = 0.35  # the goal for a 12 s 720x1280 ad
HEADLINE = "This cozy lamp changed my evenings forever"
CAPTIONS = ("Warm, dimmable light", "Fits any room", "Ships free in 3 days")


@dataclass(frozen=True)
class Measurement:
    """One timed render: wall seconds and CPU seconds split between Python and ffmpeg."""

    wall_s: float
    python_cpu_s: float
    ffmpeg_cpu_s: float
    size_bytes: int


def _cpu_seconds() -> tuple[float, float]:
    """(this process incl. all threads, waited-for children i.e. ffmpeg) CPU seconds so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _measure(render: Callable[[], Path]) -> Measurement:
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    path = render()
    wall = time.perf_counter() - started
    cpu_after = _cpu_seconds()
    return Measurement(
        wall_s=wall,
        python_cpu_s=cpu_after[0] - cpu_before[0],
        ffmpeg_cpu_s=cpu_after[1] - cpu_before[1],
        size_bytes=path.stat().st_size,
    )


def make_product_images(directory: Path) -> tuple[Path, ...]:
    """Three photo-like images of different sizes and aspects: gradient, mild grain, a 'product' shape."""
    rng = np.random.default_rng(7)
    paths = []
    for i, (size, name) in enumerate(
        [((1200, 1200), "square.jpg"), ((900, 1200), "portrait.png"), ((1600, 900), "landscape.jpg")]
    ):
        w, h = size
        x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
        y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
        base = np.stack(
            [
                np.broadcast_to((40 + 80 * i + 150 * x) % 256, (h, w)),
                np.broadcast_to(60 + 150 * y, (h, w)),
                np.broadcast_to(220 - 120 * x * y, (h, w)),
            ],
            axis=-1,
        )
        base = base + rng.normal(0, 6, base.shape)  # sensor-like grain: realistic work for x264
        img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        draw.ellipse(
            (w * 0.2, h * 0.2, w * 0.8, h * 0.8), fill=(246, 242, 232), outline=(25, 25, 25), width=6
        )
        draw.rounded_rectangle(
            (w * 0.38, h * 0.3, w * 0.62, h * 0.7), radius=w // 30, fill=(30 + 70 * i, 70, 160)
        )
        path = directory / name
        img.save(path, quality=90) if name.endswith(".jpg") else img.save(path)
        paths.append(path)
    return tuple(paths)


def make_spec(images: tuple[Path, ...], width: int, height: int, duration: float, tag: str) -> VideoAdSpec:
    return VideoAdSpec(
        image_paths=images,
        headline=f"{HEADLINE}{tag}",
        captions=CAPTIONS,
        price_text="$24.99",
        compare_at_text="$39.99",
        call_to_action="Shop now",
        width=width,
        height=height,
        duration_s=duration,
        fps=30,
    )


def render_fast(spec: VideoAdSpec, work: Path) -> Path:
    out_dir = Path(tempfile.mkdtemp(prefix="fast-", dir=work))
    return render_video_ad(spec, out_dir).path


def render_graph(spec: VideoAdSpec, work: Path) -> Path:
    """The same ad as one ffmpeg filter graph, from the same frame plan (its build is timed here too)."""
    from imageio_ffmpeg import get_ffmpeg_exe

    plan = storyboard.build_plan(spec)
    out_dir = Path(tempfile.mkdtemp(prefix="graph-", dir=work))
    w, h, fps = spec.width, spec.height, spec.fps
    inputs: list[str] = []
    chains: list[str] = []
    for i, scene in enumerate(plan.scenes):
        png = out_dir / f"scene{i}.png"
        scene.canvas.save(png, compress_level=1)
        frames = round((min(scene.end, plan.duration) - scene.start) * fps)
        inputs += ["-i", str(png)]
        m = scene.motion
        p = f"min(1,t/{max(1e-6, scene.end - scene.start):.4f})"
        z = f"({m.z0}+({m.z1 - m.z0})*{p})"
        ax = f"({m.a0[0]}+({m.a1[0] - m.a0[0]})*{p})"
        ay = f"({m.a0[1]}+({m.a1[1] - m.a0[1]})*{p})"
        # The box shown is canvas / zoom: scale the canvas so that box becomes the frame, crop at the anchor.
        chains.append(
            f"[{i}:v]format=yuv420p,loop=loop={frames - 1}:size=1:start=0,setpts=N/{fps}/TB,"
            f"scale=w='ceil({w}*{z}/2)*2':h='ceil({h}*{z}/2)*2':eval=frame:flags=bilinear,"
            f"crop={w}:{h}:x='(iw-{w})*{ax}':y='(ih-{h})*{ay}',setsar=1[s{i}]"
        )
    last = "s0"
    for i in range(1, len(plan.scenes)):
        overlap = min(plan.scenes[i - 1].end, plan.duration) - plan.scenes[i].start
        chains.append(
            f"[{last}][s{i}]xfade=transition=fade:duration={overlap:.4f}:offset={plan.scenes[i].start:.4f}[x{i}]"
        )
        last = f"x{i}"
    first_overlay = len(plan.scenes)
    total = round(plan.duration * fps)
    for k, overlay in enumerate(plan.overlays):
        sprite = overlay.sprites[0]
        png = out_dir / f"overlay{k}.png"
        rgba = sprite.rgb.convert("RGBA")
        rgba.putalpha(sprite.alpha)
        rgba.save(png, compress_level=1)
        inputs += ["-i", str(png)]
        end = min(overlay.end, plan.duration)
        fades = ""
        if overlay.fade_in > 0:
            fades += f",fade=t=in:st={overlay.start:.4f}:d={overlay.fade_in:.4f}:alpha=1"
        if overlay.fade_out > 0 and overlay.end <= plan.duration:
            fades += f",fade=t=out:st={overlay.end - overlay.fade_out:.4f}:d={overlay.fade_out:.4f}:alpha=1"
        chains.append(
            f"[{first_overlay + k}:v]format=yuva420p,loop=loop={total - 1}:size=1:start=0,"
            f"setpts=N/{fps}/TB{fades}[o{k}]"
        )
        chains.append(
            f"[{last}][o{k}]overlay=x={sprite.x}:y={sprite.y}:format=yuv420"
            f":enable='between(t,{overlay.start:.4f},{end:.4f})'[v{k}]"
        )
        last = f"v{k}"
    target = out_dir / "graph.mp4"
    command = [get_ffmpeg_exe(), "-y", "-loglevel", "error", *inputs, "-filter_complex", ";".join(chains)]
    command += ["-map", f"[{last}]", "-frames:v", str(total), "-an", "-c:v", "libx264"]
    command += [
        "-preset",
        encode.X264_PRESET,
        "-crf",
        str(encode.X264_CRF),
        "-x264-params",
        encode.X264_PARAMS,
    ]
    command += ["-pix_fmt", "yuv420p", "-threads", str(encode.FFMPEG_THREADS), "-movflags", "+faststart"]
    subprocess.run([*command, str(target)], check=True, capture_output=True)
    return target


def render_naive(spec: VideoAdSpec, work: Path) -> Path:
    """The plain moviepy way (stack-notes): layered ImageClip/TextClip in a CompositeVideoClip."""
    from moviepy import CompositeVideoClip, ImageClip, TextClip, vfx

    w, h, duration = spec.width, spec.height, float(spec.duration_s)
    font_path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    font = str(font_path) if font_path.is_file() else None
    n = len(spec.image_paths)
    scene = duration / n
    fade = 0.5
    layers = []
    for i, image in enumerate(spec.image_paths):
        start = max(0.0, i * scene - fade / 2)
        length = scene + (fade if 0 < i < n - 1 else fade / 2)
        clip = (
            ImageClip(str(image))
            .resized(width=w)
            .with_duration(length)
            .with_effects([vfx.CrossFadeIn(fade)])
            .resized(lambda t: 1 + 0.05 * t)
            .with_position(("center", "center"))
            .with_start(start)
        )
        layers.append(clip)
        caption = TextClip(
            font=font,
            text=spec.captions[i % len(spec.captions)],
            font_size=int(w * 0.06),
            color="white",
            stroke_color="black",
            stroke_width=3,
            method="caption",
            size=(int(w * 0.9), None),
            text_align="center",
            margin=(10, 20),
        )
        layers.append(
            caption.with_duration(scene).with_start(i * scene).with_position(("center", int(h * 0.72)))
        )
    headline = TextClip(
        font=font,
        text=spec.headline,
        font_size=int(w * 0.075),
        color="white",
        stroke_color="black",
        stroke_width=3,
        method="caption",
        size=(int(w * 0.9), None),
        text_align="center",
        margin=(10, 20),
    )
    layers.append(headline.with_duration(scene).with_start(0).with_position(("center", int(h * 0.05))))
    price = TextClip(
        font=font,
        text=f"{spec.price_text}  (was {spec.compare_at_text})",
        font_size=int(w * 0.07),
        color="yellow",
        stroke_color="black",
        stroke_width=3,
        margin=(10, 20),
    )
    layers.append(price.with_duration(duration).with_start(0).with_position(("center", int(h * 0.82))))
    video = CompositeVideoClip(layers, size=(w, h)).with_duration(duration)
    out = Path(tempfile.mkdtemp(prefix="naive-", dir=work)) / "naive.mp4"
    video.write_videofile(
        str(out),
        fps=spec.fps,
        codec="libx264",
        audio=False,
        preset=encode.X264_PRESET,
        threads=encode.FFMPEG_THREADS,
        logger=None,
    )
    video.close()
    return out


@dataclass(frozen=True)
class Row:
    label: str
    width: int
    height: int
    duration: float
    runs: list[Measurement]

    @property
    def median_wall(self) -> float:
        return statistics.median(m.wall_s for m in self.runs)

    @property
    def rtf(self) -> float:
        return self.median_wall / self.duration


def bench(
    label: str,
    render: Callable[[VideoAdSpec, Path], Path],
    images: tuple[Path, ...],
    width: int,
    height: int,
    duration: float,
    runs: int,
    work: Path,
    console: Console,
    tag: int = 0,
) -> Row:
    results = []
    for run in range(runs):
        spec = make_spec(images, width, height, duration, tag=" " * (run + tag))  # distinct fingerprint
        measurement = _measure(lambda spec=spec: render(spec, work))
        console.print(
            f"  {label} {width}x{height} run {run + tag + 1}: {measurement.wall_s:.2f} s wall, "
            f"CPU python {measurement.python_cpu_s:.2f} s + ffmpeg {measurement.ffmpeg_cpu_s:.2f} s"
        )
        results.append(measurement)
    return Row(label, width, height, duration, results)


def profile_once(images: tuple[Path, ...], width: int, height: int, duration: float, work: Path) -> str:
    """cProfile one render (worker threads are not profiled; the frame work is timed inline instead)."""
    spec = make_spec(images, width, height, duration, tag=" profile")
    plan = storyboard.build_plan(spec).in_yuv420p()  # what write_video composites
    profiler = cProfile.Profile()
    n_frames = int(duration * spec.fps)
    started = time.perf_counter()
    profiler.enable()
    for index in range(n_frames):
        plan.frame(index / spec.fps)
    profiler.disable()
    elapsed = time.perf_counter() - started
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
    return f"frame compositing only, {n_frames} frames inline: {elapsed:.2f} s\n{out.getvalue()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--width", type=int, default=720)
    parser.add_argument("--height", type=int, default=1280)
    parser.add_argument("--duration", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--baseline",
        choices=("graph", "naive", "none"),
        default="graph",
        help="what the renderer is compared with",
    )
    parser.add_argument(
        "--baseline-runs",
        type=int,
        default=None,
        help="baseline renders per size (default: --runs; naive: 1)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="same as --baseline none")
    parser.add_argument("--also-1080", action="store_true", help="also measure 1080x1920")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the frame compositing")
    add_json_option(parser)
    args = parser.parse_args(argv)

    console = Console()
    import moviepy  # noqa: F401  - paid once per process in production; keep it out of the timings

    sizes = [(args.width, args.height)]
    if args.also_1080 and (1080, 1920) not in sizes:
        sizes.append((1080, 1920))
    load_before = os.getloadavg()
    console.print(
        f"cores={os.cpu_count()} load={load_before[0]:.2f} preset={encode.X264_PRESET} "
        f"ffmpeg threads={encode.FFMPEG_THREADS} frame workers={encode.FRAME_WORKERS} "
        f"renderer={video_ad.RENDERER_VERSION}"
    )
    rows: list[tuple[Row, Row | None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        work = Path(tmp)
        images = make_product_images(work)
        kind = "none" if args.no_baseline else args.baseline
        baseline_runs = args.baseline_runs
        if baseline_runs is None:
            baseline_runs = 1 if kind == "naive" else args.runs
        label, render_baseline = {
            "graph": ("one ffmpeg filter graph", render_graph),
            "naive": ("naive moviepy", render_naive),
        }.get(kind, ("", render_naive))
        for width, height in sizes:
            fast_runs: list[Measurement] = []
            base_runs: list[Measurement] = []
            # Alternating, so load from others on the machine hits both alike.
            for run in range(max(args.runs, baseline_runs if kind != "none" else 0)):
                if run < args.runs:
                    one = (images, width, height, args.duration, 1, work, console)
                    fast_runs += bench("render_video_ad", render_fast, *one, tag=run).runs
                if kind != "none" and run < baseline_runs:
                    base_runs += bench(
                        label,
                        render_baseline,
                        images,
                        width,
                        height,
                        args.duration,
                        1,
                        work,
                        console,
                        tag=run,
                    ).runs
            fast = Row("render_video_ad", width, height, args.duration, fast_runs)
            base = Row(label, width, height, args.duration, base_runs) if base_runs else None
            rows.append((fast, base))
        if args.profile:
            console.print(profile_once(images, args.width, args.height, args.duration, work))
    load_after = os.getloadavg()

    table = Table(
        title=f"{args.duration:g} s vertical ad, 30 fps (median of runs; RTF < 1 = faster than real time)"
    )
    for column in ("renderer", "size", "runs", "s / render", "RTF", "CPU py+ffmpeg s", "MB", "speed-up"):
        table.add_column(column, justify="right" if column not in ("renderer",) else "left")
    for fast, naive in rows:
        for row in (fast, naive):
            if row is None:
                continue
            cpu = statistics.median(m.python_cpu_s + m.ffmpeg_cpu_s for m in row.runs)
            size_mb = statistics.median(m.size_bytes for m in row.runs) / 1e6
            speedup = (
                f"{naive.median_wall / fast.median_wall:.1f}x" if naive is not None and row is fast else ""
            )
            table.add_row(
                row.label,
                f"{row.width}x{row.height}",
                str(len(row.runs)),
                f"{row.median_wall:.2f}",
                f"{row.rtf:.2f}",
                f"{cpu:.1f}",
                f"{size_mb:.2f}",
                speedup,
            )
    console.print(table)
    console.print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    figures = [
        Figure(
            f"video ad {fast.width}x{fast.height}, {fast.duration:g} s: real-time factor "
            f"(baseline: {naive.label if naive is not None else 'none'})",
            fast.rtf,
            "RTF",
            naive.rtf if naive is not None else math.nan,
            "baseline",
            goal=GOAL_RTF,
            higher_is_better=False,
        )
        for fast, naive in rows
        if (fast.width, fast.height) == (720, 1280)
    ]
    report_figures(console, figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
