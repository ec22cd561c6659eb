"""Gallery thumbnails: a small WebP made once when an image is saved, stored beside the original.

This module only renders and stores the bytes; when they are made and recorded (a background thread
after each commit, the Gallery's backfill, `doctor --fix`) is `studio/services/thumbnails.py`.

Cost matters because this runs on the save path. Pillow's `draft` lets the JPEG decoder scale by DCT
(a 1024 px JPEG decodes straight to 256 px), `reduce` box-shrinks by a whole factor far faster than a
resampling filter, and `thumbnail` does the last, small step. WebP `method=0` is the fastest encoder
setting; at 256 px the file is a few KB either way.
"""

from __future__ import annotations

import io

from PIL import Image

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
