"""What GIF and SVG cost the save path and the thumbnailer, against a PNG of the same picture.

    .venv/bin/python bench/formats.py [--rounds 15]

Prints, at 1024x1024 (medians of one run, each format measured interleaved with the others so a load burst
on the shared machine falls on all alike):
  check:     the whole-file check every returned image passes (a GIF frame by frame; an SVG parsed and cleaned)
  clean:     an SVG's sanitising alone (kept bytes), and a hostile SVG's (everything to remove)
  embed:     putting the metadata inside the file
  thumbnail: the gallery thumbnail (a GIF's is an animated WebP of its frames, an SVG's is drawn by CairoSVG)
and each figure's ratio to the PNG's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.files.filemeta import embed_metadata  # noqa: E402
from studio.files.imagefile import inspect_image, keepable  # noqa: E402
from studio.files.thumbnails import render_thumbnail  # noqa: E402
from studio.provider.demo.pictures import draw_image, encode_image, hostile_svg  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    picture = draw_image("a bench picture", "1024x1024", "png", "auto", 0, "high", "high")
    files = {
        "png": encode_image(picture, "png", None),
        "gif (9 frames)": encode_image(picture, "gif", None, 9),
        "gif (16 frames)": encode_image(picture, "gif", None, 16),
        "svg": encode_image(picture, "svg", None, None, "a bench picture"),
    }
    steps: dict[str, Callable[[str, bytes], object]] = {
        "check": lambda fmt, data: inspect_image(data),
        "embed": lambda fmt, data: embed_metadata(data, fmt.split()[0], {"prompt": "a bench picture", "model": "gpt-image-2.6-flare"}),
        "thumbnail": lambda fmt, data: render_thumbnail(data),
    }
    timings: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for step, work in steps.items():
            for fmt, data in files.items():
                started = time.perf_counter()
                work(fmt, data)
                timings.setdefault((step, fmt), []).append((time.perf_counter() - started) * 1000)
        for name, data in (("svg", files["svg"]), ("hostile svg", hostile_svg(1024, 1024))):
            started = time.perf_counter()
            keepable(data)
            timings.setdefault(("clean", name), []).append((time.perf_counter() - started) * 1000)
    print(f"{'step':<10} {'format':<16} {'median ms':>10} {'x png':>7}   ({args.rounds} rounds, sizes: "
          + ", ".join(f"{fmt} {len(data) // 1024} KB" for fmt, data in files.items()) + ")")
    for (step, fmt), values in timings.items():
        median = statistics.median(values)
        png = timings.get((step, "png"))
        ratio = f"{median / statistics.median(png):6.1f}x" if png else "      -"
        print(f"{step:<10} {fmt:<16} {median:>10.2f} {ratio:>7}")


if __name__ == "__main__":
    main()
