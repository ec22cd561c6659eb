"""What the gallery adds to the save path: metadata embedding and the thumbnail, against a bare client call.

    .venv/bin/python bench/thumbnails.py [--rounds 15]

Prints, per output format at 1024x1024 from the local demo endpoint (medians, one run):
  bare:      the openai client call + writing the bytes to a file (the lead's baseline)
  studio:    Studio.generate (validate, record, call, embed metadata, hash + atomic write, commit); the
             thumbnail is made on a background thread just after, so it is not in this figure
  +thumb:    Studio.generate and then waiting for its thumbnail, to show what moving it off the path saves
  embed, thumbnail: those two steps alone, and ways of making the thumbnail (plain `Image.thumbnail` with
  LANCZOS, as a naive version would, against the `draft`/`reduce` path the studio uses).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from studio.provider.client import send_request  # noqa: E402
from studio.core.config import load_settings  # noqa: E402
from studio.provider.demo import render_image  # noqa: E402
from studio.files.filemeta import embed_metadata  # noqa: E402
from studio.core.request import ImageRequest  # noqa: E402
from studio.services.studio import Studio  # noqa: E402
from studio.files.thumbnails import render_thumbnail  # noqa: E402
from studio.services.thumbnails import wait_for_thumbnails  # noqa: E402


def median_ms(work: Callable[[], object], rounds: int) -> float:
    work()  # warm up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def naive_thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((256, 256), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=80)
        return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="thumb-bench-"))
    os.environ.update(STUDIO_DATA_DIR=str(root), STUDIO_PROVIDER="demo")
    os.environ.pop("STUDIO_DATABASE_URL", None)
    studio = Studio.open(load_settings())
    client = studio.client()
    print(f"{'format':<6} {'bare':>8} {'studio':>8} {'ratio':>6} {'+thumb':>9} | {'embed':>6} {'thumb':>6} {'naive thumb':>11}")
    for fmt in ("png", "jpeg", "webp"):
        request = ImageRequest(prompt=f"A lighthouse in fog, {fmt}", model=studio.settings.model, size="1024x1024", output_format=fmt)
        target = root / f"bare.{fmt}"

        def bare() -> None:
            result = send_request(client, request)
            with open(target, "wb") as handle:
                handle.write(result.images[0].data)
                handle.flush()
                os.fsync(handle.fileno())

        # The three paths alternate round by round, so drift on a shared machine hits them alike.
        timings: dict[str, list[float]] = {"bare": [], "studio": [], "thumb": []}
        paths = {"bare": bare, "studio": lambda: studio.generate(request),
                 "thumb": lambda: (studio.generate(request), wait_for_thumbnails())}
        for round_ in range(-2, args.rounds):
            for name, work in paths.items():
                started = time.perf_counter()
                work()
                if round_ >= 0:
                    timings[name].append((time.perf_counter() - started) * 1000)
        bare_ms, studio_ms, with_thumbnail_ms = (statistics.median(timings[k]) for k in ("bare", "studio", "thumb"))
        data = render_image(request.prompt, "1024x1024", fmt, "auto", None, 0)
        embed_ms = median_ms(lambda: embed_metadata(data, fmt, {"prompt": request.prompt, "revised_prompt": "x" * 400}), args.rounds)
        thumb_ms = median_ms(lambda: render_thumbnail(data), args.rounds)
        naive_ms = median_ms(lambda: naive_thumbnail(data), args.rounds)
        print(f"{fmt:<6} {bare_ms:7.1f}ms {studio_ms:7.1f}ms {studio_ms / bare_ms:5.2f}x {with_thumbnail_ms:7.1f}ms | {embed_ms:5.2f}ms {thumb_ms:5.1f}ms {naive_ms:10.1f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
