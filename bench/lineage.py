"""Lineage queries in a large gallery, and the cost of streaming, in one run.

    python -m bench.lineage [--images 100000] [--depth 50] [--rounds 30]

1. Fills a fresh SQLite gallery with --images generations (one image each, rows only), then a chain of --depth
   edits (source -> edit -> edit ...) inside it, and times `GenerationRecords.lineage()` from both ends of the chain
   against `GenerationRecords.get()` of one generation (the cheapest read the pages do). Goal: lineage of a 50-step
   chain within 50x a single get, i.e. about one indexed query pair per step whatever the gallery's size.
2. Against the local endpoint, times `Studio.generate` streamed (partial_images=0) and plain, alternating
   round by round. Goal: streamed <= 1.25x plain (the final image and usage are saved the same way).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from studio.core.wire import ApiResult
from studio.core.config import load_settings
from studio.provider.demo import DemoConfig, start_demo_server
from studio.db.generations import GenerationRecords
from studio.db.models import Generation, Image
from studio.core.request import ImageRequest
from studio.services.studio import Studio

KEY = "bench-key"


def median_ms(work, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def fill(records: GenerationRecords, count: int) -> None:
    batch = 10_000
    with records.engine.begin() as connection:
        for start in range(1, count + 1, batch):
            ids = range(start, min(count + 1, start + batch))
            connection.execute(insert(Generation), [
                {"id": i, "status": "succeeded", "provider": "bench", "base_url_host": "bench", "prompt": f"image {i}",
                 "model": "gpt-image-2", "endpoint": "generations", "worker": "bench:0"} for i in ids
            ])
            connection.execute(insert(Image), [
                {"id": i, "generation_id": i, "batch_index": 0, "path": f"images/{i}.png", "sha256": f"{i:064d}",
                 "width": 1024, "height": 1024, "format": "png", "bytes": 1} for i in ids
            ])


def chain(records: GenerationRecords, root: int, depth: int) -> int:
    """`depth` edits, each of the previous result; returns the last image's id."""
    result = ApiResult([], None, None, None, None, None, None, 0.0)
    current = root
    for step in range(depth):
        source = {"position": 0, "role": "image", "image_id": current, "filename": None, "path": f"images/{current}.png",
                  "sha256": f"{current:064d}", "width": 1024, "height": 1024, "format": "png", "bytes": 1}
        pending = records.start_generation(ImageRequest(prompt=f"edit {step}", model="gpt-image-2"), "bench", "bench", "edits", [source])
        made = {"batch_index": 0, "path": f"images/e{step}.png", "sha256": f"e{step:063d}", "width": 1024, "height": 1024,
                "format": "png", "bytes": 1, "revised_prompt": None}
        current = records.finish_generation(pending, result, [made]).images[0].id
    return current


def lineage_figures(images: int, depth: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records = GenerationRecords.open(f"sqlite:///{Path(tmp) / 'studio.db'}")
        started = time.perf_counter()
        fill(records, images)
        print(f"gallery: {images:,} images filled in {time.perf_counter() - started:.1f} s")
        root = images // 2
        last = chain(records, root, depth)
        assert len(records.lineage(last).ancestors) == depth
        get_ms = median_ms(lambda: records.get(root), rounds)
        up_ms = median_ms(lambda: records.lineage(last), rounds)
        down_ms = median_ms(lambda: records.lineage(root), rounds)
        print(f"records.get (one generation):        median {get_ms:.2f} ms")
        print(f"lineage of the last edit ({depth} up):   median {up_ms:.2f} ms  ({up_ms / get_ms:.1f}x get; goal <= {depth}x)")
        print(f"lineage of the source ({depth} down):    median {down_ms:.2f} ms  ({down_ms / get_ms:.1f}x get; goal <= {depth}x)")


def streaming_figures(rounds: int) -> None:
    server = start_demo_server(config=DemoConfig(api_key=KEY))
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url, "STUDIO_DATA_DIR": str(Path(tmp) / "data"), "STUDIO_MAX_RETRIES": "0"},
            Path("/nonexistent"),
        )
        studio = Studio.open(settings)
        streamed, plain = [], []
        for round_ in range(-3, rounds):  # three warm-up rounds, not counted
            for stream, times in ((True, streamed), (None, plain)):
                started = time.perf_counter()
                outcome = studio.generate(ImageRequest(prompt=f"bench {round_} {stream}", model="gpt-image-2", stream=stream,
                                                       partial_images=0 if stream else None))
                assert outcome.status == "succeeded", outcome.error
                if round_ >= 0:
                    times.append(time.perf_counter() - started)
    server.stop()
    s, p = statistics.median(streamed) * 1000, statistics.median(plain) * 1000
    print(f"generate plain:                      median {p:.1f} ms")
    print(f"generate streamed (partial_images=0): median {s:.1f} ms  (ratio {s / p:.2f}; goal <= 1.25)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    lineage_figures(args.images, args.depth, args.rounds)
    streaming_figures(args.rounds)


if __name__ == "__main__":
    main()
