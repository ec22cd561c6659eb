"""The pieces a Gallery page's plan is made of (db/browse.py puts them together): the user's words as a
full-text query, the plan itself, and the drivers — the ways to fetch every candidate of a sparse filter
through one index, each with a cheap count that says how many there are, up to a cap."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import ColumnElement, and_, func, literal, select, text, true, tuple_

from studio.db.models import FACETS, Generation, Image

WORD_RE = re.compile(r"\w+", re.UNICODE)
Count = Callable[[Any, int], int]  # (connection, cap) -> how many candidates, at most cap
SMALL = 1000  # a driver with at most this many candidates is taken without counting the ones after it

# What a request asked for may be unset ("auto" or not sent); the response says what the image is.
EFFECTIVE = {
    "quality": func.coalesce(Generation.response_quality, Generation.quality),
    "size": func.coalesce(Generation.response_size, Generation.size),
    "background": func.coalesce(Generation.response_background, Generation.background),
    "output_format": func.coalesce(Generation.response_output_format, Generation.output_format),
}


def bound(key: tuple) -> Any:
    created_at, generation_id = key
    return tuple_(literal(created_at, Generation.created_at.type), literal(generation_id))


def bounded(candidates: Any) -> Count:
    """How many rows a driver's subquery gives, counted up to the cap (an index range, never more)."""
    return lambda connection, cap: connection.scalar(select(func.count()).select_from(candidates.limit(cap).subquery()))


def fts_count(match: str | None) -> Count:
    """How many generations FTS5 finds, counted up to the cap in the index itself."""
    return lambda connection, cap: connection.scalar(text(
        "SELECT count(*) FROM (SELECT rowid FROM generations_fts WHERE generations_fts MATCH :m LIMIT :cap)"), {"m": match, "cap": cap})


def expected_rows(connection: Any, query: str | None) -> int:
    """How many generations PostgreSQL expects a full-text match to find (its statistics of the words)."""
    plan = connection.scalar(text("EXPLAIN (FORMAT JSON) SELECT 1 FROM generations WHERE search_vector @@ to_tsquery('simple', :q)"), {"q": query})
    return int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])


def planned_rows(query: str | None, word_rows: list[int] | None = None) -> Count:
    """What fetching a full-text match through the GIN index costs, in generations (PostgreSQL's statistics:
    a count through the index would cost as much as the fetch it is meant to weigh). Several words: GIN reads
    each word's prefix matches whole before intersecting them (at about a third of a walked row's cost each),
    so "dreamy koi" costs its 118,000 postings, not its 3,400 matches."""
    def estimate(connection: Any, cap: int) -> int:
        rows = expected_rows(connection, query) + (sum(word_rows) // 3 if word_rows and len(word_rows) > 1 else 0)
        return min(rows, cap)
    return estimate


def prefixes(search: str) -> list[str]:
    """Each word of the search as a tsquery of its own (PostgreSQL)."""
    return [f"{word}:*" for word in WORD_RE.findall(search.lower())]


def favourites_matching(dialect: str, search: str) -> tuple | None:
    """A driver: the generations with a favourite image whose words match, from favourites_fts (SQLite) or
    favourite_vector's partial GIN index (PostgreSQL; migration 0014), counted in that small index. A common
    word and the favourites may have nothing in common; this says so without reading either long list."""
    if dialect == "postgresql":
        query = tsquery(search)
        count: Count = lambda connection, cap: connection.scalar(text(
            "SELECT count(*) FROM (SELECT 1 FROM generations WHERE favourite_vector @@ to_tsquery('simple', :q) LIMIT :cap) AS found"),
            {"q": query, "cap": cap})
        return (count, text("generations.favourite_vector @@ to_tsquery('simple', :favourite_q)").bindparams(favourite_q=query), None)
    match = fts5_query(search)
    count = lambda connection, cap: connection.scalar(text(
        "SELECT count(*) FROM (SELECT rowid FROM favourites_fts WHERE favourites_fts MATCH :m LIMIT :cap)"), {"m": match, "cap": cap})
    hits = "IN (SELECT rowid FROM favourites_fts WHERE favourites_fts MATCH :favourite_match)"
    return (count, text(f"generations.id {hits}").bindparams(favourite_match=match),
            text(f"(generations.id + 0) {hits}").bindparams(favourite_match=match))


def narrowest(connection: Any, drivers: list, many: int) -> tuple[list[ColumnElement[bool]] | None, int]:
    """The narrowest driver (counted up to `many`, an index range), and the next list of ids as a probe (id + 0:
    a list to look up, not an index to drive by); (None, 0) when there is none and the walk goes on. Once
    one driver is counted, the next are counted only as far as could still matter (8 times it): counting
    a common word's 200,000 matches costs more than fetching a short driver's few rows."""
    counted, cap = [], many
    for number, (count, driver, probe) in enumerate(drivers):
        found = count(connection, cap)
        counted.append((found, number, driver, probe if found < cap else None))  # a probe: a list counted whole
        if found <= SMALL:  # few enough to fetch at once: counting the others would cost more than it could save
            break
        cap = min(cap, 8 * found + 64)
    counted.sort(key=lambda c: c[:2])
    if not counted:
        return None, 0
    probes = [probe for _, _, _, probe in counted[1:] if probe is not None]
    both = [counted[0][2]] + probes[:1]
    return both, counted[0][0]


def favourites_among(combinations: ColumnElement[bool]) -> tuple:
    """A driver (PostgreSQL): the generations with a favourite image in these combinations of the equality
    filters, through ix_generations_favourite_facets (migration 0014; favourite_vector is set exactly on them),
    counted there: "failed" and favourites is nothing, said without reading either list."""
    among = and_(combinations, text("generations.favourite_vector IS NOT NULL"))
    return (bounded(select(Generation.id).where(among)), among, None)


def combination(facet: Any, table: Any) -> ColumnElement[bool]:
    """One row of gallery_facets as conditions on ix_generations_facets ('' is a value never sent: NULL)."""
    columns = {"status": table.status, "model": table.model, **{
        name: func.coalesce(getattr(table, f"response_{name}"), getattr(table, name)) for name in EFFECTIVE}}
    return and_(*(columns[name].is_(None) if getattr(facet, name) == "" else columns[name] == getattr(facet, name)
                  for name in FACETS))


_FAVOURITE_IMAGES = select(Image.generation_id).where(Image.favourite == true())
FAVOURITES = (bounded(_FAVOURITE_IMAGES), Generation.id.in_(_FAVOURITE_IMAGES), (Generation.id + 0).in_(_FAVOURITE_IMAGES))


def fts5_query(search: str) -> str | None:
    """User text to an FTS5 query: every word must appear, as a word prefix. Punctuation is dropped
    (the tokenizer drops it too), so no input can be an FTS syntax error."""
    words = WORD_RE.findall(search)
    return " ".join(f'"{word}"*' for word in words) or None


def tsquery(search: str) -> str | None:
    words = WORD_RE.findall(search.lower())
    return " & ".join(f"{word}:*" for word in words) or None


@dataclass
class Plan:
    """What one page's filters need, found before any page is read: every condition, the ones an index walk
    in sort order satisfies by seeking, and the ways to fetch the few candidates of a sparse filter."""

    query: Any  # the columns and joins of an item, no conditions
    conditions: list[ColumnElement[bool]]  # every condition, checked row by row
    walk: list[ColumnElement[bool]] = field(default_factory=list)  # the ones a walk of one index seeks to (dates, status or model)
    drivers: list[tuple] = field(default_factory=list)  # (Count, condition to fetch by, the same as a probe of ids or None)
    facet_rows: int | None = None  # generations with the filters' combination (gallery_facets); None: no such filter
    direct: bool = False  # nothing to check beyond the walk's own conditions: read the page straight from the index
    checked_by: dict = field(default_factory=dict)  # id(driver) -> the row check that driver makes redundant
    dates: list[tuple[bool, Any, Any]] = field(default_factory=list)  # (a lower bound?, the moment, the condition) of each date filter
    favourites: bool = False  # favourite images only (walked through ix_images_favourite_sort)
    favourite_search: tuple | None = None  # the words among the generations with a favourite, a driver
    favourite_facets: tuple | None = None  # the equality filters among them, a driver (PostgreSQL)
    share: float | None = None  # the share of generations a search matches, as PostgreSQL's statistics expect


def ahead(item: tuple, cursor: tuple | None, last: tuple | None, desc: bool, backward: bool) -> bool:
    """Whether an item's key (created_at, generation id, batch) is still to come in a walk: past the cursor
    (the batch trims the cursor's own generation) and past the last generation walked already."""
    generation = item[:2]
    if last is not None and not (generation < last if desc else generation > last):
        return False
    if cursor is None:
        return True
    if not (generation <= tuple(cursor[:2]) if desc else generation >= tuple(cursor[:2])):
        return False
    return not (item[1] == cursor[1] and (item[2] >= cursor[2] if backward else item[2] <= cursor[2]))

