"""What browsing the gallery speaks in, shared by the records that run the queries, the services and the
pages: the filters, one item, a page, and the keyset cursor that says where a page ends (an opaque,
URL-safe token: the sort key of the last item seen)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from studio.core.errors import StudioError

SORTS = {"newest": "Newest first", "oldest": "Oldest first", "favourites": "Favourites first"}
PAGE_SIZES = (24, 48, 96)
STATUSES = ("succeeded", "failed", "pending")
SEARCH_MODES = ("words", "meaning")  # how `search` is read: its words, or what it describes


@dataclass(frozen=True)
class GalleryFilter:
    search: str = ""
    model: str | None = None
    quality: str | None = None
    size: str | None = None
    background: str | None = None
    output_format: str | None = None
    complexity: str | None = None  # gpt-image-2.6's complexity, as sent
    frame_count: int | None = None  # the frames a gif was asked for
    status: str | None = None  # None: every status
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    favourites: bool = False
    collection_id: int | None = None
    compare_group_id: int | None = None  # the generations of one comparison (the Compare page's grid)
    lineage: int | None = None  # an image whose lineage (originals, edits of it) to show; resolved into image_ids
    image_ids: tuple[int, ...] | None = None  # only these images (not part of the URL)
    mode: str = "words"  # one of SEARCH_MODES; "meaning" ranks by what the prompts describe, closest first
    like: int | None = None  # a generation whose nearest in meaning to show, closest first ("more like this")

    def is_empty(self) -> bool:
        return self == GalleryFilter()


@dataclass(frozen=True)
class GalleryItem:
    generation_id: int
    image_id: int | None
    batch_index: int | None
    created_at: datetime
    status: str
    prompt: str
    model: str
    thumbnail_path: str | None
    path: str | None
    favourite: bool
    width: int | None
    height: int | None
    format: str | None
    error_message: str | None
    segment: int = 0  # which walk of the sort the item came from

    @property
    def key(self) -> str:
        return encode_cursor(self.segment, self.created_at, self.generation_id, -1 if self.batch_index is None else self.batch_index)


@dataclass(frozen=True)
class Page:
    items: list[GalleryItem]
    next_cursor: str | None  # pass as `after` for the next page
    prev_cursor: str | None  # pass as `before` for the previous page
    at_start: bool = field(default=False)


def encode_cursor(segment: int, created_at: datetime, generation_id: int, batch: int) -> str:
    raw = json.dumps([segment, created_at.isoformat(), generation_id, batch], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_at(moment: datetime, sort: str = "newest") -> str:
    """A cursor for "jump to date": passed as `after`, the page starts at `moment` — newest first, the
    items made at or before it; oldest first, at or after it; favourites first, the favourites made at or
    before it, then the rest."""
    if sort == "oldest":
        return encode_cursor(0, moment, 0, -1)  # ids start at 1: every item at `moment` is past (moment, 0)
    return encode_cursor(0, moment, 2**31 - 1, -1)  # the largest id a row can have


def decode_cursor(cursor: str) -> tuple[int, datetime, int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        segment, created_at, generation_id, batch = json.loads(raw)
        return int(segment), datetime.fromisoformat(created_at), int(generation_id), int(batch)
    except Exception:
        raise StudioError("The page link is damaged; the gallery went back to the first page.", "bad_cursor") from None
