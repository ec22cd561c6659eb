"""The Gallery page's view (search, filters, sort, page size, cursor) to and from URL query parameters,
so a rerun, a reload or a shared link reopens the same view. No Streamlit here: plain mappings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Mapping

from studio.core.errors import StudioError
from studio.core.link_values import MAX_ID, parse_day, parse_id, parse_number
from studio.core.browsing import PAGE_SIZES, SEARCH_MODES, SORTS, STATUSES, GalleryFilter, decode_cursor

# The browse types the Gallery page works with, offered here so that pages need not import the db layer.
MAX_PAGE = 1_000_000  # only shown to the user; the cursor selects the rows

# URL name for each filter field (short, stable: they end up in shared links).
FILTER_PARAMS = {
    "search": "q", "model": "model", "quality": "quality", "size": "size", "background": "background",
    "output_format": "output_format", "complexity": "complexity", "frame_count": "frames", "status": "status", "date_from": "from", "date_to": "to",
    "favourites": "fav", "collection_id": "collection", "compare_group_id": "compare", "lineage": "lineage",
    "mode": "mode", "like": "like",
}


def default_sort(filters: GalleryFilter) -> str:
    """Newest first; a lineage reads from the original to its edits, so oldest first there."""
    return "oldest" if filters.lineage is not None else "newest"


@dataclass(frozen=True)
class GalleryView:
    filters: GalleryFilter = field(default_factory=GalleryFilter)
    sort: str = "newest"
    per_page: int = PAGE_SIZES[0]
    after: str | None = None
    before: str | None = None
    page: int = 1  # shown to the user; the cursor is what selects the rows
    open: str | None = None  # the item whose detail is open: "generation_id-image_id" (0: no image)

    @property
    def opened(self) -> tuple[int, int | None] | None:
        """The open item as (generation id, image id or None for a failed request), or None."""
        return _opened(self.open) if self.open else None

    def first_page(self) -> "GalleryView":
        return replace(self, after=None, before=None, page=1)


def parse_view(params: Mapping[str, str]) -> tuple[GalleryView, list[str]]:
    """The view a URL describes, and a note for each parameter that was unusable (and ignored). Every
    number and date goes through studio.core.link_values: ASCII digits, bounded, never an exception."""
    problems: list[str] = []
    values: dict[str, object] = {}
    for name, key in FILTER_PARAMS.items():
        raw = params.get(key)
        if raw is None or raw == "":
            continue
        value: object = raw
        problem = None
        if name in ("date_from", "date_to"):
            value, problem = parse_day(raw, key)
        elif name == "favourites":
            value = raw in ("1", "true", "yes")
        elif name in ("collection_id", "compare_group_id", "lineage", "like"):
            value, problem = parse_id(raw, key)
        elif name == "mode" and raw not in SEARCH_MODES:
            value, problem = None, f"mode {_quoted(raw)} is not one of {', '.join(SEARCH_MODES)}; searching by words."
        elif name == "frame_count":
            value, problem = parse_number(raw, key, 2, 16)
        elif name == "status" and raw not in STATUSES:
            value, problem = None, f"status {_quoted(raw)} is not one of {', '.join(STATUSES)}; that filter was dropped."
        if problem:
            problems.append(problem)
        elif value is not None:
            values[name] = value
    filters = GalleryFilter(**values)  # type: ignore[arg-type]
    sort = params.get("sort", default_sort(filters))
    if sort not in SORTS:
        problems.append(f"sort {_quoted(sort)} is not one of {', '.join(SORTS)}; showing {SORTS[default_sort(filters)].lower()}.")
        sort = default_sort(filters)
    per_page, problem = parse_number(params.get("per"), "per", 1, MAX_ID)
    if problem:
        problems.append(problem)
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]  # a well-formed size not offered: the default
    page, problem = parse_number(params.get("page"), "page", 1, MAX_PAGE)
    if problem:
        problems.append(problem)
    opened = params.get("open") or None
    if opened and _opened(opened) is None:
        problems.append("The image in the link is not one the gallery knows; it was not opened.")
        opened = None
    view = GalleryView(filters, sort, per_page, params.get("after") or None, params.get("before") or None, page or 1, opened)  # type: ignore[arg-type]
    return view, problems


def _quoted(raw: str) -> str:
    """A word from a link, quoted for a message: whole when short, else its first 80 characters."""
    return repr(raw if len(raw) <= 80 else raw[:80] + "…")


def _opened(raw: str) -> tuple[int, int | None] | None:
    """"generation-image" (image 0: a failed request without one), both ASCII numbers within an id's range."""
    generation, dash, image = raw.partition("-")
    generation_id, problem = parse_id(generation, "open")
    image_id, image_problem = parse_number(image, "open", 0, MAX_ID)
    if not dash or problem or image_problem or generation_id is None or image_id is None:
        return None
    return generation_id, image_id or None


def check_cursors(view: GalleryView) -> tuple[GalleryView, str | None]:
    """The view with its page cursors if they can be used, else from the first page with a note. A cursor
    is opaque in the URL, so one edited by hand may hold numbers past what the database can compare."""
    for cursor in (view.after, view.before):
        if cursor is None:
            continue
        try:
            numbers = [n for i, n in enumerate(decode_cursor(cursor)) if i != 1]
        except StudioError as exc:
            return view.first_page(), exc.message
        if not all(-1 <= n <= MAX_ID for n in numbers):
            return view.first_page(), "The page link is damaged; the gallery went back to the first page."
    return view, None


def view_params(view: GalleryView) -> dict[str, str]:
    """Query parameters for a view; defaults are left out so links stay short."""
    params: dict[str, str] = {}
    for name, key in FILTER_PARAMS.items():
        value = getattr(view.filters, name)
        if value is None or value == "" or value is False or (name == "mode" and value == GalleryFilter.mode):
            continue
        params[key] = "1" if value is True else value.isoformat() if isinstance(value, date) else str(value)
    if view.sort != default_sort(view.filters):
        params["sort"] = view.sort
    if view.per_page != PAGE_SIZES[0]:
        params["per"] = str(view.per_page)
    if view.after:
        params["after"] = view.after
    if view.before:
        params["before"] = view.before
    if view.page > 1:
        params["page"] = str(view.page)
    if view.open:
        params["open"] = view.open
    return params
