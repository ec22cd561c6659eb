"""Gallery thumbnails: a small WebP made once when an image is saved, stored beside the original.

They are made on one background thread right after the rows are committed (`make_thumbnails_soon`), so
a request returns as fast as before; the Gallery makes any that are still missing when it shows them,
and `python -m studio doctor --fix` rebuilds any a crash left out.

Cost matters because this runs on the save path. Pillow's `draft` lets the JPEG decoder scale by DCT
(a 1024 px JPEG decodes straight to 256 px), `reduce` box-shrinks by a whole factor far faster than a
resampling filter, and `thumbnail` does the last, small step. WebP `method=0` is the fastest encoder
setting; at 256 px the file is a few KB either way.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Sequence

from PIL import Image
from sqlalchemy import Engine

from studio.files.storage import Storage

THUMBNAIL_LONG_SIDE = 256
THUMBNAIL_FOLDER = "thumbs"
THUMBNAIL_QUALITY = 80


def render_thumbnail(data: bytes, long_side: int = THUMBNAIL_LONG_SIDE) -> bytes:
    """WebP bytes of the image scaled to `long_side` on its long side (never enlarged)."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            image.draft("RGB", (long_side, long_side))  # decoder-side scaling; a no-op for other formats
        image.load()
        factor = max(image.size) // long_side
        scaled = image.reduce(factor) if factor > 1 else image
        if scaled.mode not in ("RGB", "RGBA"):
            scaled = scaled.convert("RGBA" if "A" in scaled.getbands() or "transparency" in image.info else "RGB")
        scaled.thumbnail((long_side, long_side), Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        scaled.save(buffer, "WEBP", quality=THUMBNAIL_QUALITY, method=0)
        return buffer.getvalue()


def save_thumbnail(storage: Storage, data: bytes) -> str | None:
    """Store the thumbnail of `data` (content-addressed, so identical images share one) and return its
    path; None when it cannot be made: the original is what must be kept, `doctor --fix` retries later."""
    try:
        return storage.put(render_thumbnail(data), "webp", folder=THUMBNAIL_FOLDER).path
    except Exception:  # a thumbnail is never worth failing a save for
        return None


# One worker: thumbnails are small jobs, and a second core is better left to the requests themselves.
# Executor threads are joined at interpreter exit, so a CLI run still leaves its thumbnails behind it.
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-thumbnails")
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def make_thumbnails_soon(storage: Storage, engine: Engine, images: Sequence[tuple[int, str]]) -> Future:
    """Make and record the thumbnails of (image id, original path) on the background thread."""
    from studio.db.images import ImageRecords  # here: the query module must not need this one

    def work() -> None:
        queries = ImageRecords(engine)
        for image_id, path in images:
            try:
                thumbnail = save_thumbnail(storage, storage.read(path))
                if thumbnail:
                    queries.set_thumbnail([image_id], thumbnail)
            except Exception:  # the image may be deleted meanwhile; the doctor settles what is left
                continue

    future = _pool.submit(work)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _forget(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_thumbnails(timeout_s: float | None = 30) -> None:
    """Block until every thumbnail asked for so far is made (tests, benches, the end of a CLI command)."""
    with _pending_lock:
        pending = list(_pending)
    wait(pending, timeout=timeout_s)
