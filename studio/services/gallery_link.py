"""The Gallery page's view (search, filters, sort, page size, cursor) to and from URL query parameters,
so a rerun, a reload or a shared link reopens the same view. No Streamlit here: plain mappings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Mapping

from studio.db.browse import PAGE_SIZES, SORTS, STATUSES, GalleryFilter, GalleryItem, Page

# The browse types the Gallery page works with, offered here so that pages need not import the db layer.
__all__ = ["PAGE_SIZES", "SORTS", "STATUSES", "GalleryFilter", "GalleryItem", "Page", "GalleryView", "parse_view", "view_params"]

# URL name for each filter field (short, stable: they end up in shared links).
FILTER_PARAMS = {
    "search": "q", "model": "model", "quality": "quality", "size": "size", "background": "background",
    "output_format": "output_format", "status": "status", "date_from": "from", "date_to": "to",
    "favourites": "fav", "collection_id": "collection", "compare_group_id": "compare", "lineage": "lineage",
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
        if not self.open:
            return None
        generation_id, _, image_id = self.open.partition("-")
        return int(generation_id), int(image_id) or None

    def first_page(self) -> "GalleryView":
        return replace(self, after=None, before=None, page=1)


def parse_view(params: Mapping[str, str]) -> tuple[GalleryView, list[str]]:
    """The view a URL describes, and a note for each parameter that was unusable (and ignored)."""
    problems: list[str] = []
    values: dict[str, object] = {}
    for name, key in FILTER_PARAMS.items():
        raw = params.get(key)
        if raw is None or raw == "":
            continue
        if name in ("date_from", "date_to"):
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                problems.append(f"The date {raw!r} in the link is not YYYY-MM-DD; that filter was dropped.")
        elif name == "favourites":
            values[name] = raw in ("1", "true", "yes")
        elif name in ("collection_id", "compare_group_id", "lineage"):
            if raw.isdigit():
                values[name] = int(raw)
            else:
                problems.append(f"{key} {raw!r} in the link is not a number; that filter was dropped.")
        elif name == "status" and raw not in STATUSES:
            problems.append(f"status {raw!r} is not one of {', '.join(STATUSES)}; that filter was dropped.")
        else:
            values[name] = raw
    filters = GalleryFilter(**values)  # type: ignore[arg-type]
    sort = params.get("sort", default_sort(filters))
    if sort not in SORTS:
        problems.append(f"sort {sort!r} is not one of {', '.join(SORTS)}; showing {SORTS[default_sort(filters)].lower()}.")
        sort = default_sort(filters)
    per_page = int(params["per"]) if params.get("per", "").isdigit() and int(params["per"]) in PAGE_SIZES else PAGE_SIZES[0]
    page = int(params["page"]) if params.get("page", "").isdigit() and int(params["page"]) > 0 else 1
    opened = params.get("open") or None
    if opened and not re.fullmatch(r"\d+-\d+", opened):
        problems.append("The image in the link is not one the gallery knows; it was not opened.")
        opened = None
    view = GalleryView(filters, sort, per_page, params.get("after") or None, params.get("before") or None, page, opened)  # type: ignore[arg-type]
    return view, problems


def view_params(view: GalleryView) -> dict[str, str]:
    """Query parameters for a view; defaults are left out so links stay short."""
    params: dict[str, str] = {}
    for name, key in FILTER_PARAMS.items():
        value = getattr(view.filters, name)
        if value is None or value == "" or value is False:
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
