"""Search by meaning at 100,000 prompts: seed a gallery the way bench/gallery.py does, add the labelled
prompts of bench/semantic_queries.toml among them, backfill every vector, then measure.

    .venv/bin/python bench/semantic.py [--images 100000] [--keep DIR]
    .venv/bin/python bench/semantic.py --postgres                 # a throwaway PostgreSQL (Debian's package)

Prints: embedding throughput (the model alone, and the backfill with its database writes), the index's
size (bytes stored, the database's growth, the in-memory matrix), query latency (goal < 100 ms; median
and p90 of a search and of a whole ranked Gallery page, cold and warm), and recall@10 on the labelled set
for meaning search against word search (the Gallery's full-text search).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.gallery import add_database_options, after_bulk_load, database_size_mb, on_database, seed  # noqa: E402
from studio.core.browsing import GalleryFilter  # noqa: E402
from studio.core.config import load_settings  # noqa: E402
from studio.db.generations import GenerationRecords  # noqa: E402
from studio.db.models import Generation, Image, PromptVector  # noqa: E402
from studio.files.storage import LocalStorage  # noqa: E402
from studio.meaning import model  # noqa: E402
from studio.services import meaning, meaning_index  # noqa: E402
from studio.services.gallery import GalleryService  # noqa: E402
from studio.services.studio import Studio  # noqa: E402

LABELLED = Path(__file__).with_name("semantic_queries.toml")
K = 10


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def latencies(work, queries: list[str], repeat: int = 3) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        for query in queries:
            started = time.perf_counter()
            work(query)
            times.append((time.perf_counter() - started) * 1000)
    return times


def add_labelled(library: GalleryService, pairs: list[dict[str, str]], rng: random.Random) -> dict[str, int]:
    """The labelled prompts as generations spread over the seeded year, each with an image row (sharing a
    seeded file) whose revised_prompt says it at length, like the seeded ones. Returns prompt -> id."""
    engine = library.records.engine
    with engine.begin() as connection:
        top = connection.scalar(select(func.max(Generation.id))) or 0
        model_image = connection.execute(select(Image.path, Image.sha256, Image.thumbnail_path).limit(1)).first()
        start = datetime.now(timezone.utc) - timedelta(days=365)
        ids = {}
        for number, pair in enumerate(pairs, start=top + 1):
            ids[pair["prompt"]] = number
            connection.execute(insert(Generation), [{
                "id": number, "created_at": start + timedelta(seconds=rng.randrange(365 * 86400)), "status": "succeeded",
                "provider": "bench", "base_url_host": "bench.local", "prompt": pair["prompt"], "model": "gpt-image-1",
                "quality": "medium", "size": "1024x1024", "output_format": "png", "latency_s": 12.5}])
            if model_image:
                connection.execute(insert(Image), [{
                    "generation_id": number, "batch_index": 0, "path": model_image.path, "sha256": model_image.sha256,
                    "width": 384, "height": 384, "format": "png", "bytes": 1, "thumbnail_path": model_image.thumbnail_path,
                    "revised_prompt": f"A detailed rendering of: {pair['prompt']}"}])
    return ids


def run(root: Path, images: int, database_url: str) -> int:
    settings = load_settings({"STUDIO_DATA_DIR": str(root), "STUDIO_DATABASE_URL": database_url},
                             secrets_path=root / "no-secrets.toml")
    studio = Studio(settings, GenerationRecords.open(database_url), LocalStorage(root))
    library = GalleryService(studio)
    engine = studio.records.engine
    pairs = tomllib.loads(LABELLED.read_text())["pair"]
    rng = random.Random(13)
    with engine.connect() as connection:
        reuse = bool(connection.scalar(select(func.count()).select_from(Generation)))
    started = time.perf_counter()
    if not reuse:
        seed(library, images, random.Random(7))
        add_labelled(library, pairs, rng)
        after_bulk_load(engine)
    with engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(Generation))
        targets = dict(connection.execute(select(Generation.prompt, Generation.id).where(
            Generation.prompt.in_([pair["prompt"] for pair in pairs]))).all())
    print(f"{'reused' if reuse else 'seeded'} {rows:,} generations ({len(pairs)} labelled) in {time.perf_counter() - started:.1f} s "
          f"({engine.dialect.name}; files in {root})")
    print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} cores: timings scale with it")

    # Embedding throughput: the model alone, then the backfill as it runs (texts read, embedded, committed).
    sample = [text for item in studio.vectors.texts(range(1, 20_001)) for _, text in item.texts]
    model.embed(sample[:10])  # load the model first: its ~0.7 s is paid once per process
    started = time.perf_counter()
    model.embed(sample)
    alone = len(sample) / (time.perf_counter() - started)
    print(f"model alone:      {alone:9,.0f} prompts/s ({len(sample):,} texts of generations 1-20,000)")
    size_before = database_size_mb(library, root)
    started = time.perf_counter()
    embedded = meaning_index.backfill(studio.vectors)
    backfill_s = time.perf_counter() - started
    after_bulk_load(engine)
    with engine.connect() as connection:
        vectors = connection.scalar(select(func.count()).select_from(PromptVector))
    if embedded:
        print(f"backfill:         {vectors / backfill_s:9,.0f} prompts/s ({embedded:,} generations, {vectors:,} texts "
              f"(prompt + distinct revised_prompt) in {backfill_s:.1f} s, committed every {meaning_index.BATCH})")
    stored = studio.vectors.size_bytes(model.MODEL)
    print(f"index size:       {stored:,} bytes of vectors stored ({stored / max(vectors, 1):.0f} per text); database "
          f"{size_before:.0f} MB -> {database_size_mb(library, root):.0f} MB")

    started = time.perf_counter()
    index = meaning_index.loaded_index(studio.vectors)
    print(f"in memory:        {index.nbytes:,} bytes for {len(index):,} vectors, loaded in {(time.perf_counter() - started) * 1000:.0f} ms")

    queries = [pair["query"] for pair in pairs]
    vectors_of_queries = model.embed(queries)
    score_ms = latencies(lambda n: index.nearest(vectors_of_queries[n], meaning.RESULTS, meaning.MIN_SCORE), list(range(len(queries))))
    print(f"scoring alone:     median {statistics.median(score_ms):6.1f} ms, p90 {percentile(score_ms, 0.9):6.1f} ms "
          f"(one pass over the int8 matrix, the best {meaning.RESULTS} generations)")
    # Interleaved, so that a burst of load on a shared machine falls on each kind alike.
    search_ms, page_ms, again_ms, words_ms = [], [], [], []
    for _ in range(3):
        for query in queries:
            meaning.forget_searches()  # each from scratch: a new query
            search_ms += latencies(lambda q: meaning.search(studio.vectors, q), [query], 1)
            meaning.forget_searches()
            page_ms += latencies(lambda q: library.page(GalleryFilter(search=q, mode="meaning"), limit=24), [query], 1)
            again_ms += latencies(lambda q: library.page(GalleryFilter(search=q, mode="meaning"), limit=24), [query], 1)
            words_ms += latencies(lambda q: library.page(GalleryFilter(search=q), limit=24), [query], 1)
    print(f"search by meaning: median {statistics.median(search_ms):6.1f} ms, p90 {percentile(search_ms, 0.9):6.1f} ms "
          f"(embed the query, check the index is current, score {len(index):,} vectors; {len(search_ms)} searches)")
    print(f"ranked page of 24: median {statistics.median(page_ms):6.1f} ms, p90 {percentile(page_ms, 0.9):6.1f} ms "
          f"(the search plus its items with the Gallery's filters; goal < 100 ms)")
    print(f"  the same again:  median {statistics.median(again_ms):6.1f} ms, p90 {percentile(again_ms, 0.9):6.1f} ms "
          f"(a rerun or the next page: the ranking is remembered while the index is unchanged)")
    print(f"word search page:  median {statistics.median(words_ms):6.1f} ms, p90 {percentile(words_ms, 0.9):6.1f} ms "
          f"(the Gallery's full-text search, for contrast)")
    notice_ms = latencies(lambda q: meaning.notice(studio, GalleryFilter(search=q, mode="meaning")), queries[:10])
    print(f"coverage notice:   median {statistics.median(notice_ms):6.1f} ms (a count of generations against the index's, once per Gallery rerun)")

    meaning_found = words_found = 0
    missed = []
    for pair in pairs:
        target = targets[pair["prompt"]]
        by_meaning = [hit.generation_id for hit in meaning.search(studio.vectors, pair["query"], K)]
        by_words = []
        for item in library.page(GalleryFilter(search=pair["query"]), limit=K * 4).items:
            if item.generation_id not in by_words:
                by_words.append(item.generation_id)
        meaning_found += target in by_meaning
        words_found += target in by_words[:K]
        if target not in by_meaning:
            missed.append(pair["query"])
    print(f"recall@{K} on {len(pairs)} labelled paraphrases: meaning {meaning_found / len(pairs):.2f} "
          f"({meaning_found}/{len(pairs)}), words {words_found / len(pairs):.2f} ({words_found}/{len(pairs)})")
    if missed:
        print(f"  missed by meaning: {', '.join(repr(q) for q in missed)}")
    print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())} at the end")
    meaning_index.wait_for_vectors()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="gallery items to seed (failed requests included)")
    add_database_options(parser)
    args = parser.parse_args()
    return on_database(args, "semantic-bench-", lambda root, url: run(root, args.images, url))


if __name__ == "__main__":
    raise SystemExit(main())
