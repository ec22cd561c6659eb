"""Gallery speed at 100,000 images: seed a fresh gallery, then time the queries the Gallery page runs.

    .venv/bin/python bench/gallery.py [--images 100000] [--keep DIR]
    .venv/bin/python bench/gallery.py --postgres                 # a throwaway PostgreSQL (Debian's package)
    .venv/bin/python bench/gallery.py --database-url postgresql+psycopg://user@host/db   # an empty database
    .venv/bin/python bench/gallery.py --keep DIR --table-only [--only WORDS]   # a seeded folder: the search x filter table only

Seeding uses bulk inserts through the real schema (the FTS triggers fire for every row) and a few
dozen real image files that rows share, as content-addressed files may be shared. Goals (issue 4):
first page < 100 ms; page 1,000 deep <= 1.5x the first; FTS search < 50 ms and >= 10x faster than
LIKE; RSS growth < 50 MB while paging through 20 pages.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image as PILImage  # noqa: E402
from sqlalchemy import insert, select, func, text  # noqa: E402

from studio.core.config import load_settings  # noqa: E402
from studio.db.generations import GenerationRecords  # noqa: E402
from studio.core.browsing import SORTS, GalleryFilter, cursor_at  # noqa: E402
from studio.services.gallery import GalleryService  # noqa: E402
from studio.services.studio import Studio  # noqa: E402
from studio.db.models import Generation, Image  # noqa: E402
from studio.files.storage import LocalStorage  # noqa: E402
from studio.files.thumbnails import save_thumbnail  # noqa: E402

SUBJECTS = "fox owl whale teapot robot dancer castle bicycle orchid dragon violin astronaut cactus tram glacier harbor samurai koi jellyfish".split()
STYLES = "watercolor gouache isometric risograph cyanotype linocut vaporwave ukiyo-e bauhaus art-deco pixel-art charcoal claymation baroque cubist noir".split()
MOODS = "serene eerie joyful melancholy stormy dreamy dusty neon misty golden frozen tangled quiet roaring".split()
PLACES = "forest desert rooftop subway library canyon market observatory greenhouse harbour attic lagoon village tundra".split()
EXTRAS = [f"motif{n:04d}" for n in range(2000)]  # rare words: each in about 1 in 2,000 prompts
MODELS = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5")
QUALITIES = ("low", "medium", "high")
SIZES = ("1024x1024", "1536x1024", "1024x1536")
FORMATS = ("png", "jpeg", "webp")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(work: Callable[[], object], repeat: int = 7) -> tuple[float, float]:
    """(first run, median of the rest) in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times[0], statistics.median(times[1:])


def seed(library: GalleryService, count: int, rng: random.Random) -> None:
    storage = library.storage
    files = []
    for n in range(48):  # small real images and their real thumbnails, shared by many rows
        picture = PILImage.new("RGB", (384, 384), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        buffer = io.BytesIO()
        picture.save(buffer, "PNG", compress_level=1)
        data = buffer.getvalue()
        stored = storage.put(data, "png")
        files.append((stored, save_thumbnail(storage, data)))
    start = datetime.now(timezone.utc) - timedelta(days=365)
    step = timedelta(days=365) / count
    engine = library.records.engine
    batch = 5000
    with engine.begin() as connection:
        for first in range(0, count, batch):
            generations, images = [], []
            for number in range(first, min(first + batch, count)):
                # "in" is in every prompt, "the" in every second, "lighthouse" in every tenth (issue 11's common words).
                subject = "lighthouse" if number % 10 == 3 else rng.choice(SUBJECTS)
                words = [rng.choice(MOODS), rng.choice(STYLES), subject, "in the" if number % 2 else "in a", rng.choice(PLACES), rng.choice(EXTRAS)]
                prompt = " ".join(words)
                stored, thumb = files[number % len(files)]
                status = "failed" if number % 97 == 0 else "succeeded"
                generations.append({
                    "id": number + 1, "created_at": start + step * number, "status": status, "provider": "bench",
                    "base_url_host": "bench.local", "prompt": prompt, "model": MODELS[number % 3],
                    "quality": QUALITIES[number // 3 % 3], "size": SIZES[number % 3], "output_format": FORMATS[number % 3],
                    "latency_s": 12.5, "error_message": "refused" if status == "failed" else None,
                })
                if status == "succeeded":
                    images.append({
                        "generation_id": number + 1, "batch_index": 0, "path": stored.path, "sha256": stored.sha256,
                        "width": 384, "height": 384, "format": "png", "bytes": stored.bytes,
                        "revised_prompt": f"A {prompt}, detailed, {rng.choice(STYLES)} lighting", "thumbnail_path": thumb,
                        "favourite": number % 50 == 0,
                    })
            connection.execute(insert(Generation), generations)
            connection.execute(insert(Image), images)
    after_bulk_load(engine)


def after_bulk_load(engine: Any) -> None:
    """Statistics for the planner, as a gallery that grew slowly would have them. On PostgreSQL also a VACUUM:
    each image row's trigger rewrites its generation's tsvector, leaving a dead row version per generation
    after a bulk load; autovacuum clears them soon after, so measure after it has."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))


def timed_median(work: Callable[[], object]) -> float:
    """Median of a few runs after a warm-up run, in ms (fewer runs for a slow query)."""
    started = time.perf_counter()
    work()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(2 if first > 200 else 5):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def query_cases(library: GalleryService) -> list[tuple[str, GalleryFilter]]:
    """Every search and filter issue 11 names, at their worst: common words, absent words, filters that
    match nothing, and search + filter together."""
    with library.records.engine.connect() as connection:
        spread = connection.scalars(select(Image.id).where(Image.id % 4000 == 1)).all()
    collection = library.add_to_collection("bench: every 4,000th image", spread)
    with library.records.engine.connect() as connection:
        first, last = connection.execute(select(func.min(Generation.created_at), func.max(Generation.created_at))).one()
    week = (first + (last - first) / 3).date()
    return [
        ("everything", GalleryFilter()),
        ("search 'in' (every prompt)", GalleryFilter(search="in")),
        ("search 'the' (1 in 2)", GalleryFilter(search="the")),
        ("search 'lighthouse' (1 in 10)", GalleryFilter(search="lighthouse")),
        ("search 'light' (prefix, common)", GalleryFilter(search="light")),
        ("search 'motif0042' (1 in 2,000)", GalleryFilter(search="motif0042")),
        ("search 'dreamy koi' (two words)", GalleryFilter(search="dreamy koi")),
        ("search 'zebra' (no match)", GalleryFilter(search="zebra")),
        ("search 'foggy lighthouse' (none)", GalleryFilter(search="foggy lighthouse")),
        ("status failed (1 in 97)", GalleryFilter(status="failed")),
        ("status pending (none)", GalleryFilter(status="pending")),
        ("model mini (1 in 3)", GalleryFilter(model="gpt-image-1-mini")),
        ("model unknown (none)", GalleryFilter(model="dall-e-9")),
        ("quality high (1 in 3)", GalleryFilter(quality="high")),
        ("size 1536x1024 (1 in 3)", GalleryFilter(size="1536x1024")),
        ("output_format webp (1 in 3)", GalleryFilter(output_format="webp")),
        ("background transparent (none)", GalleryFilter(background="transparent")),
        ("favourites (1 in 50)", GalleryFilter(favourites=True)),
        ("collection (1 in 4,000)", GalleryFilter(collection_id=collection)),
        ("a week", GalleryFilter(date_from=week, date_to=week + timedelta(days=6))),
        ("dates in the future (none)", GalleryFilter(date_from=last.date() + timedelta(days=30))),
        ("model + quality (1 in 9)", GalleryFilter(model="gpt-image-1-mini", quality="high")),
        ("model + size (none)", GalleryFilter(model="gpt-image-1", size="1536x1024")),
        ("model + background (none)", GalleryFilter(model="gpt-image-1", background="transparent")),
        ("failed + favourites (none)", GalleryFilter(status="failed", favourites=True)),
        ("'in' + model", GalleryFilter(search="in", model="gpt-image-1-mini")),
        ("'in' + model + size (none)", GalleryFilter(search="in", model="gpt-image-1", size="1536x1024")),
        ("'the' + a week", GalleryFilter(search="the", date_from=week, date_to=week + timedelta(days=6))),
        ("'lighthouse' + favourites (none)", GalleryFilter(search="lighthouse", favourites=True)),
        ("'dreamy' + favourites", GalleryFilter(search="dreamy", favourites=True)),
        ("'lighthouse' + failed", GalleryFilter(search="lighthouse", status="failed")),
        ("'motif0042' + quality", GalleryFilter(search="motif0042", quality="high")),
        ("'zebra' + favourites (none)", GalleryFilter(search="zebra", favourites=True)),
    ]


def every_search_and_filter(library: GalleryService, only: str = "") -> None:
    """First page and a deep keyset page (the page after a cursor half-way through the gallery: "jump to
    date") for every case and every sort, 48 items a page. `rows` is the page's digest, to compare runs.
    `only`: the cases whose label contains it (all when empty). Every case over the goal is listed at the end."""
    with library.records.engine.connect() as connection:
        first, last = connection.execute(select(func.min(Generation.created_at), func.max(Generation.created_at))).one()
    middle = first + (last - first) / 2
    slowest, over = 0.0, []
    print(f"\n{'search / filter':<36} {'sort':<10} {'first page':>10} {'deep page':>10}  items  rows")
    for label, filters in query_cases(library):
        if only not in label:
            continue
        for sort in SORTS:
            jump = cursor_at(middle, sort)
            first_ms = timed_median(lambda: library.page(filters, sort, 48))
            deep_ms = timed_median(lambda: library.page(filters, sort, 48, after=jump))
            page, deep = library.page(filters, sort, 48), library.page(filters, sort, 48, after=jump)
            digest = hashlib.sha1(repr([i.key for i in page.items + deep.items]).encode()).hexdigest()[:8]
            slowest = max(slowest, first_ms, deep_ms)
            line = f"{label:<36} {sort:<10} {first_ms:8.2f} ms {deep_ms:7.2f} ms  {len(page.items):2}/{len(deep.items):<2}  {digest}"
            print(line, flush=True)
            if max(first_ms, deep_ms) >= 50:
                over.append(line)
    print(f"slowest of all: {slowest:.2f} ms (goal: < 50 ms); {len(over)} case(s) at or over 50 ms" + "".join(f"\n  {line}" for line in over) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="gallery items to seed (failed requests included)")
    parser.add_argument("--table-only", action="store_true", help="only the table of every search x filter x sort")
    parser.add_argument("--only", default="", help="with the table: only the cases whose label contains this")
    add_database_options(parser)
    args = parser.parse_args()
    return on_database(args, "gallery-bench-", lambda root, url: run(root, args.images, url, args.table_only, args.only))


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """The options every seeding bench takes to pick its database (read by `on_database`)."""
    parser.add_argument("--keep", help="seed into this folder and keep it (default: a temp folder)")
    parser.add_argument("--database-url", help="run on this database instead of SQLite in the folder (e.g. PostgreSQL)")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server and run on it")


def on_database(args: argparse.Namespace, prefix: str, bench: Callable[[Path, str], int]) -> int:
    """Run `bench(folder, database_url)` on SQLite in a folder (`--keep` or a temp one), the given
    `--database-url`, or a throwaway PostgreSQL (`--postgres`), stopped afterwards."""
    root = Path(args.keep or tempfile.mkdtemp(prefix=prefix))
    root.mkdir(parents=True, exist_ok=True)
    if args.postgres:
        from tests.backends import PostgresServer  # the same throwaway server the tests start

        server = PostgresServer()
        try:
            return bench(root, server.create_database(migrated=False))
        finally:
            server.stop()
    return bench(root, args.database_url or f"sqlite:///{root / 'studio.db'}")


def database_size_mb(library: GalleryService, root: Path) -> float:
    engine = library.records.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return connection.scalar(text("SELECT pg_database_size(current_database())")) / 1e6
    return os.path.getsize(root / "studio.db") / 1e6


def run(root: Path, images: int, database_url: str, table_only: bool = False, only: str = "") -> int:
    settings = load_settings({"STUDIO_DATA_DIR": str(root), "STUDIO_DATABASE_URL": database_url},
                             secrets_path=root / "no-secrets.toml")
    library = GalleryService(Studio(settings, GenerationRecords.open(database_url), LocalStorage(root)))
    rng = random.Random(7)

    started = time.perf_counter()
    with library.records.engine.connect() as connection:
        reuse = bool(connection.scalar(select(func.count()).select_from(Generation)))
    if not reuse:  # --keep on a seeded folder measures it again without seeding
        seed(library, images, rng)
    seeded_s = time.perf_counter() - started
    with library.records.engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(Generation))
        image_rows = connection.scalar(select(func.count()).select_from(Image))
    print(f"{'reused' if reuse else 'seeded'} {rows:,} generations / {image_rows:,} images in {seeded_s:.1f} s "
          f"({library.records.engine.dialect.name}; files in {root})")
    if table_only:
        every_search_and_filter(library, only)
        return 0

    everything = GalleryFilter()
    first_cold, first = timed(lambda: library.page(everything, limit=24))
    print(f"first page (24, newest):          {first:7.2f} ms median (first run {first_cold:.2f} ms)")

    cursor = None
    walk_started = time.perf_counter()
    for _ in range(999):
        cursor = library.page(everything, limit=24, after=cursor).next_cursor
    walk_s = time.perf_counter() - walk_started
    deep_cold, deep = timed(lambda: library.page(everything, limit=24, after=cursor))
    deep_items = library.page(everything, limit=24, after=cursor).items
    print(f"page 1,000 deep (keyset):         {deep:7.2f} ms median ({deep / first:.2f}x the first page; "
          f"walking 999 pages took {walk_s:.1f} s; first item #{deep_items[0].generation_id})")
    offset_sql = text("SELECT g.id FROM generations g LEFT JOIN images i ON i.generation_id = g.id "
                      "ORDER BY g.created_at DESC, g.id DESC LIMIT 24 OFFSET 23976")
    with library.records.engine.connect() as connection:
        _, offset_ms = timed(lambda: connection.execute(offset_sql).all())
    print(f"  (the same page by OFFSET:       {offset_ms:7.2f} ms, for contrast; the gallery never does this)")

    for name, filters in [("status=failed", GalleryFilter(status="failed")), ("favourites", GalleryFilter(favourites=True)),
                          ("model+quality", GalleryFilter(model="gpt-image-1-mini", quality="high")),
                          ("none match", GalleryFilter(model="gpt-image-1", background="transparent"))]:  # worst case: walks a third
        _, ms = timed(lambda: library.page(filters, limit=24))
        print(f"first page, filter {name:<14} {ms:7.2f} ms")
    _, fav_first = timed(lambda: library.page(everything, sort="favourites", limit=24))
    print(f"first page, favourites first:     {fav_first:7.2f} ms")

    for term in ("motif0042", "lighthouse", "dreamy koi", "in", "foggy lighthouse"):
        fts_filter = GalleryFilter(search=term)
        fts_cold, fts = timed(lambda: library.browse.page(fts_filter, limit=24, search_mode="fts"))
        like_cold, like = timed(lambda: library.browse.page(fts_filter, limit=24, search_mode="like"), repeat=3)
        hits = len(library.browse.page(fts_filter, limit=24, search_mode="fts").items)
        same = [i.key for i in library.browse.page(fts_filter, limit=24, search_mode="fts").items] == [
            i.key for i in library.browse.page(fts_filter, limit=24, search_mode="like").items]
        print(f"search {term!r:<20} FTS {fts:7.2f} ms (first run {fts_cold:.2f}) | LIKE {like:8.2f} ms | "
              f"{like / fts:6.1f}x faster | {hits} on page 1, same results: {same}")

    every_search_and_filter(library, only)

    try:  # reset the high-water mark (Linux), so the peak below is the paging's own
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    rss_before = rss_mb()
    peak_before = peak_rss_mb()
    cursor = None
    for _ in range(20):
        page = library.page(everything, limit=96, after=cursor)
        for item in page.items:  # what the page does: read every thumbnail
            if item.thumbnail_path:
                library.storage.read(item.thumbnail_path)
        cursor = page.next_cursor
    print(f"RSS while paging 20 pages of 96:  {rss_before:.1f} MB -> {rss_mb():.1f} MB; peak {peak_before:.1f} -> "
          f"{peak_rss_mb():.1f} MB (growth {max(0.0, peak_rss_mb() - rss_before):.1f} MB)")
    print(f"database size: {database_size_mb(library, root):.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
