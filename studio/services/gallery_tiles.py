"""What the Gallery's grid element shows for each item: a tile (key, thumbnail source, prompt, date,
badges), and the thumbnail source itself, delivered cheaply.

A local thumbnail travels inside the page's own (signed-in) connection as a `data:` URI: nothing is
served over HTTP, so a browser that has not signed in gets no image, and no URL can be guessed. Its path
is content-addressed (the sha256 of the bytes is in the name), so the URI made from a path never goes
stale and is kept in a bounded, process-wide cache: a warm page reads no file. In object storage the
source is a presigned URL (the bucket's own signature, valid for half an hour) the browser loads
straight from the bucket."""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any, Iterable

from studio.core.browsing import GalleryItem
from studio.core.link_values import MAX_ID
from studio.services.gallery import GalleryService
from studio.services.gallery_choices import edit_captions

PROMPT_CHARS = 300  # what a tile's hover shows; the lightbox has the whole prompt
ERROR_CHARS = 160
CACHE_BYTES = 48 * 1024 * 1024  # the data URIs kept in memory (a 256 px WebP is a few KB)
MIME = {"webp": "image/webp", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}


def item_key(item: GalleryItem) -> str:
    """"generation-image" (image 0: a request without an image): the key the browser and the URL use."""
    return f"{item.generation_id}-{item.image_id or 0}"


def parse_key(key: Any) -> tuple[int, int | None] | None:
    """(generation id, image id or None) from a key the browser sent back, or None if it is not one."""
    if not isinstance(key, str) or len(key) > 41:
        return None
    generation, dash, image = key.partition("-")
    if not dash or not generation.isascii() or not generation.isdigit() or not image.isascii() or not image.isdigit():
        return None
    generation_id, image_id = int(generation), int(image)
    if not 1 <= generation_id <= MAX_ID or image_id > MAX_ID:
        return None
    return generation_id, image_id or None


class _UriCache:
    """Path -> data URI, least recently used out first once the total passes `limit` bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.uris: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self.lock:
            uri = self.uris.get(key)
            if uri is not None:
                self.uris.move_to_end(key)
            return uri

    def put(self, key: str, uri: str) -> None:
        with self.lock:
            if key in self.uris:
                return
            self.uris[key] = uri
            self.size += len(uri)
            while self.size > self.limit and self.uris:
                _, old = self.uris.popitem(last=False)
                self.size -= len(old)


_cache = _UriCache(CACHE_BYTES)


def thumbnail_src(library: GalleryService, image_id: int | None, path: str | None, thumbnail_path: str | None) -> str | None:
    """The thumbnail's source for the browser (a data URI, or a presigned URL in object storage), made
    now if the image has none yet; None when the image's file is gone."""
    storage = library.storage
    if storage.remote:
        return library.thumbnail_source(image_id, path, thumbnail_path)
    if thumbnail_path:
        cached = _cache.get(f"{storage.url}\0{thumbnail_path}")
        if cached is not None:
            return cached
        uri = _data_uri(library, thumbnail_path)
        if uri is not None:
            return uri
    if image_id is None or not path:
        return None
    made = library.ensure_thumbnail(image_id, path)  # a backfill, one image at a time
    return _data_uri(library, made) if made else None


def _data_uri(library: GalleryService, thumbnail_path: str) -> str | None:
    try:
        data = library.storage.read(thumbnail_path)
    except OSError:
        return None
    mime = MIME.get(thumbnail_path.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    _cache.put(f"{library.storage.url}\0{thumbnail_path}", uri)
    return uri


def tiles(library: GalleryService, items: Iterable[GalleryItem]) -> list[dict[str, Any]]:
    """One tile per item, in order: plain values only (they are sent to the browser as JSON and shown
    as text, never as HTML)."""
    items = list(items)
    edits = edit_captions(library.studio, {item.generation_id for item in items})
    shown = []
    for item in items:
        src = thumbnail_src(library, item.image_id, item.path, item.thumbnail_path) if item.image_id else None
        prompt = item.prompt if len(item.prompt) <= PROMPT_CHARS else item.prompt[:PROMPT_CHARS] + "…"
        tile: dict[str, Any] = {
            "k": item_key(item), "src": src, "p": prompt, "m": item.model, "st": item.status,
            "d": f"{item.created_at:%Y-%m-%d %H:%M}", "fav": bool(item.favourite), "img": item.image_id is not None,
        }
        if item.width and item.height:
            tile["wh"] = f"{item.width}×{item.height}"
        if item.generation_id in edits:
            tile["ed"] = edits[item.generation_id]
        if item.image_id is not None and src is None:
            tile["miss"] = True  # the file is gone: `python -m studio doctor` settles it
        if item.status != "succeeded":
            tile["err"] = (item.error_message or f"{item.status}: no image")[:ERROR_CHARS]
        shown.append(tile)
    return shown
