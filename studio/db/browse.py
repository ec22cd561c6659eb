"""Gallery browsing: filters, full-text search and keyset pagination, as SQL behind one class.

A gallery item is one image, or one generation without images (a failed or pending request), so the
query is `generations LEFT JOIN images`. Pages are cut by keyset, never OFFSET: the cursor is the sort
key of the last item seen, so page 1,000 costs what page 1 costs and images that arrive while someone
pages never shift what they see. Newest and oldest walk `ix_generations_created_at_id` (or the
status/model variants when those filters are set); "favourites first" is two such walks, favourites
then the rest, and the cursor says which one it is in.

Only reads live here (pages, filter values, collections, comparisons, counts); every change to an image
row is in `images.py`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import ColumnElement, Engine, and_, exists, false, func, literal, not_, or_, select, text, true, tuple_
from sqlalchemy.orm import aliased

from studio.core.browsing import SORTS, GalleryFilter, GalleryItem, Page, decode_cursor
from studio.core.errors import StudioError
from studio.db.models import Collection, CollectionImage, CompareCell, CompareGroup, Generation, GenerationSource, Image

_WORD_RE = re.compile(r"\w+", re.UNICODE)
COMMON_HITS = 1000  # from this many matching generations on, a search walks the sort index
_BATCH = func.coalesce(Image.batch_index, -1)  # a generation without images sorts as batch -1

# What a request asked for may be unset ("auto" or not sent); the response says what the image is.
EFFECTIVE = {
    "quality": func.coalesce(Generation.response_quality, Generation.quality),
    "size": func.coalesce(Generation.response_size, Generation.size),
    "background": func.coalesce(Generation.response_background, Generation.background),
    "output_format": func.coalesce(Generation.response_output_format, Generation.output_format),
    "complexity": Generation.complexity,  # not echoed by the API: what was sent
    "frame_count": Generation.frame_count,
}


def without_nul(filters: GalleryFilter) -> GalleryFilter:
    """The filter with NUL characters taken out of its text. PostgreSQL refuses NUL in any string it is
    sent (a DataError quoting the SQL), and no stored value holds one (db/values.py refuses them), so a
    NUL can only be noise from a link or a paste: `fox\\x00` searches for `fox`."""
    changes = {name: value.replace("\x00", "") for name, value in vars(filters).items()
               if isinstance(value, str) and "\x00" in value}
    return replace(filters, **changes) if changes else filters


def fts5_query(search: str) -> str | None:
    """User text to an FTS5 query: every word must appear, as a word prefix. Punctuation is dropped
    (the tokenizer drops it too), so no input can be an FTS syntax error."""
    words = _WORD_RE.findall(search)
    return " ".join(f'"{word}"*' for word in words) or None


def tsquery(search: str) -> str | None:
    words = _WORD_RE.findall(search.lower())
    return " & ".join(f"{word}:*" for word in words) or None


class BrowseRecords:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name

    # --- browsing -------------------------------------------------------------------------------

    def page(self, filters: GalleryFilter, sort: str = "newest", limit: int = 24, after: str | None = None,
             before: str | None = None, search_mode: str = "fts") -> Page:
        """One page of items. `after`/`before` are cursors from a previous Page; neither: the first page."""
        if sort not in SORTS:
            raise StudioError(f"Unknown sort {sort!r}; use one of {', '.join(SORTS)}.", "bad_sort")
        segments = self._segments(sort)
        base = self._filtered(filters, search_mode)
        with self.engine.connect() as connection:
            if before:
                seg, *key = decode_cursor(before)
                rows = self._walk(connection, base, segments, seg, tuple(key), limit + 1, backward=True)
                if len(rows) <= limit:  # reached the start: show a full first page instead
                    return self.page(filters, sort, limit, search_mode=search_mode)
                items = list(reversed(rows[:limit]))
                return Page(items, next_cursor=items[-1].key, prev_cursor=items[0].key)
            if after:
                seg, *key = decode_cursor(after)
                rows = self._walk(connection, base, segments, seg, tuple(key), limit + 1, backward=False)
            else:
                rows = self._walk(connection, base, segments, 0, None, limit + 1, backward=False)
        items = rows[:limit]
        return Page(
            items,
            next_cursor=items[-1].key if len(rows) > limit else None,
            prev_cursor=items[0].key if after and items else None,
            at_start=not after,
        )

    def items_of(self, filters: GalleryFilter, generation_ids: Iterable[int]) -> list[GalleryItem]:
        """Every item of these generations that the filters (search aside) let through, in no order: a search
        by meaning ranks them itself (studio/services/meaning.py)."""
        query = self._filtered(replace(filters, search=""), "fts").where(Generation.id.in_(list(generation_ids)))
        with self.engine.connect() as connection:
            return [GalleryItem(*row) for row in connection.execute(query)]

    def _segments(self, sort: str) -> list[tuple[ColumnElement[bool] | None, bool]]:
        """The walks that make a sort, each (extra condition, descending)."""
        if sort == "oldest":
            return [(None, False)]
        if sort == "favourites":
            return [(Image.favourite == true(), True), (or_(Image.id.is_(None), Image.favourite == false()), True)]
        return [(None, True)]

    def _filtered(self, f: GalleryFilter, search_mode: str) -> Any:
        query = select(
            Generation.id, Image.id, Image.batch_index, Generation.created_at, Generation.status, Generation.prompt,
            Generation.model, Image.thumbnail_path, Image.path, Image.favourite, Image.width, Image.height,
            Image.format, Generation.error_message,
        ).select_from(Generation).outerjoin(Image, Image.generation_id == Generation.id)
        f = without_nul(f)
        conditions: list[ColumnElement[bool]] = []
        if f.search.strip():
            conditions.append(self._search_condition(f.search, search_mode))
        if f.model:
            conditions.append(Generation.model == f.model)
        for name, column in EFFECTIVE.items():
            value = getattr(f, name)
            if value:
                conditions.append(column == value)
        if f.status:
            conditions.append(Generation.status == f.status)
        if f.date_from:
            conditions.append(Generation.created_at >= datetime.combine(f.date_from, time(), timezone.utc))
        if f.date_to:
            conditions.append(Generation.created_at < datetime.combine(f.date_to + timedelta(days=1), time(), timezone.utc))
        if f.favourites:
            conditions.append(Image.favourite == true())
        if f.collection_id is not None:
            conditions.append(exists().where(CollectionImage.image_id == Image.id, CollectionImage.collection_id == f.collection_id))
        if f.image_ids is not None:
            conditions.append(Image.id.in_(f.image_ids))
        if f.compare_group_id is not None:
            conditions.append(exists().where(CompareCell.generation_id == Generation.id, CompareCell.group_id == f.compare_group_id))
        return query.where(*conditions)

    def _search_condition(self, search: str, mode: str) -> ColumnElement[bool]:
        if mode == "fts" and self.dialect == "sqlite":
            match = fts5_query(search)
            if match:
                # Two plans, picked by how common the words are (a bounded count costs < 10 ms):
                # rare words: fetch the few hits by rowid and sort them; common words: walk the sort index
                # and probe the hit list (the unary + keeps SQLite from driving the join by rowid).
                common = self._fts_hits(match, COMMON_HITS) >= COMMON_HITS
                probe = "+generations.id" if common else "generations.id"
                return text(f"{probe} IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH :match)").bindparams(match=match)
        if mode == "fts" and self.dialect == "postgresql":
            query = tsquery(search)
            if query:
                return text("generations.search_vector @@ to_tsquery('simple', :tsq)").bindparams(tsq=query)
        # LIKE: every word in the prompt or in a revised_prompt of the generation (the slow way, kept for
        # other databases and to measure FTS against).
        words = _WORD_RE.findall(search) or [search.strip()]
        sibling = aliased(Image)  # any image of the generation, not just the row's own
        return and_(*(
            or_(
                Generation.prompt.ilike(f"%{word}%"),
                exists().where(sibling.generation_id == Generation.id, sibling.revised_prompt.ilike(f"%{word}%")),
            )
            for word in words
        ))

    def _fts_hits(self, match: str, cap: int) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(
                text("SELECT count(*) FROM (SELECT rowid FROM generations_fts WHERE generations_fts MATCH :m LIMIT :cap)"),
                {"m": match, "cap": cap},
            )

    def _walk(self, connection: Any, base: Any, segments: list, start: int, key: tuple | None, want: int,
              backward: bool) -> list[GalleryItem]:
        """Collect `want` items from segment `start` (after/before `key`), going on into the next segments."""
        rows: list[GalleryItem] = []
        order = range(start, len(segments)) if not backward else range(start, -1, -1)
        for index in order:
            condition, descending = segments[index]
            query = base if condition is None else base.where(condition)
            gen_descending = descending != backward  # walking a segment backward flips its order
            if key is not None and index == start:
                query = query.where(self._beyond(key, gen_descending, backward))
            query = query.order_by(*self._order(gen_descending, backward)).limit(want - len(rows))
            rows.extend(GalleryItem(*row, segment=index) for row in connection.execute(query))
            if len(rows) >= want:
                break
        return rows

    @staticmethod
    def _beyond(key: tuple, gen_descending: bool, backward: bool) -> ColumnElement[bool]:
        """Rows strictly past the cursor in walk direction. The generation part is a row-value range, so
        the index seeks to it; the batch part only trims images of the cursor's own generation."""
        created_at, generation_id, batch = key
        gen_key = tuple_(Generation.created_at, Generation.id)
        bound = tuple_(literal(created_at, Generation.created_at.type), literal(generation_id))
        within = gen_key <= bound if gen_descending else gen_key >= bound
        # Images of one generation read batch 0, 1, 2... so a backward walk meets them in reverse.
        seen = _BATCH >= batch if backward else _BATCH <= batch
        return and_(within, not_(and_(Generation.id == generation_id, seen)))

    @staticmethod
    def _order(gen_descending: bool, backward: bool) -> list[Any]:
        batch = _BATCH.desc() if backward else _BATCH.asc()
        if gen_descending:
            return [Generation.created_at.desc(), Generation.id.desc(), batch]
        return [Generation.created_at.asc(), Generation.id.asc(), batch]

    # --- facts for the filter widgets -------------------------------------------------------------

    def distinct_values(self, name: str) -> list[str]:
        column = Generation.model if name == "model" else EFFECTIVE[name]
        with self.engine.connect() as connection:
            return sorted(v for v in connection.scalars(select(column).distinct()) if v)

    # --- collections, comparisons and edit inputs, for the filters and the detail view -----------

    def collections(self) -> list[tuple[int, str]]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(select(Collection.id, Collection.name).order_by(Collection.name))]

    def compare_groups(self, limit: int = 100) -> list[tuple[int, str]]:
        """(id, short title) of the newest comparisons, for the filter."""
        with self.engine.connect() as connection:
            query = select(CompareGroup.id, CompareGroup.prompt).order_by(CompareGroup.created_at.desc(), CompareGroup.id.desc()).limit(limit)
            return [(gid, f"#{gid} · {prompt[:40]}") for gid, prompt in connection.execute(query)]

    def edit_sources(self, generation_ids: Iterable[int]) -> dict[int, list[tuple[str, int | None, str | None]]]:
        """For the edits among these generations: their inputs (role, gallery image id, file name), in order.
        One query for a whole page."""
        ids = list(generation_ids)
        found: dict[int, list[tuple[str, int | None, str | None]]] = {}
        with self.engine.connect() as connection:
            query = (select(GenerationSource.generation_id, GenerationSource.role, GenerationSource.image_id, GenerationSource.filename)
                     .where(GenerationSource.generation_id.in_(ids)).order_by(GenerationSource.generation_id, GenerationSource.position))
            for generation_id, role, image_id, filename in connection.execute(query):
                found.setdefault(generation_id, []).append((role, image_id, filename))
        return found

    def collections_of(self, image_id: int) -> list[str]:
        with self.engine.connect() as connection:
            query = select(Collection.name).join(CollectionImage).where(CollectionImage.image_id == image_id)
            return list(connection.scalars(query.order_by(Collection.name)))

    def count_fts(self, search: str) -> int:
        """How many generations the full-text index finds (FTS5 on SQLite, tsvector on PostgreSQL), to check it is in step."""
        with self.engine.connect() as connection:
            if self.dialect == "postgresql":
                return connection.scalar(text("SELECT count(*) FROM generations WHERE search_vector @@ to_tsquery('simple', :q)"), {"q": tsquery(search)})
            return connection.scalar(text("SELECT count(*) FROM generations_fts WHERE generations_fts MATCH :m"), {"m": fts5_query(search)})
