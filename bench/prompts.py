"""Prompt history and prompt versions in a large gallery, in one run.

    .venv/bin/python bench/prompts.py [--images 100000] [--depth 50] [--keep DIR] [--postgres]

Seeds a fresh gallery the way bench/gallery.py does (prompts from a few hundred thousand combinations, so
most are distinct), adds a chain of --depth prompt versions, then times what the prompt box's history popover
and the detail view's versions section run: the newest 20 distinct prompts, the same searched by a common
word and by a rare one, and the versions of the chain's last and first step against one `get` (the cheapest
read the pages do). Goals: history < 150 ms, searched history < 150 ms, a 50-step chain's versions within
60x a single get (one indexed lookup per step, whatever the gallery's size).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.gallery import add_database_options, on_database, seed, timed  # noqa: E402
from studio.core.config import load_settings  # noqa: E402
from studio.db.generations import GenerationRecords  # noqa: E402
from studio.db.models import Generation  # noqa: E402
from studio.db.prompts import PromptRecords  # noqa: E402
from studio.files.storage import LocalStorage  # noqa: E402
from studio.services.gallery import GalleryService  # noqa: E402
from studio.services.studio import Studio  # noqa: E402


def add_chain(records: GenerationRecords, depth: int) -> tuple[int, int]:
    """`depth` versions of one prompt, each the parent of the next; returns (first id, last id)."""
    with records.engine.begin() as connection:
        start = connection.scalar(select(func.max(Generation.id))) + 1
        connection.execute(insert(Generation), [
            {"id": start + step, "status": "succeeded", "provider": "bench", "base_url_host": "bench.local",
             "prompt": "a fox" + " and more" * step, "model": "gpt-image-1", "prompt_parent_id": start + step - 1 if step else None}
            for step in range(depth)])
    return start, start + depth - 1


def run(root: Path, images: int, depth: int, database_url: str) -> int:
    settings = load_settings({"STUDIO_DATA_DIR": str(root), "STUDIO_DATABASE_URL": database_url}, secrets_path=root / "no-secrets.toml")
    library = GalleryService(Studio(settings, GenerationRecords.open(database_url), LocalStorage(root)))
    records = library.records
    started = time.perf_counter()
    with records.engine.connect() as connection:
        present = connection.scalar(select(func.count()).select_from(Generation))
    if not present:
        seed(library, images, random.Random(7))
    first, last = add_chain(records, depth)
    print(f"gallery: {images:,} generations on {records.engine.dialect.name} (seeded in {time.perf_counter() - started:.1f} s)")
    prompts = PromptRecords(records.engine)
    figures = {
        "history (newest 20 distinct prompts)": timed(lambda: prompts.history("", 20)),
        "history searched, common word 'fox'": timed(lambda: prompts.history("fox", 20)),
        "history searched, rare word 'motif0042'": timed(lambda: prompts.history("motif0042", 20)),
        f"versions from the last of {depth}": timed(lambda: prompts.versions(last)),
        f"versions from the first of {depth}": timed(lambda: prompts.versions(first)),
        "one get (baseline)": timed(lambda: records.get(last)),
    }
    for name, (cold, warm) in figures.items():
        print(f"{name:45s} first {cold:8.1f} ms   median {warm:8.1f} ms")
    assert len(prompts.versions(last)) == depth
    ratio = figures[f"versions from the last of {depth}"][1] / figures["one get (baseline)"][1]
    print(f"versions / get: {ratio:.1f}x (goal <= 60x)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=50)
    add_database_options(parser)
    args = parser.parse_args()
    folders: list[Path] = []

    def bench(root: Path, url: str) -> int:
        folders.append(root)
        return run(root, args.images, args.depth, url)

    try:
        return on_database(args, "prompts-bench-", bench)
    finally:
        if not args.keep:
            for root in folders:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
