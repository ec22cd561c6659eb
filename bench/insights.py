"""Insights speed at 100,000 generations: seed a fresh gallery (bench/gallery.py's seeding, then varied
latencies, usage tokens, error codes and 2,000 arena votes), and time everything the Insights page computes.

    .venv/bin/python bench/insights.py [--generations 100000] [--keep DIR]
    .venv/bin/python bench/insights.py --postgres          # a throwaway PostgreSQL (Debian's package)

Goal (issue 14): the page's server time under 1 s. What is timed is `insights()` (every aggregate of the
page: spend rows priced, latency percentiles, images per day, failures, tokens, arena win rates) plus
the sidebar's spend totals, i.e. every query a render of the page runs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, update  # noqa: E402

from bench.gallery import add_database_options, after_bulk_load, on_database, seed, timed  # noqa: E402
from studio.core.config import load_settings  # noqa: E402
from studio.db.generations import GenerationRecords  # noqa: E402
from studio.db.insights import InsightFilter  # noqa: E402
from studio.db.models import ArenaVote, Generation  # noqa: E402
from studio.files.storage import LocalStorage  # noqa: E402
from studio.services.comparisons import spend  # noqa: E402
from studio.services.gallery import GalleryService  # noqa: E402
from studio.services.insights import insights  # noqa: E402
from studio.services.studio import Studio  # noqa: E402

QUALITY_SECONDS = {"low": 8.0, "medium": 20.0, "high": 55.0}


def vary(studio: Studio, count: int, rng: random.Random) -> None:
    """Latency by quality with a long tail, output tokens on a third of the rows, error codes, arena votes."""
    engine = studio.records.engine
    with engine.begin() as connection:
        for quality, seconds in QUALITY_SECONDS.items():
            # One UPDATE per quality: latency = base * (0.6 .. 2.0), spread by id so rows differ.
            connection.execute(update(Generation).where(Generation.quality == quality).values(
                latency_s=seconds * (0.6 + (Generation.id % 141) / 100.0)))
        connection.execute(update(Generation).where(Generation.id % 3 == 0, Generation.status == "succeeded").values(
            input_tokens=50 + Generation.id % 40, output_tokens=1000 + Generation.id % 5000))
        codes = ("moderation_blocked", "rate_limited", "timeout", "server_error")
        for index, code in enumerate(codes):
            connection.execute(update(Generation).where(Generation.status == "failed", Generation.id % 4 == index).values(error_code=code))
        qualities = ("low", "medium", "high")
        votes = []
        for number in range(2000):
            a, b = rng.sample(qualities, 2)
            votes.append({"choice": rng.choice(("left", "right", "tie")), "left_model": "gpt-image-1", "left_quality": a, "left_size": "1024x1024",
                          "right_model": "gpt-image-1", "right_quality": b, "right_size": "1024x1024", "left_image_id": number + 1,
                          "right_image_id": number + 2})
        connection.execute(insert(ArenaVote), votes)
    after_bulk_load(engine)


def run(root: Path, count: int, database_url: str) -> int:
    settings = load_settings({"STUDIO_DATA_DIR": str(root), "STUDIO_DATABASE_URL": database_url}, secrets_path=root / "no-secrets.toml")
    studio = Studio(settings, GenerationRecords.open(database_url), LocalStorage(root))
    rng = random.Random(7)
    started = time.perf_counter()
    with studio.records.engine.connect() as connection:
        reuse = bool(connection.scalar(select(func.count()).select_from(Generation)))
    if not reuse:
        seed(GalleryService(studio), count, rng)
        vary(studio, count, rng)
    with studio.records.engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(Generation))
    print(f"{'reused' if reuse else 'seeded'} {rows:,} generations in {time.perf_counter() - started:.1f} s ({studio.records.engine.dialect.name})")

    everything = InsightFilter()
    report = insights(studio, everything)
    print(f"rows the page gets: spend {len(report.spend)}, latency {len(report.latency)}, images/day {len(report.images)}, "
          f"failures {len(report.failures)}, tokens {len(report.tokens)}, arena tiers {len(report.arena.overall)} ({report.arena.votes} votes)")
    def page() -> None:  # as views/insights.py renders: the sidebar's totals reuse the report's spend read
        spend(studio, insights(studio, everything).gallery_spend)

    cold, warm = timed(page, repeat=5)
    print(f"whole Insights page (all aggregates + sidebar spend): {warm:7.1f} ms median (first run {cold:.1f} ms); goal < 1000 ms")
    one_model = InsightFilter(model="gpt-image-1-mini")
    _, filtered = timed(lambda: spend(studio, insights(studio, one_model).gallery_spend), repeat=5)
    print(f"  filtered to one model (with the sidebar):           {filtered:7.1f} ms median")
    from studio.db.insights import InsightRecords  # each aggregate on its own, to see where the time goes

    records = InsightRecords(studio.records.engine)
    for name in ("spend_rows", "latency", "images_per_day", "failures", "tokens"):
        _, ms = timed(lambda: getattr(records, name)(everything), repeat=5)
        print(f"  {name:<16} {ms:7.1f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=100_000)
    add_database_options(parser)
    args = parser.parse_args()
    return on_database(args, "insights-bench-", lambda root, url: run(root, args.generations, url))


if __name__ == "__main__":
    raise SystemExit(main())
