"""Times the local renderer on a cold cache and prints how far under real time it is.

    .venv/bin/python bench/render.py                     # 8 s at 1280x720 and 1920x1080, 3 runs each
    .venv/bin/python bench/render.py --one-core          # pinned to one CPU (the target: well under 8 s)
    .venv/bin/python bench/render.py --sizes 2160x3840 --threads 1 2

Every run renders into a fresh temporary cache, so nothing is reused. "realtime" is render time
divided by video duration: 0.25 means 8 s of video took 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from vidgate.render import RenderSpec, render
from vidgate.render.encode import SETTINGS

PROMPT = "A calico cat playing a piano on stage under warm spotlights, cinematic, 35mm film"


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def bench(width: int, height: int, seconds: int, repeat: int) -> tuple[list[float], list[float], int]:
    walls: list[float] = []
    cpus: list[float] = []
    size = 0
    for i in range(repeat):
        spec = RenderSpec(prompt=PROMPT, seconds=seconds, width=width, height=height, seed=i)
        with tempfile.TemporaryDirectory(prefix="vidgate-bench-") as cache:
            wall, cpu = time.perf_counter(), time.process_time()
            out = render(spec, Path(cache))
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            size = out.video.stat().st_size
    return walls, cpus, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", default=["1280x720", "1920x1080"])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[SETTINGS.threads], help="x264 threads to try"
    )
    parser.add_argument("--one-core", action="store_true", help="pin this process to one CPU first (Linux)")
    args = parser.parse_args()
    if args.one_core:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cpus_available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"encoder: {SETTINGS.describe()}  fps=24  cpus available: {cpus_available}")
    render(RenderSpec(prompt="warm-up", seconds=1, width=320, height=180), Path(tempfile.mkdtemp()))
    header = ("size", "secs", "thr", "wall min", "wall med", "cpu med", "realtime")
    print("{:>10} {:>4} {:>3}  {:>8} {:>8} {:>8} {:>8}  MB".format(*header))
    for threads in args.threads:
        os.environ["VIDGATE_RENDER_THREADS"] = str(threads)
        for text in args.sizes:
            width, height = _size(text)
            walls, cpus, size = bench(width, height, args.seconds, args.repeat)
            median = statistics.median(walls)
            print(
                f"{text:>10} {args.seconds:>4} {threads:>3}  {min(walls):>7.2f}s {median:>7.2f}s "
                f"{statistics.median(cpus):>7.2f}s {median / args.seconds:>8.3f}  {size / 1e6:.1f}"
            )


if __name__ == "__main__":
    main()
