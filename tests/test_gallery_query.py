"""Keyset pagination, filters and full-text search on a real gallery: SQLite (FTS5) and PostgreSQL
(tsvector + GIN), the same tests on each."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from PIL import Image as PILImage

from studio.core.browsing import GalleryFilter, Page
from studio.services.gallery_link import GalleryView, parse_view, view_params
from studio.services.gallery import GalleryService
from studio.core.request import ImageRequest
from studio.services.studio import Studio

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Rows are what these tests are about, so each runs on both databases; files stay in a local folder.
both_databases = pytest.mark.parametrize("backend", ["sqlite+local", "postgres+local"], indirect=True)


@pytest.fixture
def library(studio: Studio) -> GalleryService:
    return GalleryService(studio)


def add(library: GalleryService, number: int, images: int = 1, status: str = "succeeded", prompt: str | None = None,
        model: str = "gpt-image-1", at: datetime | None = None) -> int:
    """A generation with `images` real (tiny) image files, created at T0 + number minutes."""
    rows = []
    for index in range(images if status == "succeeded" else 0):
        buffer = io.BytesIO()
        PILImage.new("RGB", (8, 8), (number % 256, index, 7)).save(buffer, "PNG")
        stored = library.storage.put(buffer.getvalue(), "png")
        rows.append({"batch_index": index, "path": stored.path, "sha256": stored.sha256, "width": 8, "height": 8,
                     "format": "png", "bytes": stored.bytes, "revised_prompt": f"revised {number}-{index}"})
    return library.images.add_generation({
        "created_at": at or T0 + timedelta(minutes=number), "status": status, "provider": "demo", "base_url_host": "x",
        "prompt": prompt or f"prompt {number}", "model": model, "error_message": "refused" if status == "failed" else None,
    }, rows)


def keys(page: Page) -> list[tuple[int, int | None]]:
    return [(item.generation_id, item.batch_index) for item in page.items]


def walk(library: GalleryService, filters: GalleryFilter, sort: str, limit: int, between_pages=lambda n: None) -> list:
    seen, cursor, number = [], None, 0
    while True:
        page = library.page(filters, sort, limit, after=cursor)
        seen += keys(page)
        between_pages(number)
        number += 1
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@both_databases
def test_pages_have_no_duplicates_or_gaps_while_new_images_arrive(library: GalleryService) -> None:
    ids = [add(library, n, images=1 + n % 3, status="failed" if n % 5 == 0 else "succeeded") for n in range(20)]
    expected = [(g, b) for g in reversed(ids) for b in ([None] if (g - ids[0]) % 5 == 0 else range(1 + (g - ids[0]) % 3))]
    arrivals = iter(range(100, 200))
    # After every page, two new generations arrive (newer than everything): they must not shift the pages.
    seen = walk(library, GalleryFilter(), "newest", 4, lambda _: [add(library, next(arrivals), images=2) for _ in range(2)])
    assert seen == expected
    assert len(seen) == len(set(seen))
    # The new images are all on a fresh first page.
    first = library.page(GalleryFilter(), "newest", 4)
    assert [g for g, _ in keys(first)][0] > ids[-1]


@both_databases
def test_previous_pages_mirror_next_pages(library: GalleryService) -> None:
    for n in range(13):
        add(library, n, images=2)
    forward, cursor = [], None
    pages = []
    while True:
        page = library.page(GalleryFilter(), "newest", 5, after=cursor)
        pages.append(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(pages) == 6  # 26 images in pages of 5
    back = library.page(GalleryFilter(), "newest", 5, before=pages[3].prev_cursor)
    assert keys(back) == keys(pages[2])
    # Going back from page 2 lands on a full first page.
    assert keys(library.page(GalleryFilter(), "newest", 5, before=pages[1].prev_cursor)) == keys(pages[0])


@both_databases
def test_oldest_and_favourites_first_are_stable_sorts(library: GalleryService) -> None:
    ids = [add(library, n) for n in range(9)]
    assert [g for g, _ in walk(library, GalleryFilter(), "oldest", 2)] == ids
    favourite_ids = [ids[1], ids[4], ids[7]]
    image_ids = {item.generation_id: item.image_id for item in library.page(GalleryFilter(), "newest", 24).items}
    library.favourite([image_ids[g] for g in favourite_ids])
    order = [g for g, _ in walk(library, GalleryFilter(), "favourites", 2)]
    assert order == sorted(favourite_ids, reverse=True) + [g for g in reversed(ids) if g not in favourite_ids]
    assert [i.generation_id for i in library.page(GalleryFilter(favourites=True), "newest", 24).items] == sorted(favourite_ids, reverse=True)


@both_databases
def test_filters_status_model_date_and_collection(library: GalleryService) -> None:
    ok = add(library, 1, model="gpt-image-1-mini")
    failed = add(library, 2, status="failed")
    late = add(library, 3, at=datetime(2026, 3, 5, 12, tzinfo=timezone.utc))
    assert [i.generation_id for i in library.page(GalleryFilter(status="failed")).items] == [failed]
    assert library.page(GalleryFilter(status="failed")).items[0].error_message == "refused"
    assert [i.generation_id for i in library.page(GalleryFilter(model="gpt-image-1-mini")).items] == [ok]
    in_march = GalleryFilter(date_from=date(2026, 3, 5), date_to=date(2026, 3, 5))
    assert [i.generation_id for i in library.page(in_march).items] == [late]
    image_id = library.page(GalleryFilter(model="gpt-image-1-mini")).items[0].image_id
    collection = library.add_to_collection("Moodboard", [image_id])
    library.add_to_collection("Moodboard", [image_id])  # adding twice keeps one
    assert [i.image_id for i in library.page(GalleryFilter(collection_id=collection)).items] == [image_id]
    assert library.browse.collections() == [(collection, "Moodboard")]
    group_id, cells = library.records.create_compare_group("p", "gpt-image-1", None, {}, [(0, "low", None), (1, "high", None)])
    library.records.link_compare_cell(cells[0], ok)
    library.records.link_compare_cell(cells[1], failed)
    assert [i.generation_id for i in library.page(GalleryFilter(compare_group_id=group_id)).items] == [failed, ok]
    assert library.browse.compare_groups() == [(group_id, f"#{group_id} · p")]
    assert library.page(GalleryFilter(compare_group_id=group_id + 1)).items == []


@both_databases
def test_full_text_search_stays_in_step_after_insert_and_delete(studio: Studio, library: GalleryService) -> None:
    fox = studio.generate(ImageRequest(prompt="A watercolour fox reading a map", model=studio.settings.model, n=2))
    studio.generate(ImageRequest(prompt="An owl in a lighthouse", model=studio.settings.model))
    failed = studio.generate(ImageRequest(prompt="A fox refused [demo:fail=moderation]", model=studio.settings.model))
    found = library.page(GalleryFilter(search="fox"))
    assert {(i.generation_id, i.batch_index) for i in found.items} == {(fox.generation_id, 0), (fox.generation_id, 1), (failed.generation_id, None)}
    # Prefix words, any case, and punctuation that is no FTS syntax error.
    assert {i.generation_id for i in library.page(GalleryFilter(search='WATERCOL "map')).items} == {fox.generation_id}
    # The revised_prompt is searched too (the demo returns one that differs from the prompt).
    revised_word = next(w for w in fox.images[0].revised_prompt.split() if w.isalpha() and w.lower() not in fox.generation.prompt.lower())
    assert fox.generation_id in {i.generation_id for i in library.page(GalleryFilter(search=revised_word)).items}
    # FTS and LIKE agree.
    like = library.browse.page(GalleryFilter(search="fox"), search_mode="like")
    assert [i.key for i in like.items] == [i.key for i in found.items]
    library.delete([(fox.generation_id, fox.images[0].id)])
    assert library.browse.count_fts("watercolour") == 1  # one image left, the generation stays findable
    library.delete([(fox.generation_id, fox.images[1].id)])
    assert library.browse.count_fts("watercolour") == 0
    assert library.page(GalleryFilter(search="watercolour")).items == []
    assert [i.generation_id for i in library.page(GalleryFilter(search="fox")).items] == [failed.generation_id]


def test_view_round_trips_through_query_params() -> None:
    view = GalleryView(GalleryFilter(search="fox map", model="gpt-image-1", status="failed", date_from=date(2026, 2, 1),
                                     favourites=True, collection_id=3, compare_group_id=7), sort="oldest", per_page=48, after="abc", page=3,
                       open="12-34")
    params = view_params(view)
    assert params["q"] == "fox map" and params["from"] == "2026-02-01" and params["per"] == "48" and params["compare"] == "7"
    assert parse_view(params) == (view, [])
    assert view_params(GalleryView()) == {}
    # A lineage link reads from the original to its edits: oldest first unless the link says otherwise.
    lineage, _ = parse_view({"lineage": "5"})
    assert (lineage.filters.lineage, lineage.sort) == (5, "oldest") and view_params(lineage) == {"lineage": "5"}
    assert parse_view({"lineage": "5", "sort": "newest"})[0].sort == "newest"
    broken, problems = parse_view({"sort": "random", "from": "yesterday", "status": "lost", "per": "1000", "open": "x"})
    assert broken == GalleryView()
    assert len(problems) == 4 and any("YYYY-MM-DD" in p for p in problems)
