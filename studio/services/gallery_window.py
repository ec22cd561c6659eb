"""The Gallery's scrolling window: the few keyset pages around what the browser shows, never the whole
gallery. Scrolling down appends the next page (`more`), scrolling up past a dropped page or a jump
prepends the one before (`earlier`); beyond MAX_PAGES the far end is dropped, so the tiles held here and
in the browser stay bounded however far someone scrolls (a million images: a jump by date, not a
scroll bar sized to the gallery). Each page is turned into tiles once, when it is loaded, so a rerun
of the grid does no work per thumbnail. No Streamlit here: the page keeps one window in its session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from studio.core.browsing import GalleryFilter, GalleryItem, encode_cursor
from studio.services.gallery import GalleryService
from studio.services.gallery_tiles import item_key, tiles
from studio.services.results import commits_so_far

CHUNK = 48  # images per keyset page: two screenfuls of dense tiles
MAX_PAGES = 5  # pages kept in the window (and in the browser's DOM)


@dataclass
class WindowPage:
    index: int  # position relative to where the window was opened (negative: above it)
    start: str | None  # the cursor this page follows (None: the gallery's first item)
    items: list[GalleryItem]
    tiles: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class GalleryWindow:
    """The pages of one view (filters + sort, opened at `anchor`: a cursor, or None for the top)."""

    filters: GalleryFilter
    sort: str
    chunk: int = CHUNK
    anchor: str | None = None
    pages: list[WindowPage] = field(default_factory=list)
    epoch: int = 0  # bumped whenever the pages are replaced rather than extended
    stale: bool = False  # rows changed (favourite, delete): re-read the pages on the next show
    seen: int = 0  # this process's gallery changes when the pages were read (a job that lands moves it on)

    # --- loading -------------------------------------------------------------------------------

    def open(self, library: GalleryService) -> "GalleryWindow":
        self.seen = commits_so_far()  # before the read: a commit during it is read again next time
        self.pages = [self._load(library, 0, self.anchor)]
        self.epoch += 1
        return self

    def _load(self, library: GalleryService, index: int, start: str | None) -> WindowPage:
        page = library.page(self.filters, self.sort, self.chunk, after=start)
        return WindowPage(index, start, page.items, tiles(library, page.items), page.next_cursor)

    @property
    def has_next(self) -> bool:
        return bool(self.pages and self.pages[-1].next_cursor)

    @property
    def has_prev(self) -> bool:
        return bool(self.pages and self.pages[0].start)

    def more(self, library: GalleryService, after_index: int | None = None) -> bool:
        """Append the next page (dropping the first beyond MAX_PAGES). `after_index`: the last page the
        browser had when it asked; a repeated or late request for a page already here does nothing."""
        if not self.has_next or (after_index is not None and after_index != self.pages[-1].index):
            return False
        last = self.pages[-1]
        self.pages.append(self._load(library, last.index + 1, last.next_cursor))
        del self.pages[:-MAX_PAGES]
        return True

    def earlier(self, library: GalleryService, before_index: int | None = None) -> bool:
        """Prepend the page before the first (dropping the last beyond MAX_PAGES)."""
        if not self.has_prev or (before_index is not None and before_index != self.pages[0].index):
            return False
        first = self.pages[0]
        if not first.items:
            return False
        page = library.page(self.filters, self.sort, self.chunk, before=first.items[0].key)
        held = {item.key for p in self.pages for item in p.items}
        items = [item for item in page.items if item.key not in held]  # the first page may overlap
        if not items:
            first.start = None
            return False
        start = None if page.at_start else self._predecessor(library, items[0])
        new = WindowPage(first.index - 1, start, items, tiles(library, items), first.start)
        first.start = items[-1].key
        self.pages.insert(0, new)
        del self.pages[MAX_PAGES:]
        return True

    def _predecessor(self, library: GalleryService, item: GalleryItem) -> str | None:
        """The cursor just before `item` (its predecessor's key), or None when it is the first."""
        page = library.page(self.filters, self.sort, 1, before=item.key)
        return None if not page.items or page.items[0].key == item.key else page.items[0].key

    @property
    def behind(self) -> bool:
        """Rows changed since the pages were read: a job landed (its tile was pending, or is new), or a delete."""
        return self.stale or commits_so_far() != self.seen

    def refresh(self, library: GalleryService) -> None:
        """Re-read the pages from where the window starts (after favourites changed, items went or came)."""
        self.seen = commits_so_far()
        count = max(1, len(self.pages))
        first = self.pages[0] if self.pages else WindowPage(0, self.anchor, [], [], None)
        pages = [self._load(library, first.index, first.start)]
        while len(pages) < count and pages[-1].next_cursor:
            pages.append(self._load(library, pages[-1].index + 1, pages[-1].next_cursor))
        self.pages = pages
        self.stale = False

    # --- what is held --------------------------------------------------------------------------

    @property
    def items(self) -> list[GalleryItem]:
        return [item for page in self.pages for item in page.items]

    def find(self, key: str) -> GalleryItem | None:
        return next((item for item in self.items if item_key(item) == key), None)

    def neighbour(self, library: GalleryService, key: str, step: int) -> str | None:
        """The item `step` (±1) from `key` in this view, loading the next or previous page when `key`
        is at an end of the window; None at the gallery's first or last item (or for an unknown key)."""
        for _ in range(2):
            keys = [item_key(item) for item in self.items]
            if key not in keys:
                return None
            at = keys.index(key) + step
            if 0 <= at < len(keys):
                return keys[at]
            if not (self.more(library) if step > 0 else self.earlier(library)):
                return None
        return None

    def data(self) -> dict[str, Any]:
        """What the grid element receives: the pages' tiles, and whether there is more each way."""
        return {
            "epoch": self.epoch,
            "pages": [{"index": p.index, "tiles": p.tiles} for p in self.pages],
            "has_next": self.has_next,
            "has_prev": self.has_prev,
            "count": sum(len(p.items) for p in self.pages),
        }


def day_cursor(day: date, sort: str) -> str | None:
    """A cursor that opens the view at `day`: newest first from the end of that day, oldest first
    from its start. Favourites first has no single date order: None (open at the top)."""
    if sort == "newest":
        return encode_cursor(0, datetime.combine(day + timedelta(days=1), time(), timezone.utc), 0, -1)
    if sort == "oldest":
        return encode_cursor(0, datetime.combine(day, time(), timezone.utc), 0, -1)
    return None
