"""The Gallery's bulk actions on a selection made in the browser: the keys come back from the page as
plain strings, so each is checked before any row is touched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.errors import StudioError
from studio.services.gallery import GalleryService
from studio.services.gallery_tiles import parse_key

OPS = ("favourite", "unfavourite", "collect", "export", "delete")
MAX_SELECTION = 10_000


@dataclass(frozen=True)
class Selection:
    items: list[tuple[int, int | None]]  # (generation id, image id or None for a request without an image)

    @property
    def image_ids(self) -> list[int]:
        return [image_id for _, image_id in self.items if image_id is not None]


def selection(keys: Any) -> Selection:
    """The items a list of keys from the browser names; anything else in it is ignored."""
    if not isinstance(keys, list):
        return Selection([])
    parsed = {p for p in (parse_key(k) for k in keys[:MAX_SELECTION]) if p is not None}
    return Selection(sorted(parsed, key=lambda p: (p[0], p[1] or 0)))


def act(library: GalleryService, op: str, chosen: Selection, name: str = "") -> str:
    """Do `op` on the selection and say what was done (a StudioError says what to change instead).
    `export` and `delete` are not done here: the page asks first (delete) or offers a download (export)."""
    images = chosen.image_ids
    if op not in OPS:
        raise StudioError(f"Unknown action {op!r}.", "bad_action")
    if not chosen.items:
        raise StudioError("Select some images first (click, Ctrl-click or Shift-click the tiles).", "empty_selection")
    if op in ("favourite", "unfavourite", "collect", "export") and not images:
        raise StudioError("The selection holds only failed requests, which have no image; select images.", "no_images")
    if op == "favourite":
        library.favourite(images, True)
        return f"Marked {len(images)} image(s) as favourites."
    if op == "unfavourite":
        library.favourite(images, False)
        return f"Took {len(images)} image(s) out of the favourites."
    if op == "collect":
        library.add_to_collection(name, images)
        return f"Added {len(images)} image(s) to “{name.strip()}”."
    return ""
