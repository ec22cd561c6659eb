"""Gallery thumbnails: a small WebP made once when an image is saved, stored beside the original.

This module only renders and stores the bytes; when they are made and recorded (a background thread
after each commit, the Gallery's backfill, `doctor --fix`) is `studio/services/thumbnails.py`.

Cost matters because this runs on the save path. Pillow's `draft` lets the JPEG decoder scale by DCT
(a 1024 px JPEG decodes straight to 256 px), `reduce` box-shrinks by a whole factor far faster than a
resampling filter, and `thumbnail` does the last, small step. WebP `method=0` is the fastest encoder
setting; at 256 px the file is a few KB either way.

A GIF's thumbnail is an animated WebP of its frames (at most MAX_THUMBNAIL_FRAMES of them), so the gallery
shows it moving. An SVG's is rasterised by CairoSVG from the already-cleaned file, with a URL fetcher that
refuses every fetch (the file and only the file is drawn), straight to the thumbnail's size.
"""

from __future__ import annotations

import io

from cairosvg.surface import PNGSurface
from PIL import Image, ImageSequence

from studio.files.storage import Storage
from studio.files.svgfile import looks_like_svg, sanitise_svg

THUMBNAIL_LONG_SIDE = 256
THUMBNAIL_FOLDER = "thumbs"
THUMBNAIL_QUALITY = 80
MAX_THUMBNAIL_FRAMES = 32


_NOTHING = {"image/svg+xml": b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', "text/css": b""}


def _no_fetch(url: str, resource_type: str) -> bytes:
    """CairoSVG's fetcher: nothing is fetched (no URL, no local file: an `<image>` without href resolves to
    the working folder). It gets an empty document, style sheet or a blank pixel, so the rest is drawn."""
    if resource_type in _NOTHING:
        return _NOTHING[resource_type]
    buffer = io.BytesIO()
    Image.new("RGBA", (1, 1), (0, 0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def rasterise_svg(data: bytes, long_side: int) -> Image.Image:
    """The SVG drawn at `long_side` pixels on its long side (cleaned again first: never trust a stored file)."""
    clean = sanitise_svg(data)
    scale = long_side / max(clean.width, clean.height)
    png = PNGSurface.convert(bytestring=clean.data, output_width=max(1, round(clean.width * scale)),
                           output_height=max(1, round(clean.height * scale)), unsafe=False, url_fetcher=_no_fetch)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.copy()


def _frame(image: Image.Image, long_side: int, alpha: bool) -> Image.Image:
    frame = image.convert("RGBA" if alpha else "RGB")  # the palette applied; `reduce` takes no palette image
    factor = max(frame.size) // long_side
    if factor > 1:
        frame = frame.reduce(factor)
    frame.thumbnail((long_side, long_side), Image.Resampling.BILINEAR)
    return frame


def _animated_thumbnail(image: Image.Image, long_side: int) -> bytes:
    frames, durations = [], []
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= MAX_THUMBNAIL_FRAMES:
            break
        durations.append(int(frame.info.get("duration") or 100))
        frames.append(_frame(frame, long_side, "transparency" in frame.info))
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   quality=THUMBNAIL_QUALITY, method=0)
    return buffer.getvalue()


def render_thumbnail(data: bytes, long_side: int = THUMBNAIL_LONG_SIDE) -> bytes:
    """WebP bytes of the image scaled to `long_side` on its long side (never enlarged; an SVG is drawn at
    that size); an animated WebP for a GIF of several frames."""
    if looks_like_svg(data):
        buffer = io.BytesIO()
        rasterise_svg(data, long_side).save(buffer, "WEBP", quality=THUMBNAIL_QUALITY, method=0)
        return buffer.getvalue()
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "GIF" and getattr(image, "n_frames", 1) > 1:
            return _animated_thumbnail(image, long_side)
        if image.format == "JPEG":
            image.draft("RGB", (long_side, long_side))  # decoder-side scaling; a no-op for other formats
        image.load()
        source = image.convert("RGBA") if image.mode == "P" else image  # a palette (a GIF's): `reduce` takes none
        factor = max(source.size) // long_side
        scaled = source.reduce(factor) if factor > 1 else source
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
