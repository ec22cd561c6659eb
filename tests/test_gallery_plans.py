"""The Gallery's query plans (walk the sort order in rounds; fetch a sparse filter through its smallest index;
answer equality filters from gallery_facets) give exactly the rows of the plain definition: every item the
full-text index and the filters select, in sort order, page after page in both directions. Run on SQLite
(FTS5) and PostgreSQL (tsvector), with the plans' thresholds set so that each path is taken."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select, text, true, update

from studio.core.browsing import GalleryFilter, cursor_at
from studio.db import browse
from studio.db.browse import fts5_query, tsquery
from studio.db.engine import alembic_config, get_engine, migrate
from studio.db.models import CollectionImage, Collection, Generation, Image
from studio.services.gallery import GalleryService
from studio.services.studio import Studio

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
MODELS = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5")
both_databases = pytest.mark.parametrize("backend", ["sqlite+local", "postgres+local"], indirect=True)
# Thresholds that send the same filters down each path: the defaults (equality filters straight from their
# index), a short walk then the smallest driver, and a driver count that only a full-text match beats.
PLANS = {
    "defaults": {},
    "walk-then-fetch": {"FEW": 0, "WALK_ROUNDS": (1, 2), "MANY": 20000},
    "full-text-or-walk-on": {"FEW": 0, "WALK_ROUNDS": (1,), "MANY": 1},
}


def seed(library: GalleryService) -> None:
    """150 generations: ties in created_at, some imported later with old dates (ids out of date order),
    failed and pending ones, 1-3 images each, favourites, a collection, words common, rare and accented."""
    generations, images = [], []
    for n in range(150):
        words = ["in", "the" if n % 2 else "a", "lighthouse" if n % 10 == 3 else "harbour", f"motif{n % 40:02d}"]
        if n % 13 == 0:
            words.append("Café")
        if n in (17, 130):
            words.append("zeppelin")
        created = T0 + timedelta(minutes=n // 2)  # two generations a minute: ties
        if n >= 135:
            created = T0 + timedelta(minutes=(n - 135) * 5 + 1, seconds=30)  # imported later, dated earlier
        status = "failed" if n % 11 == 0 else "pending" if n % 37 == 5 else "succeeded"
        generations.append({
            "id": n + 1, "created_at": created, "status": status, "provider": "test", "base_url_host": "x",
            "prompt": " ".join(words), "model": MODELS[n % 3], "quality": ("low", "medium", "high")[n // 3 % 3],
            "response_quality": "high" if n % 5 == 0 and status == "succeeded" else None,
            "size": "1024x1024" if n % 2 else "1536x1024", "background": "transparent" if n % 17 == 1 else None,
        })
        for batch in range(1 + n % 3 if status == "succeeded" else 0):
            revised = f"A {' '.join(words)}, {'glowing lighting' if n % 4 == 0 else 'plain'} version {batch}"
            images.append({"generation_id": n + 1, "batch_index": batch, "path": f"images/{n}-{batch}.png", "sha256": "0" * 64,
                           "width": 8, "height": 8, "format": "png", "bytes": 10, "revised_prompt": revised,
                           "favourite": (n + batch) % 7 == 0})
    engine = library.browse.engine
    with engine.begin() as connection:
        connection.execute(insert(Generation), generations)
        connection.execute(insert(Image), images)
        # a request answered later: its response values differ from what was asked (the facet triggers follow)
        connection.execute(update(Generation).where(Generation.id == 9).values(response_size="1024x1536"))
        collection = connection.execute(insert(Collection).values(name="picked", created_at=T0).returning(Collection.id)).scalar_one()
        picked = connection.scalars(select(Image.id).where(Image.generation_id % 9 == 0, Image.batch_index == 0)).all()
        connection.execute(insert(CollectionImage), [{"collection_id": collection, "image_id": i, "added_at": T0} for i in picked])


def expected(library: GalleryService, filters: GalleryFilter, sort: str) -> list[tuple[int, int | None]]:
    """The plain definition: every item, filtered here, the search asked of the full-text index alone."""
    engine = library.browse.engine
    with engine.connect() as connection:
        rows = connection.execute(select(
            Generation.id, Generation.created_at, Generation.status, Generation.model, Generation.quality,
            Generation.response_quality, Generation.size, Generation.response_size, Generation.background,
            Image.batch_index, Image.favourite, Image.id,
        ).select_from(Generation).outerjoin(Image, Image.generation_id == Generation.id)).all()
        found = None
        if filters.search:
            if engine.dialect.name == "sqlite":
                found = set(connection.scalars(text("SELECT rowid FROM generations_fts WHERE generations_fts MATCH :m"),
                                               {"m": fts5_query(filters.search)}))
            else:
                found = set(connection.scalars(text("SELECT id FROM generations WHERE search_vector @@ to_tsquery('simple', :q)"),
                                               {"q": tsquery(filters.search)}))
        members = set(connection.scalars(select(CollectionImage.image_id)))
    kept = []
    for (gid, created, status, model, quality, response_quality, size, response_size, background,
         batch, favourite, image_id) in rows:
        created = created.replace(tzinfo=timezone.utc) if created.tzinfo is None else created
        checks = [
            found is None or gid in found,
            not filters.status or status == filters.status,
            not filters.model or model == filters.model,
            not filters.quality or (response_quality or quality) == filters.quality,
            not filters.size or (response_size or size) == filters.size,
            not filters.background or background == filters.background,
            not filters.favourites or bool(favourite),
            filters.collection_id is None or image_id in members,
            not filters.date_from or created.date() >= filters.date_from,
            not filters.date_to or created.date() <= filters.date_to,
        ]
        if all(checks):
            kept.append((created, gid, -1 if batch is None else batch, bool(favourite), batch))
    newest = sorted(kept, key=lambda r: (r[0], r[1], -r[2]), reverse=True)
    if sort == "oldest":
        order = sorted(kept, key=lambda r: (r[0], r[1], r[2]))
    elif sort == "favourites":
        order = [r for r in newest if r[3]] + [r for r in newest if not r[3]]
    else:
        order = newest
    return [(r[1], r[4]) for r in order]


def keys(page) -> list[tuple[int, int | None]]:
    return [(item.generation_id, item.batch_index) for item in page.items]


CASES = [
    GalleryFilter(),
    GalleryFilter(search="in"),  # every prompt
    GalleryFilter(search="the"),  # every second
    GalleryFilter(search="LIGHT"),  # a prefix: lighthouse in every tenth prompt, lighting in some revised prompts
    GalleryFilter(search="cafe"),  # accented in the prompt, plain in the search
    GalleryFilter(search="zeppelin"),  # two generations
    GalleryFilter(search="glowing in"),  # a revised_prompt word and a common one
    GalleryFilter(search="nowhere"),
    GalleryFilter(search="motif_03"),  # not one FTS5 token: FTS5 alone answers
    GalleryFilter(status="failed"),
    GalleryFilter(status="pending", model="gpt-image-1"),
    GalleryFilter(quality="high"),
    GalleryFilter(model="gpt-image-1", size="1024x1024"),
    GalleryFilter(size="1024x1536"),  # one generation, by its response
    GalleryFilter(background="transparent", quality="high"),
    GalleryFilter(model="dall-e-9"),
    GalleryFilter(favourites=True),
    GalleryFilter(search="the", favourites=True),
    GalleryFilter(search="lighthouse", status="failed"),
    GalleryFilter(collection_id=1, search="in"),
    GalleryFilter(date_from=date(2026, 1, 1), date_to=date(2026, 1, 1), search="the", model="gpt-image-1-mini"),
    # Favourites through their own sort index (migration 0014), with searches and filters; every case above and
    # below also runs favourites first, whose first walk is the favourites.
    GalleryFilter(search="lighthouse", favourites=True),
    GalleryFilter(search="cafe", favourites=True),
    GalleryFilter(search="zeppelin", favourites=True),  # the words among the favourites: maybe none
    GalleryFilter(search="in", favourites=True, quality="high"),
    GalleryFilter(status="failed", favourites=True),  # failed requests have no images: none
    GalleryFilter(favourites=True, date_from=date(2026, 1, 1), date_to=date(2026, 1, 1)),
    GalleryFilter(favourites=True, collection_id=1),
    GalleryFilter(date_from=date(2027, 1, 1)),  # after every item
    # Several words, rare and common, and a collection alone.
    GalleryFilter(search="glowing lighthouse"),
    GalleryFilter(search="zeppelin the"),
    GalleryFilter(search="motif03 harbour"),
    GalleryFilter(search="lighthouse nowhere"),  # one word no prompt has: nothing
    GalleryFilter(collection_id=1),
]


@both_databases
@pytest.mark.parametrize("plan", PLANS)
def test_every_plan_pages_through_exactly_the_plain_result(studio: Studio, plan: str, monkeypatch: pytest.MonkeyPatch) -> None:
    library = GalleryService(studio)
    seed(library)
    for name, value in PLANS[plan].items():
        monkeypatch.setattr(browse, name, value)
    for filters in CASES:
        for sort in ("newest", "oldest", "favourites"):
            want = expected(library, filters, sort)
            pages, cursor = [], None
            while True:
                page = library.page(filters, sort, 11, after=cursor)
                pages.append(page)
                if not page.next_cursor:
                    break
                cursor = page.next_cursor
            assert [k for page in pages for k in keys(page)] == want, (filters, sort)
            for number in sorted({1, 2, len(pages) - 1} & set(range(1, len(pages)))):  # and back: the page seen before
                assert keys(library.page(filters, sort, 11, before=pages[number].prev_cursor)) == keys(pages[number - 1]), (filters, sort, number)


def pages_through(library: GalleryService, filters: GalleryFilter, sort: str) -> list[tuple[int, int | None]]:
    seen, cursor = [], None
    while True:
        page = library.page(filters, sort, 11, after=cursor)
        seen += keys(page)
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@both_databases
@pytest.mark.parametrize("plan", ["defaults", "walk-then-fetch"])
def test_the_favourites_index_follows_every_write(studio: Studio, plan: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The favourites' copied sort key and (SQLite) favourites_fts are kept by triggers: favourites set and
    cleared, a revised prompt changed, an image and a generation deleted, a generation's date moved, a new
    generation added with a favourite: every favourites view still gives exactly the plain result."""
    library = GalleryService(studio)
    seed(library)
    for name, value in PLANS[plan].items():
        monkeypatch.setattr(browse, name, value)
    engine = library.browse.engine
    with engine.connect() as connection:
        image_of = dict(connection.execute(select(Image.generation_id, Image.id).where(Image.batch_index == 0)).all())
    library.favourite([image_of[18], image_of[131]])  # zeppelin: generations 18 and 131
    library.favourite([image_of[8]], False)
    with engine.begin() as connection:
        connection.execute(update(Image).where(Image.id == image_of[22]).values(revised_prompt="a zeppelin at dawn", favourite=True))
        connection.execute(update(Generation).where(Generation.id == 29).values(created_at=T0 + timedelta(days=3)))
        connection.execute(update(Generation).where(Generation.id == 36).values(prompt="a quiet zeppelin"))
    library.delete([(50, image_of[50]), (57, None)])
    generation = library.images.add_generation({
        "id": 1000, "created_at": T0 - timedelta(days=1), "status": "succeeded", "provider": "test", "base_url_host": "x",
        "prompt": "zeppelin over the harbour", "model": MODELS[0]},
        [{"batch_index": 0, "path": "images/new.png", "sha256": "1" * 64, "width": 8, "height": 8, "format": "png", "bytes": 10,
          "revised_prompt": "A zeppelin", "favourite": True}])
    with engine.connect() as connection:
        copied = connection.execute(select(Image.generation_created_at, Generation.created_at).join(Generation)).all()
        assert all(_utc(a) == _utc(b) for a, b in copied)
        assert connection.scalar(select(Image.generation_created_at).where(Image.generation_id == generation)) is not None
        if engine.dialect.name == "sqlite":  # favourites_fts holds exactly the generations with a favourite, with their words
            listed = set(connection.scalars(text("SELECT rowid FROM favourites_fts WHERE favourites_fts MATCH 'zeppelin'")))
            matching = set(connection.scalars(text("SELECT rowid FROM generations_fts WHERE generations_fts MATCH 'zeppelin'")))
            with_favourite = set(connection.scalars(select(Image.generation_id).where(Image.favourite == true())))
            assert listed == matching & with_favourite and generation in listed and 22 in listed
        else:  # favourite_vector is the search_vector of exactly those generations
            listed = set(connection.scalars(text("SELECT id FROM generations WHERE favourite_vector @@ to_tsquery('simple', 'zeppelin')")))
            matching = set(connection.scalars(text("SELECT id FROM generations WHERE search_vector @@ to_tsquery('simple', 'zeppelin')")))
            with_favourite = set(connection.scalars(select(Image.generation_id).where(Image.favourite == true())))
            assert listed == matching & with_favourite and generation in listed and 22 in listed
            assert connection.scalar(text("SELECT count(*) FROM generations WHERE favourite_vector IS DISTINCT FROM "
                                          "CASE WHEN id IN (SELECT generation_id FROM images WHERE favourite) THEN search_vector END")) == 0
    for filters in (GalleryFilter(favourites=True), GalleryFilter(search="zeppelin", favourites=True), GalleryFilter(search="zeppelin"),
                    GalleryFilter(search="the", favourites=True), GalleryFilter(favourites=True, date_from=date(2026, 1, 4))):
        for sort in ("newest", "oldest", "favourites"):
            assert pages_through(library, filters, sort) == expected(library, filters, sort), (filters, sort)


def test_migration_0014_goes_down_and_up_again_filling_in_what_it_keeps(empty_url: str) -> None:
    """Down to 0013: the copied sort key, its index and the favourites' words are gone, rows intact, the
    expression index of 0013 still there (no table copy on SQLite); up again: every image's key and the
    favourites' words are filled in from the rows."""
    migrate(empty_url)
    engine = get_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(insert(Generation), [{"id": n, "created_at": T0 + timedelta(minutes=n), "status": "succeeded", "provider": "t",
                                                 "base_url_host": "x", "prompt": f"a lighthouse {n}", "model": MODELS[0]} for n in (1, 2)])
        connection.execute(insert(Image), [{"generation_id": n, "batch_index": 0, "path": f"images/{n}.png", "sha256": "0" * 64, "width": 8,
                                            "height": 8, "format": "png", "bytes": 10, "revised_prompt": "glowing", "favourite": n == 2} for n in (1, 2)])
    command.downgrade(alembic_config(empty_url), "0013")
    engine.dispose()
    with engine.connect() as connection:
        assert "generation_created_at" not in {c["name"] for c in inspect(connection).get_columns("images")}
        assert "ix_images_favourite_sort" not in {i["name"] for i in inspect(connection).get_indexes("images")}
        assert connection.scalar(text("SELECT count(*) FROM images")) == 2
        if engine.dialect.name == "sqlite":
            assert connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'favourites_fts'")) == 0
            assert connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'ix_generations_facets'")) == 1
        else:
            assert "favourite_vector" not in {c["name"] for c in inspect(connection).get_columns("generations")}
    command.upgrade(alembic_config(empty_url), "head")
    engine.dispose()
    with engine.connect() as connection:
        assert all(_utc(a) == _utc(b) for a, b in connection.execute(select(Image.generation_created_at, Generation.created_at).join(Generation)))
        if engine.dialect.name == "sqlite":
            found = connection.scalars(text("SELECT rowid FROM favourites_fts WHERE favourites_fts MATCH '\"glow\"*'")).all()
        else:
            found = connection.scalars(text("SELECT id FROM generations WHERE favourite_vector @@ to_tsquery('simple', 'glow:*')")).all()
        assert found == [2]
    records = browse.BrowseRecords(engine)
    assert [(i.generation_id, i.batch_index) for i in records.page(GalleryFilter(search="lighthouse", favourites=True)).items] == [(2, 0)]
    engine.dispose()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@both_databases
def test_jump_to_date_starts_at_that_moment_in_every_sort(studio: Studio) -> None:
    library = GalleryService(studio)
    seed(library)
    moment = T0 + timedelta(minutes=30)
    for filters in (GalleryFilter(), GalleryFilter(search="the"), GalleryFilter(quality="high", favourites=True)):
        newest = library.page(filters, "newest", 12, after=cursor_at(moment, "newest"))
        assert keys(newest) == [k for k in expected(library, filters, "newest") if _made(library, k[0]) <= moment][:12]
        oldest = library.page(filters, "oldest", 12, after=cursor_at(moment, "oldest"))
        assert keys(oldest) == [k for k in expected(library, filters, "oldest") if _made(library, k[0]) >= moment][:12]


def _made(library: GalleryService, generation_id: int) -> datetime:
    with library.browse.engine.connect() as connection:
        made = connection.scalar(select(Generation.created_at).where(Generation.id == generation_id))
    return made.replace(tzinfo=timezone.utc) if made.tzinfo is None else made


@both_databases
def test_facet_counts_follow_inserts_updates_and_deletes(studio: Studio) -> None:
    library = GalleryService(studio)
    seed(library)
    assert library.page(GalleryFilter(size="1024x1536")).items[0].generation_id == 9
    with library.browse.engine.begin() as connection:
        connection.execute(update(Generation).where(Generation.id == 9).values(response_size=None))
    assert library.page(GalleryFilter(size="1024x1536")).items == []  # no combination has it any more
    assert 9 in {i.generation_id for i in library.page(GalleryFilter(size="1536x1024", model="gpt-image-1.5"), "oldest", 96).items}
    library.delete([(item.generation_id, item.image_id) for item in library.page(GalleryFilter(status="failed"), limit=96).items])
    assert library.page(GalleryFilter(status="failed")).items == []
    with library.browse.engine.connect() as connection:
        counted = connection.execute(text("SELECT status, sum(generations) FROM gallery_facets GROUP BY status ORDER BY status")).all()
        actual = connection.execute(text("SELECT status, count(*) FROM generations GROUP BY status ORDER BY status")).all()
    assert [tuple(r) for r in counted if r[1]] == [tuple(r) for r in actual]
