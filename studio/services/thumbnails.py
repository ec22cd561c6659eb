"""When thumbnails are made and recorded: on one background thread right after a request's rows are
committed (so a request returns as fast as before), one at a time as the Gallery shows an image that has
none, and in bulk by `doctor --fix`. Rendering and storing the bytes is `studio/files/thumbnails.py`."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Sequence

from studio.db.images import ImageRecords
from studio.files.storage import Storage
from studio.files.thumbnails import save_thumbnail

# One worker: thumbnails are small jobs, and a second core is better left to the requests themselves.
# Executor threads are joined at interpreter exit, so a CLI run still leaves its thumbnails behind it.
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-thumbnails")
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def make_thumbnails_soon(storage: Storage, records: ImageRecords, images: Sequence[tuple[int, str]]) -> Future:
    """Make and record the thumbnails of (image id, original path) on the background thread."""

    def work() -> None:
        for image_id, path in images:
            try:
                thumbnail = save_thumbnail(storage, storage.read(path))
                if thumbnail:
                    records.set_thumbnail([image_id], thumbnail)
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


def ensure_thumbnail(storage: Storage, records: ImageRecords, image_id: int, path: str) -> str | None:
    """The thumbnail of one image, made now if it has none yet (the Gallery calls this as it shows it)."""
    if not storage.exists(path):
        return None
    thumbnail = save_thumbnail(storage, storage.read(path))
    if thumbnail:
        records.set_thumbnail([image_id], thumbnail)
    return thumbnail


def backfill_thumbnails(storage: Storage, records: ImageRecords, need: dict[str, list[int]]) -> int:
    """Make thumbnails for {original path: image ids}; returns how many rows got one."""
    made = 0
    for path, ids in need.items():
        try:
            data = storage.read(path)
        except FileNotFoundError:
            continue  # deleted since it was listed
        thumb = save_thumbnail(storage, data)
        if thumb:
            records.set_thumbnail(ids, thumb)
            made += len(ids)
    return made
