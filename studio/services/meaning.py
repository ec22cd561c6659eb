"""Search by meaning and "more like this": the gallery's generations ranked by how close their prompt or
revised_prompt is, in meaning, to what the user typed (or to another generation's), with the Gallery's other
filters applied and its usual cursors. The vectors and the in-memory index are `meaning_index.py`."""

from __future__ import annotations

import threading
from dataclasses import replace

from studio.core.browsing import GalleryFilter, GalleryItem, Page, decode_cursor
from studio.core.errors import StudioError
from studio.db.vectors import VectorRecords
from studio.meaning import model
from studio.meaning.index import Hit, decode
from studio.services.meaning_index import coverage, loaded_index, store_vectors, warm_soon
from studio.services.studio import Studio

RESULTS = 240  # generations one search ranks: ten pages of 24, more than anyone reads by meaning
MIN_SCORE = 0.12  # below this a text shares nothing with the query (unrelated prompts score about 0 ± 0.1)
MAX_QUERY = 1000  # characters; a description, not a document
SEARCHES_KEPT = 64  # rankings remembered: the Gallery reruns (next page, a dialog) search the same words again
_searches: dict[tuple, list[Hit]] = {}
_searches_lock = threading.Lock()
EMPTY_QUERY = ("Search by meaning needs a description: type what the picture showed, in any words "
               "(e.g. “foggy port at dawn”). Until then every item is shown.")


# --- searching ---------------------------------------------------------------------------------------


def query_problem(text: str) -> str | None:
    """What is wrong with a search by meaning, said so the user knows what to change (None: nothing)."""
    if not text.strip():
        return EMPTY_QUERY
    if len(text) > MAX_QUERY:
        return f"Describe the picture in at most {MAX_QUERY:,} characters (this is {len(text):,}); shorten the search."
    return None


def search(records: VectorRecords, text: str, limit: int = RESULTS) -> list[Hit]:
    """The generations whose prompt or revised_prompt is closest in meaning to `text`, best first."""
    problem = query_problem(text)
    if problem:
        raise StudioError(problem, "bad_meaning_query")
    index = loaded_index(records)
    key = (records.engine, text, limit, index.last_id, len(index))  # any change to the index: searched again
    with _searches_lock:
        hits = _searches.get(key)
    if hits is None:
        hits = index.nearest(model.embed([text.replace("\x00", "")])[0], limit, MIN_SCORE)
        with _searches_lock:
            _searches[key] = hits
            while len(_searches) > SEARCHES_KEPT:
                del _searches[next(iter(_searches))]  # the oldest
    return _alive(records, hits)


def forget_searches() -> None:
    """Drop the remembered rankings (a bench measures searches from scratch)."""
    with _searches_lock:
        _searches.clear()


def _alive(records: VectorRecords, hits: list[Hit]) -> list[Hit]:
    """The hits whose generation still exists; a deleted one makes the index count itself at the next search."""
    alive = records.alive(hit.generation_id for hit in hits)
    if len(alive) < len(hits):
        loaded_index(records).stale = True
    return [hit for hit in hits if hit.generation_id in alive]


def more_like_this(records: VectorRecords, generation_id: int, limit: int = RESULTS) -> list[Hit]:
    """The generations nearest in meaning to this one (itself left out), best first. A generation not
    indexed yet is embedded first."""
    index = loaded_index(records)
    vectors = index.vectors_of(generation_id)
    if not len(vectors):
        if not store_vectors(records, [generation_id]):
            raise StudioError(f"Generation #{generation_id} is no longer in the gallery; nothing to compare with.", "not_found")
        vectors = decode(records.of(model.MODEL, generation_id))
        index = loaded_index(records)
    query = vectors.mean(axis=0)
    norm = float((query ** 2).sum() ** 0.5)
    return _alive(records, index.nearest(query / norm if norm else query, limit, MIN_SCORE, exclude=generation_id))


def closest_prompts(studio: Studio, text: str, like: int | None = None, limit: int = 10) -> list[tuple[Hit, str]]:
    """The closest generations to `text` (or to generation `like`) with their prompts, best first (the CLI)."""
    hits = more_like_this(studio.vectors, like, limit) if like is not None else search(studio.vectors, text, limit)
    prompts = {item.generation_id: item.texts[0][1] for item in studio.vectors.texts(hit.generation_id for hit in hits)}
    return [(hit, prompts[hit.generation_id]) for hit in hits if hit.generation_id in prompts]


def uses_meaning(filters: GalleryFilter) -> bool:
    """Whether the Gallery ranks by meaning: a "meaning" search with words in it, or "more like this"."""
    return filters.like is not None or (filters.mode == "meaning" and bool(filters.search.strip()))


def ranked_page(studio: Studio, filters: GalleryFilter, limit: int = 24, after: str | None = None,
                before: str | None = None) -> Page:
    """One page of a ranking by meaning, closest first, with the other filters applied. The cursors are the
    usual item keys; a page goes on after (or before) the item the cursor names in the same ranking."""
    records = studio.vectors
    try:  # what went wrong (a gone generation, a bad query, no model) is said by notice(); the page is empty
        hits = more_like_this(records, filters.like) if filters.like is not None else search(records, filters.search)
    except StudioError:
        hits = []
    rank = {hit.generation_id: position for position, hit in enumerate(hits)}
    items = studio.browse.items_of(replace(filters, like=None), rank)
    items.sort(key=lambda item: (rank[item.generation_id], _batch(item)))
    keys = [(item.generation_id, _batch(item)) for item in items]
    start = 0
    for cursor, backward in ((after, False), (before, True)):
        if cursor:
            _, _, generation_id, batch = decode_cursor(cursor)
            if (generation_id, batch) in keys:
                position = keys.index((generation_id, batch))
                start = max(0, position - limit) if backward else position + 1
            break
    shown = items[start:start + limit]
    return Page(shown, next_cursor=shown[-1].key if shown and start + limit < len(items) else None,
                prev_cursor=shown[0].key if shown and start > 0 else None, at_start=start == 0)


def _batch(item: GalleryItem) -> int:
    return -1 if item.batch_index is None else item.batch_index


def notice(studio: Studio, filters: GalleryFilter) -> tuple[str | None, str | None]:
    """(what the Gallery says about a ranking by meaning, what the user must change), each None when there
    is nothing to say. Starts the backfill when older generations have no vectors yet."""
    if filters.like is None and filters.mode != "meaning":
        return None, None
    trouble = model.problem()
    if trouble:
        return None, trouble
    problem = query_problem(filters.search) if filters.like is None else None
    if problem:
        warm_soon(studio.vectors)  # the user picked "meaning": load the index while they type
        return None, problem
    records = studio.vectors
    if filters.like is not None:
        if not records.texts([filters.like]):
            return None, f"Generation #{filters.like} is no longer in the gallery, so there is nothing to find more of; show everything."
        text = f"Images whose prompts mean about the same as generation #{filters.like}'s, closest first."
    else:
        text = "Closest in meaning first (the sort does not apply); words need not match."
    counts = coverage(records)
    if counts.indexed < counts.total and records.read_only:
        text += (f" Only {counts.indexed:,} of {counts.total:,} requests are indexed, and this gallery is open read-only: "
                 "open it writable (or run `python -m studio index-prompts` where it is) to index the rest.")
    elif counts.indexed < counts.total:
        text += (f" {counts.indexed:,} of {counts.total:,} requests are indexed so far; the rest are being indexed "
                 "in the background: search again in a moment.")
    return text, None
