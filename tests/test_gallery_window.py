"""The Gallery's scrolling window over a real gallery (seeded rows, real thumbnail files) on SQLite and
PostgreSQL: pages append and drop at MAX_PAGES, scrolling back up brings them back, a jump to a day opens
there, the lightbox's neighbour crosses page boundaries (loading the page it needs), and the tiles carry
what the grid shows."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from bench.gallery import seed
from studio.core.browsing import GalleryFilter
from studio.services.gallery import GalleryService
from studio.services.gallery_tiles import item_key, parse_key
from studio.services.gallery_window import MAX_PAGES, GalleryWindow, day_cursor
from studio.services.studio import Studio

ITEMS = 130  # generations 130 down to 1, spread over a year; 98 and 1 failed (no image)


@pytest.fixture(params=["sqlite+local", "postgres+local"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def library(studio: Studio) -> GalleryService:
    library = GalleryService(studio)
    seed(library, ITEMS, random.Random(3))
    return library


def window(library: GalleryService, chunk: int = 10, **kwargs) -> GalleryWindow:
    return GalleryWindow(kwargs.pop("filters", GalleryFilter()), kwargs.pop("sort", "newest"), chunk, **kwargs).open(library)


def generations(w: GalleryWindow) -> list[int]:
    return [item.generation_id for item in w.items]


def test_scrolling_appends_pages_drops_far_ones_and_brings_them_back(library: GalleryService) -> None:
    w = window(library)
    assert generations(w) == list(range(130, 120, -1)) and w.has_next and not w.has_prev
    assert not w.more(library, after_index=5)  # a late request for a page already past: nothing
    for _ in range(MAX_PAGES + 2):
        assert w.more(library, after_index=w.pages[-1].index)
    assert len(w.pages) == MAX_PAGES and [p.index for p in w.pages] == list(range(3, 3 + MAX_PAGES))
    assert generations(w) == list(range(100, 100 - 10 * MAX_PAGES, -1)) and w.has_prev
    while w.earlier(library):
        pass
    assert [p.index for p in w.pages] == list(range(0, MAX_PAGES)) and not w.has_prev
    assert generations(w)[0] == 130 and len(set(generations(w))) == 10 * MAX_PAGES
    while w.more(library):
        pass
    assert not w.has_next and generations(w)[-1] == 1  # the end: every item reached by scrolling alone
    data = w.data()
    assert data["count"] == sum(len(p["tiles"]) for p in data["pages"]) and not data["has_next"]


def test_a_jump_opens_at_a_day_and_scrolling_up_meets_the_newer_items_once(library: GalleryService) -> None:
    newest = library.page(GalleryFilter(), limit=1).items[0]
    day = (newest.created_at - timedelta(days=40)).date()
    w = window(library, anchor=day_cursor(day, "newest"))
    assert all(item.created_at.date() <= day for item in w.items) and w.has_prev
    first = w.items[0]
    assert library.page(GalleryFilter(), limit=1, before=first.key).items[0].created_at.date() > day
    while w.earlier(library):
        pass
    assert generations(w)[0] == 130 and len(generations(w)) == len(set(generations(w)))  # no item twice
    keys = generations(w)
    assert keys == sorted(keys, reverse=True) and keys == list(range(130, 130 - len(keys), -1))  # nothing skipped
    oldest = window(library, sort="oldest", anchor=day_cursor(day, "oldest"))
    assert all(item.created_at.date() >= day for item in oldest.items)
    assert day_cursor(day, "favourites") is None


def test_the_lightbox_neighbour_crosses_page_boundaries_both_ways(library: GalleryService) -> None:
    w = window(library)
    last = item_key(w.items[-1])
    after = w.neighbour(library, last, +1)  # the next keyset page is loaded for it
    assert parse_key(after)[0] == 120 and len(w.pages) == 2
    for _ in range(ITEMS):  # step to the very end: pages are dropped behind
        step = w.neighbour(library, after, +1)
        if step is None:
            break
        after = step
    assert parse_key(after)[0] == 1 and len(w.pages) <= MAX_PAGES
    assert w.neighbour(library, after, +1) is None  # the last item: stays
    back = after
    for _ in range(129):
        back = w.neighbour(library, back, -1)
    assert parse_key(back)[0] == 130 and w.neighbour(library, back, -1) is None
    assert w.neighbour(library, "999999-1", +1) is None  # a key not in view


def test_tiles_carry_the_thumbnail_prompt_and_badges(library: GalleryService, studio: Studio) -> None:
    w = window(library, chunk=48, filters=GalleryFilter(search="motif"))
    tiles = [t for p in w.data()["pages"] for t in p["tiles"]]
    assert tiles and all("motif" in t["p"] for t in tiles)
    failed = window(library, filters=GalleryFilter(status="failed"))
    shown = [t for p in failed.data()["pages"] for t in p["tiles"]]
    assert [t["k"] for t in shown] == ["98-0", "1-0"]
    assert all(t["err"] == "refused" and t["src"] is None and not t["img"] and t["st"] == "failed" for t in shown)
    fav = window(library, filters=GalleryFilter(favourites=True)).data()["pages"][0]["tiles"]
    assert fav and all(t["fav"] for t in fav)
    src = window(library).data()["pages"][0]["tiles"][0]["src"]
    assert src.startswith("data:image/webp;base64,") if not studio.storage.remote else src.startswith("http")


def test_refresh_after_a_favourite_and_a_delete(library: GalleryService) -> None:
    w = window(library)
    for _ in range(2):
        w.more(library)
    target = w.items[12]
    library.favourite([target.image_id], True)
    library.delete([(w.items[3].generation_id, w.items[3].image_id)])
    w.refresh(library)
    assert len(w.pages) == 3 and w.find(item_key(target)).favourite
    assert generations(w)[:4] == [130, 129, 128, 126] and len(w.items) == 30  # one gone, the next moved up


@pytest.mark.parametrize("raw", ["1-2", "5-0"])
def test_keys_from_the_browser_parse(raw: str) -> None:
    generation, image = parse_key(raw)
    assert f"{generation}-{image or 0}" == raw


@pytest.mark.parametrize("raw", [None, 5, "", "-", "1", "1-", "-1", "0-1", "a-1", "1-b", "²-1", " 1-1", "1-1 ",
                                 "9223372036854775808-1", "1-9223372036854775808", "1" * 50 + "-1", ["1-1"]])
def test_anything_else_from_the_browser_is_no_key(raw) -> None:
    assert parse_key(raw) is None
