"""Gallery browsing: filters, full-text search and keyset pagination, as SQL behind one class.

A gallery item is one image, or one generation without images (a failed or pending request), so the
query is `generations LEFT JOIN images`. Pages are cut by keyset, never OFFSET: the cursor is the sort
key of the last item seen, so page 1,000 costs what page 1 costs and images that arrive while someone
pages never shift what they see. Newest and oldest walk `ix_generations_created_at_id` (or the
status/model variants when those filters are set); "favourites first" is two such walks, favourites
then the rest, and the cursor says which one it is in. Favourite images (that first walk, and the
favourites filter) are walked through `ix_images_favourite_sort` instead: images carry their generation's
created_at (migration 0014), so the favourites, a fiftieth of the gallery, come in sort order by themselves.

Every filter and word stays fast at 1,000,000 items (issue 11) by choosing, per page, how to read:
- equality filters are looked up in `gallery_facets` (migration 0013) first: no combination, no rows; a
  few thousand, fetched at once through `ix_generations_facets` and sorted;
- else a page walks the sort order in bounded rounds (4, 16, 64 generations per item wanted), checking
  every condition on that stretch only: a common word or a dense filter fills the page there;
- a filter the rounds show to be sparse is fetched through its narrowest driver (the full-text index,
  favourites, the words among the favourites, a collection, a comparison, the combinations; counted first,
  each only as far as could matter), probing the next list of ids.
SQLite checks a row's words with `studio_has_words` (db/search_words.py), PostgreSQL with `search_vector @@`.

Only reads live here (pages, filter values, collections, comparisons, counts); every change is in `images.py`.

Longer than 350 lines because the page's reading plan (`_plan`, `_walk`, `_segment`) and the lists the
filters offer share one class and its dialect checks; the lists (collections, comparisons, edit inputs) are
the next thing to move into a records class of their own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import ColumnElement, Engine, and_, exists, false, func, literal, not_, or_, select, text, true, tuple_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import find_tables

from studio.core.browsing import SORTS, GalleryFilter, GalleryItem, Page, decode_cursor
from studio.core.errors import StudioError
from studio.db.models import (FACETS, Collection, CollectionImage, CompareCell, CompareGroup, GalleryFacet, Generation,
                               GenerationSource, Image)
from studio.db.browse_plan import (EFFECTIVE, FAVOURITES, WORD_RE, Plan, ahead, bound, bounded, combination, favourites_among, favourites_matching,
                                   SMALL, expected_rows, fts5_query, fts_count, narrowest, planned_rows, prefixes, tsquery)
from studio.db.search_words import simple_words

# A page first walks the sort order (or the status or model index) in rounds of this many generations per
# item wanted; a filter still short of a page after them is sparse there, and is fetched through its smallest
# index instead (the favourites, a collection, the full-text matches, the equality filters' combinations).
WALK_ROUNDS = (4, 16, 64)
FEW = 5000  # equality filters matching at most this many generations are fetched through ix_generations_facets at once
MANY = 200_000  # drivers are counted up to this many candidates (an index range, never more); no longer list is paired
MAX_COMBINATIONS = 64  # more combinations than this are not spelled out as conditions
_BATCH = func.coalesce(Image.batch_index, -1)  # a generation without images sorts as batch -1

# The sort key (created_at, generation id) as the generations have it, and as images carry it (migration 0014):
# favourite images are walked in sort order through ix_images_favourite_sort.
GEN_KEY = (Generation.created_at, Generation.id)
FAV_KEY = (Image.generation_created_at, Image.generation_id)
FAVOURITE = Image.favourite == true()
NOT_FAVOURITE = or_(Image.id.is_(None), Image.favourite == false())

# Fields a request sends and the API does not echo: what was sent is what the image is.
SENT_ONLY = {"complexity": Generation.complexity, "frame_count": Generation.frame_count}


def without_nul(filters: GalleryFilter) -> GalleryFilter:
    """The filter with NUL characters taken out of its text. PostgreSQL refuses NUL in any string it is
    sent (a DataError quoting the SQL), and no stored value holds one (db/values.py refuses them), so a
    NUL can only be noise from a link or a paste: `fox\\x00` searches for `fox`."""
    changes = {name: value.replace("\x00", "") for name, value in vars(filters).items()
               if isinstance(value, str) and "\x00" in value}
    return replace(filters, **changes) if changes else filters


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
        with self.engine.connect() as connection:
            if self.dialect == "postgresql":  # a page reads a few hundred rows: starting workers costs more than it saves
                connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off"))  # nor compiling it
            plan = self._plan(connection, filters, search_mode)
            if before:
                seg, *key = decode_cursor(before)
                rows = self._walk(connection, plan, segments, seg, tuple(key), limit + 1, backward=True)
                if len(rows) <= limit:  # reached the start: show a full first page instead
                    return self.page(filters, sort, limit, search_mode=search_mode)
                items = list(reversed(rows[:limit]))
                return Page(items, next_cursor=items[-1].key, prev_cursor=items[0].key)
            if after:
                seg, *key = decode_cursor(after)
                rows = self._walk(connection, plan, segments, seg, tuple(key), limit + 1, backward=False)
            else:
                rows = self._walk(connection, plan, segments, 0, None, limit + 1, backward=False)
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
        ids = list(generation_ids)
        with self.engine.connect() as connection:
            plan = self._plan(connection, replace(filters, search=""), "fts")
            if plan is None or not ids:  # the filters match nothing
                return []
            query = plan.query.where(Generation.id.in_(ids), *plan.conditions)
            return [GalleryItem(*row) for row in connection.execute(query)]

    def _segments(self, sort: str) -> list[tuple[ColumnElement[bool] | None, bool]]:
        """The walks that make a sort, each (extra condition, descending)."""
        if sort == "oldest":
            return [(None, False)]
        if sort == "favourites":
            return [(FAVOURITE, True), (NOT_FAVOURITE, True)]
        return [(None, True)]

    def _plan(self, connection: Any, f: GalleryFilter, search_mode: str) -> Plan | None:
        """The page's plan, or None when the filters match nothing (said by an index, before any walk)."""
        query = select(
            Generation.id, Image.id, Image.batch_index, Generation.created_at, Generation.status, Generation.prompt,
            Generation.model, Image.thumbnail_path, Image.path, Image.favourite, Image.width, Image.height,
            Image.format, Generation.error_message,
        ).select_from(Generation).outerjoin(Image, Image.generation_id == Generation.id)
        f = without_nul(f)
        plan = Plan(query, [])
        conditions, walk, drivers = plan.conditions, plan.walk, plan.drivers
        if f.search.strip():
            checked, driver = self._search_condition(f.search, search_mode)
            conditions.append(checked)
            plan.checked_by[id(driver)] = checked  # fetched through the index, a match needs no second check
            if driver is not None:
                probe = text("(generations.id + 0) IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH :probe)"
                             ).bindparams(probe=fts5_query(f.search)) if self.dialect == "sqlite" else None
                word_rows = None
                if self.dialect == "postgresql" and len(prefixes(f.search)) > 1:
                    # A word no generation has makes the whole search empty: said by that word alone (a rare
                    # prefix is a quick GIN lookup), before GIN reads the common words' long lists to intersect.
                    word_rows = [expected_rows(connection, word) for word in prefixes(f.search)]
                    connection.execute(text("SET LOCAL enable_seqscan = off"))  # through GIN, not a scan hoping for an early row
                    absent = any(rows < FEW and connection.scalar(text(
                        "SELECT 1 FROM generations WHERE search_vector @@ to_tsquery('simple', :q) LIMIT 1"), {"q": word}) is None
                        for rows, word in zip(word_rows, prefixes(f.search)))
                    connection.execute(text("SET LOCAL enable_seqscan = on"))
                    if absent:
                        return None
                count = fts_count(fts5_query(f.search)) if self.dialect == "sqlite" else planned_rows(tsquery(f.search), word_rows)
                if self.dialect == "postgresql":  # the share of generations the planner expects to match
                    total = connection.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'generations'")) or 0
                    plan.share = expected_rows(connection, tsquery(f.search)) / total if total > 0 else None
                drivers.append((count, driver, probe))
                plan.checked_by[id(probe)] = checked
                # the words among the generations with a favourite (migration 0014)
                plan.favourite_search = favourites_matching(self.dialect, f.search)
                plan.checked_by.update({id(d): checked for d in plan.favourite_search[1:] if d is not None})
        if f.model:
            conditions.append(Generation.model == f.model)
        for name, column in (EFFECTIVE | SENT_ONLY).items():
            value = getattr(f, name)
            if value:
                conditions.append(column == value)
        if f.status:
            conditions.append(Generation.status == f.status)
        if f.date_from:
            moment = datetime.combine(f.date_from, time(), timezone.utc)
            conditions.append(Generation.created_at >= moment)
            walk.append(conditions[-1])
            plan.dates.append((True, moment, conditions[-1]))
        if f.date_to:
            moment = datetime.combine(f.date_to + timedelta(days=1), time(), timezone.utc)
            conditions.append(Generation.created_at < moment)
            walk.append(conditions[-1])
            plan.dates.append((False, moment, conditions[-1]))
        if f.favourites:
            conditions.append(FAVOURITE)
            drivers.append(FAVOURITES)
            plan.favourites = True
        if f.collection_id is not None:
            conditions.append(exists().where(CollectionImage.image_id == Image.id, CollectionImage.collection_id == f.collection_id))
            members = select(Image.generation_id).join(CollectionImage, CollectionImage.image_id == Image.id).where(
                CollectionImage.collection_id == f.collection_id)
            drivers.append((bounded(members), Generation.id.in_(members), (Generation.id + 0).in_(members)))
        if f.image_ids is not None:
            conditions.append(Image.id.in_(f.image_ids))
            chosen = select(Image.generation_id).where(Image.id.in_(f.image_ids))
            drivers.append((lambda connection, cap, n=len(f.image_ids): n, Generation.id.in_(chosen), (Generation.id + 0).in_(chosen)))
        if f.compare_group_id is not None:
            conditions.append(exists().where(CompareCell.generation_id == Generation.id, CompareCell.group_id == f.compare_group_id))
            cells = select(CompareCell.generation_id).where(CompareCell.group_id == f.compare_group_id)
            drivers.append((bounded(cells), Generation.id.in_(cells), (Generation.id + 0).in_(cells)))
        if any(getattr(f, name) for name in FACETS):
            combinations = connection.execute(select(*GalleryFacet.__table__.c).where(GalleryFacet.generations > 0, *(
                getattr(GalleryFacet, name) == getattr(f, name) for name in FACETS if getattr(f, name)))).all()
            if not combinations:
                return None
            plan.facet_rows = sum(c.generations for c in combinations)
            if len(combinations) <= MAX_COMBINATIONS:
                # Not a list of ids but conditions the planner reads through ix_generations_facets (as a list of its
                # own, SQLite's statistics would have it scan the table): this driver is never paired.
                drivers.append((lambda connection, cap, n=plan.facet_rows: n, or_(*(combination(c, Generation) for c in combinations)), None))
                if self.dialect == "postgresql":  # the combinations among the generations with a favourite (migration 0014)
                    plan.favourite_facets = favourites_among(drivers[-1][1])
        # A walk follows the status or the model index when one is set (its rows in sort order), else the sort index.
        if f.status:
            walk.append(Generation.status == f.status)
        elif f.model:
            walk.append(Generation.model == f.model)
        plan.direct = len(conditions) == len(walk)
        return plan

    def _search_condition(self, search: str, mode: str) -> tuple[ColumnElement[bool], ColumnElement[bool] | None]:
        """(the check of one row, the condition that fetches every match through the full-text index or None)."""
        if mode == "fts" and self.dialect == "sqlite":
            match = fts5_query(search)
            if match:
                hits = text("generations.id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH :match)").bindparams(match=match)
                words = simple_words(WORD_RE.findall(search))
                if words is None:  # not words FTS5 would read as single tokens: FTS5 alone answers
                    return hits, hits
                # The indexed text of the row, read from FTS5's own content table (columns c0, c1 are the
                # FTS table's prompt and revised_prompt): a plain rowid lookup, not a full-text query.
                check = text("EXISTS (SELECT 1 FROM generations_fts_content AS fts WHERE fts.id = generations.id "
                             "AND studio_has_words(fts.c0, fts.c1, :words))").bindparams(words=words)
                return check, hits
        if mode == "fts" and self.dialect == "postgresql":
            query = tsquery(search)
            if query:
                matches = text("generations.search_vector @@ to_tsquery('simple', :tsq)").bindparams(tsq=query)
                return matches, matches
        # LIKE: every word in the prompt or in a revised_prompt of the generation (the slow way, kept for
        # other databases and to measure FTS against).
        words = WORD_RE.findall(search) or [search.strip()]
        sibling = aliased(Image)  # any image of the generation, not just the row's own
        return and_(*(
            or_(
                Generation.prompt.ilike(f"%{word}%"),
                exists().where(sibling.generation_id == Generation.id, sibling.revised_prompt.ilike(f"%{word}%")),
            )
            for word in words
        )), None

    def _walk(self, connection: Any, plan: Plan | None, segments: list, start: int, key: tuple | None, want: int,
              backward: bool) -> list[GalleryItem]:
        """Collect `want` items from segment `start` (after/before `key`), going on into the next segments."""
        rows: list[GalleryItem] = []
        if plan is None:
            return rows
        order = range(start, len(segments)) if not backward else range(start, -1, -1)
        for index in order:
            condition, descending = segments[index]
            if plan.favourites and condition is NOT_FAVOURITE:  # favourites only: the rest has none
                continue
            gen_descending = descending != backward  # walking a segment backward flips its order
            found = self._segment(connection, plan, condition, key if index == start else None, want - len(rows),
                                  gen_descending, backward)
            rows.extend(GalleryItem(*row, segment=index) for row in found)
            if len(rows) >= want:
                break
        return rows

    def _segment(self, connection: Any, plan: Plan, condition: ColumnElement[bool] | None, key: tuple | None, want: int,
                 desc: bool, backward: bool) -> list[Any]:
        """`want` rows of one walk past `key`. Dense filters are read in sort order; a filter the first few
        thousand generations show to be sparse is fetched whole through its smallest index and sorted."""
        conditions = plan.conditions + ([condition] if condition is not None and not any(
            condition.compare(c) for c in plan.conditions) else [])  # said twice, a planner counts it twice
        # Favourite images only: walk them in sort order through ix_images_favourite_sort (a fiftieth of the
        # gallery), their sort key as the images carry it; else the generations' sort (or status/model) index.
        favourites = plan.favourites or condition is FAVOURITE
        drivers = [d for d in (plan.favourite_search, plan.favourite_facets) if favourites and d] + plan.drivers + (
            [FAVOURITES] if condition is FAVOURITE and not plan.favourites else [])  # counted in this order
        sort_key = FAV_KEY if favourites else GEN_KEY
        read = conditions  # the conditions a read in sort order checks
        if favourites:  # the dates as ranges of that index, the same moments
            dates = [sort_key[0] >= moment if lower else sort_key[0] < moment for lower, moment, _ in plan.dates]
            read = [c for c in conditions if not any(c is d for *_, d in plan.dates)] + dates
            walk = [FAVOURITE, *dates]
            direct = all(c.compare(FAVOURITE) or any(c is d for d in dates) for c in read)
        else:
            walk, direct = plan.walk, plan.direct and condition is None
        order = self._order(sort_key, desc, backward)
        start = [self._beyond(key, sort_key, desc, backward)] if key is not None else []
        gen_key = tuple_(*sort_key)

        def fetch(*extra: ColumnElement[bool], limit: int) -> list[Any]:
            query = plan.query.where(*read, *start, *extra).order_by(*order).limit(limit)
            return list(connection.execute(query))

        if direct:
            return fetch(limit=want)
        rows: list[Any] = []
        past: list[ColumnElement[bool]] = []  # the generations before the last round's end were walked already
        seek = [gen_key <= bound(key[:2]) if desc else gen_key >= bound(key[:2])] if key is not None else []
        rounds = iter(() if plan.facet_rows is not None and plan.facet_rows <= FEW else WALK_ROUNDS)
        driver, candidates, walked_rows, last = None, None, 0, None
        walking = self.dialect == "postgresql"
        per = max(want, 16)  # rounds are sized per item wanted, as if at least 16 were: the end of a page may want 1
        upper = tuple(key[:2]) if key is not None else None  # where this round starts: the cursor, then the last round's end
        while True:
            size = next(rounds, None)
            still = (want - len(rows)) * walked_rows / max(len(rows), 1)  # generations left to walk, as far as seen
            if walking and plan.share and len(rows) < 3 and walked_rows:  # too few seen to tell: as the planner expects
                still = min(still, (want - len(rows)) / plan.share)  # (a walk too long is cut short by the next rounds)
            # After a round short of a page: would fetching the candidates cost less? (Not asked when the next
            # round should fill the page: counting a common word's matches costs more than that round.)
            if (size is None or past) and not (rows and size is not None and still <= size * per):
                # One way, the walk found nothing and has far to go: take it uncounted (PostgreSQL's estimates cost
                # nothing to ask; a few items wanted, at a page's end, are found sooner by walking on).
                if candidates is None and len(drivers) == 1 and not rows and not walking and still > SMALL:
                    driver, candidates = [drivers[0][1]], 0
                if candidates is None:
                    driver, candidates = narrowest(connection, drivers, MANY)
                if driver is not None and (candidates < still or not walked_rows):  # else walk on, past the rounds too
                    break
                # Nothing narrower than the walk (a filter no index serves, LIKE), or a driver dearer than the walk
                # still looks: walk on, each round as long as all before it (a round sized by the items still
                # wanted would grow without bound when one item is).
                size = size or max(WALK_ROUNDS[-1], walked_rows // per)
            walked_rows += size * per
            walked = select(*sort_key).where(*walk, *(past or seek)).order_by(*order[:2]).offset(size * per - 1).limit(1)
            # One statement when the filter is dense: the round's end is a subquery (the gallery's end if none).
            last = (datetime.min if desc else datetime.max).replace(tzinfo=timezone.utc), 0 if desc else 2**31 - 1
            end = tuple_(func.coalesce(walked.with_only_columns(sort_key[0]).scalar_subquery(),
                                       literal(last[0], Generation.created_at.type)),
                         func.coalesce(walked.with_only_columns(sort_key[1]).scalar_subquery(), literal(last[1])))
            if walking:
                # PostgreSQL: the round's end first, so the planner sees a short range of the sort index and reads it
                # in order, never a GIN bitmap of every match of a word (sorted) nor a whole-table scan, which it may
                # prefer when guessing the range's length.
                connection.execute(text("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off"))
                boundary = connection.execute(walked).first()
                end = bound(tuple(boundary) if boundary is not None else last)
                # The same range on created_at alone too: PostgreSQL cannot estimate a row-value range's length.
                plain = [sort_key[0] >= edge[0] if lower else sort_key[0] <= edge[0] for edge, lower in
                         ((boundary, desc), (upper, not desc)) if edge is not None]
                rows += fetch(*past, *plain, gen_key >= end if desc else gen_key <= end, limit=want - len(rows))
                connection.execute(text("SET LOCAL enable_bitmapscan = on; SET LOCAL enable_seqscan = on"))
                if len(rows) >= want:
                    return rows
            else:
                rows += fetch(*past, gen_key >= end if desc else gen_key <= end, limit=want - len(rows))
                if len(rows) >= want:
                    return rows
                boundary = connection.execute(walked).first()
            if boundary is None:
                return rows
            past, last = [gen_key < bound(boundary) if desc else gen_key > bound(boundary)], tuple(boundary)
            upper = tuple(boundary)

        # Sparse: every candidate's sort key through the driver's index, sorted here, then those rows.
        connection.execute(text("SET LOCAL enable_seqscan = off")) if self.dialect == "postgresql" else None  # the driver's index
        redundant = [plan.checked_by[id(d)] for d in driver if id(d) in plan.checked_by]
        needed = [c for c in conditions if not any(c is r for r in redundant)]
        ranged = self.dialect != "postgresql"  # with a range, PostgreSQL walks the sort index instead: cut here
        # The range as the generations' sort key (the same values): on the favourites' sort index, SQLite would
        # read every favourite instead of the driver's few rows.
        # No condition on an image: the generations' keys alone, without the join (a generation gives at least one
        # item, so `want` of them, and the cursor's own which may have none left, fill the page).
        whole = not any(Image.__table__ in find_tables(c, check_columns=True) for c in needed)
        gen_key = tuple_(*GEN_KEY)
        cut = ([(gen_key <= bound(key[:2]) if desc else gen_key >= bound(key[:2])) if whole else self._beyond(key, GEN_KEY, desc, backward)]
               if key is not None else []) + ([gen_key < bound(last) if desc else gen_key > bound(last)] if past else [])
        query = select(Generation.created_at, Generation.id, literal(-2 if backward else 2**31)) if whole else \
            plan.query.with_only_columns(Generation.created_at, Generation.id, _BATCH)  # a batch never trimmed: the cursor's generation stays
        keys = connection.execute(query.where(
            *needed, *(cut if ranged else []), *(d for d in driver if not any(d.compare(c) for c in needed)))).all()
        keys = keys if ranged else [k for k in keys if ahead(tuple(k), key, last if past else None, desc, backward)]
        connection.execute(text("SET LOCAL enable_seqscan = on")) if not ranged else None
        keys.sort(key=lambda k: k[2], reverse=backward)
        keys.sort(key=lambda k: (k[0], k[1]), reverse=desc)
        picked = {generation_id for _, generation_id, _ in keys[:want - len(rows) + (1 if whole else 0)]}
        return rows + (fetch(*past, Generation.id.in_(picked), limit=want - len(rows)) if picked else [])

    @staticmethod
    def _beyond(key: tuple, sort_key: tuple, gen_descending: bool, backward: bool) -> ColumnElement[bool]:
        """Rows strictly past the cursor in walk direction. The generation part is a row-value range, so
        the index seeks to it; the batch part only trims images of the cursor's own generation."""
        created_at, generation_id, batch = key
        gen_key = tuple_(*sort_key)
        cursor = bound((created_at, generation_id))
        within = gen_key <= cursor if gen_descending else gen_key >= cursor
        # Images of one generation read batch 0, 1, 2... so a backward walk meets them in reverse.
        seen = _BATCH >= batch if backward else _BATCH <= batch
        return and_(within, not_(and_(sort_key[1] == generation_id, seen)))

    @staticmethod
    def _order(sort_key: tuple, gen_descending: bool, backward: bool) -> list[Any]:
        batch = _BATCH.desc() if backward else _BATCH.asc()
        if gen_descending:
            return [sort_key[0].desc(), sort_key[1].desc(), batch]
        return [sort_key[0].asc(), sort_key[1].asc(), batch]

    # --- facts for the filter widgets -------------------------------------------------------------

    def distinct_values(self, name: str) -> list[str]:
        column = Generation.model if name == "model" else (EFFECTIVE | SENT_ONLY)[name]
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
