"""The vectors behind search by meaning: a generation's prompt and revised prompts are embedded just after
it is committed (one background thread, like thumbnails), older rows by a backfill that runs in batches
and resumes where it stopped (the generations without vectors are the work left), and this process's
in-memory index is brought up to date by id before each search. Searching is `meaning.py`."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable

from studio.db.vectors import VectorRecords
from studio.meaning import model
from studio.meaning.index import VectorIndex, encode

BATCH = 500  # generations embedded and committed at a time by the backfill
RECOUNT_S = 60.0  # how often a search counts the stored vectors to notice rows deleted by another process

# One worker: embedding is quick (thousands of prompts a second) and the requests need the other core.
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-meaning")
_pending: set[Future] = set()
_lock = threading.Lock()
_indexes: dict[object, VectorIndex] = {}  # by the records' engine: one index per database and process
_backfilling: set[object] = set()


@dataclass(frozen=True)
class Coverage:
    indexed: int  # generations whose texts are in the index
    total: int  # generations in the gallery


# --- writing vectors ---------------------------------------------------------------------------------


def store_vectors(records: VectorRecords, generation_ids: Iterable[int]) -> int:
    """Embed and store the texts of these generations now; returns the vectors stored."""
    found = records.texts(generation_ids)
    texts = [text for item in found for _, text in item.texts]
    blobs = iter(encode(model.embed(texts)))
    rows = [(item.generation_id, ordinal, field, next(blobs)) for item in found for ordinal, (field, _) in enumerate(item.texts)]
    return records.add(model.MODEL, rows)


def index_soon(records: VectorRecords, generation_ids: Iterable[int]) -> Future:
    """Store the vectors of just-committed generations on the background thread, off the request's path."""
    ids = list(generation_ids)

    def work() -> None:
        try:
            store_vectors(records, ids)
        except Exception:  # a deleted row, a read-only or closed database: the backfill settles what is left
            pass

    return _submit(work)


def backfill(records: VectorRecords, batch: int = BATCH, on_batch: Callable[[int], None] | None = None) -> int:
    """Vectors for every generation that has none, `batch` at a time, each batch committed: stopped half way,
    it goes on from the first generation still without vectors. Returns the generations it embedded."""
    done, after = 0, 0
    while True:
        ids = records.missing(model.MODEL, batch, after)
        if not ids:
            return done
        store_vectors(records, ids)
        done += len(ids)
        after = ids[-1]  # a generation deleted meanwhile is not asked for again
        if on_batch:
            on_batch(done)


def backfill_soon(records: VectorRecords) -> bool:
    """Start the backfill on the background thread unless it is already running; True when started."""
    engine = records.engine
    with _lock:
        if engine in _backfilling:
            return False
        _backfilling.add(engine)

    def work() -> None:
        try:
            backfill(records)
        except Exception:  # tried again at the next search
            pass
        finally:
            with _lock:
                _backfilling.discard(engine)

    _submit(work)
    return True


def _submit(work: Callable[[], None]) -> Future:
    future = _pool.submit(work)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def wait_for_vectors(timeout_s: float | None = 30) -> None:
    """Block until the vectors asked for so far are stored (tests, benches, the end of a CLI command)."""
    with _lock:
        pending = list(_pending)
    wait(pending, timeout=timeout_s)


# --- the index ---------------------------------------------------------------------------------------


def loaded_index(records: VectorRecords) -> VectorIndex:
    """This process's index of the gallery, brought up to date: rows stored since the last search are
    appended by id (one indexed look-up of the top id when nothing is new). The whole row count is
    compared only when the index was seen holding a deleted generation, or every RECOUNT_S: rows deleted,
    or committed out of id order by another process, then make it read everything again."""
    with _lock:
        index = _indexes.setdefault(records.engine, VectorIndex())
    with index.refresh_lock:
        if records.top_id(model.MODEL) > index.last_id:
            while rows := records.since(model.MODEL, index.last_id):
                index.add(rows)
        if index.stale or time.monotonic() - index.counted_at > RECOUNT_S:
            if records.count(model.MODEL) != len(index):
                rows, after = [], 0
                while block := records.since(model.MODEL, after):
                    rows.extend(block)
                    after = block[-1][0]
                index.replace(rows)
            index.stale, index.counted_at = False, time.monotonic()
    return index


def warm_soon(records: VectorRecords) -> None:
    """Load the index on the background thread (a user who picks "meaning" types while it loads)."""
    with _lock:
        if records.engine in _indexes:
            return
    _submit(lambda: _quietly(loaded_index, records))


def _quietly(work: Callable[[VectorRecords], object], records: VectorRecords) -> None:
    try:
        work(records)
    except Exception:  # loaded at the search, which reports any error
        pass


def stored_coverage(records: VectorRecords) -> Coverage:
    """Generations with vectors stored against all of them, counted in the database (exact, not cheap)."""
    counts = records.coverage(model.MODEL)
    return Coverage(counts.indexed, counts.total)


def coverage(records: VectorRecords) -> Coverage:
    """How much of the gallery a search by meaning sees (the index's generations against a count of the
    gallery's); starts the backfill when some is missing."""
    total = records.generation_count()
    indexed = min(total, loaded_index(records).generation_count)
    if indexed < total and not records.read_only:
        backfill_soon(records)
    return Coverage(indexed, total)
