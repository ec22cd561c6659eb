"""Checking that bytes are an image the studio can keep, with Pillow: opened and every byte checked.

`Image.verify()` is not enough: for a JPEG it reads no scan data at all, so a JPEG cut to a third passed,
was saved as a success, and then showed as "file missing" in the gallery forever. Every returned image,
edit input and imported file is checked whole here, within the decompression-bomb limit, in the cheapest
way that reads every byte: a JPEG is decoded at 1/8 scale (`draft`: the decoder still reads every byte of
the scan, so a cut or damaged stream fails the same way); a PNG is verified chunk by chunk, each against its
CRC, up to its IEND (a cut or damaged PNG fails, and a full decode would add ~10 ms to every request);
a WebP, which carries no checksum, is decoded in full; a GIF is decoded frame by frame, every frame.
An SVG is not pixels: it is parsed as XML and must be clean of active content (`svgfile.py`); the bytes a
provider returns are cleaned first (`keepable`), so what is stored always passes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from studio.core.errors import StudioError
from studio.files.svgfile import NotSvg, check_svg, looks_like_svg, sanitise_svg

# Decompression-bomb guard: the largest size the API makes is 3840x2160; allow generous headroom
# and refuse anything that would need far more memory to decode.
Image.MAX_IMAGE_PIXELS = 4 * 3840 * 2160
KEPT_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif", "SVG": "svg"}
MAX_GIF_FRAMES = 1000  # the API makes at most 16; far more is a file built to take time, not a picture


class NotAnImage(ValueError):
    """The bytes are not an image Pillow can open."""


class ImageTooLarge(ValueError):
    """More pixels than `Image.MAX_IMAGE_PIXELS`: refused before decoding."""


class DamagedImage(ValueError):
    """An image that opens but does not decode whole: cut short or corrupt."""


@dataclass(frozen=True)
class ImageFacts:
    format: str  # png, jpeg, webp, gif or svg
    width: int
    height: int


def decode_whole(data: bytes) -> tuple[str | None, int, int]:
    """(Pillow's format name, width, height) of bytes that decode in full; raises NotAnImage,
    ImageTooLarge or DamagedImage. An SVG is parsed and checked (Pillow's name for it: "SVG")."""
    if looks_like_svg(data):
        try:
            width, height = check_svg(data)
        except NotSvg:  # not an SVG the studio can keep: unusable, whatever else it is
            raise NotAnImage() from None
        return "SVG", width, height
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ImageTooLarge() from None
    except Exception:  # a kept format's signature that does not open (a WebP cut short) is damaged, not foreign
        raise (DamagedImage() if _kept_signature(data) else NotAnImage()) from None
    with image:
        fmt, (width, height) = image.format, image.size
        if width * height > Image.MAX_IMAGE_PIXELS:  # Pillow only warns below twice the limit
            raise ImageTooLarge()
        try:
            if fmt == "PNG":
                image.verify()
            else:
                if fmt == "JPEG":
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()
                if fmt == "GIF":
                    frames = getattr(image, "n_frames", 1)
                    if frames > MAX_GIF_FRAMES:
                        raise ImageTooLarge()
                    for frame in range(1, frames):
                        image.seek(frame)
                        image.load()
        except (Image.DecompressionBombError, ImageTooLarge):
            raise ImageTooLarge() from None
        except Exception:  # OSError "image file is truncated", SyntaxError, zlib errors, ...
            raise DamagedImage() from None
    return fmt, width, height


def _kept_signature(data: bytes) -> bool:
    return (data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
            or data[:6] in (b"GIF87a", b"GIF89a"))


def keepable(data: bytes, name: str | None = None) -> tuple[bytes, list[str]]:
    """The bytes to keep of an image from outside (a provider's answer, an imported file): an SVG cleaned
    of scripts, handlers, foreign elements and external references (and what was removed); any other
    format as it is. Raises StudioError for an SVG that cannot be cleaned (not XML, a DTD, no size)."""
    if not looks_like_svg(data):
        return data, []
    try:
        clean = sanitise_svg(data)
    except NotSvg as exc:
        message = f"{name} is an SVG the studio cannot keep: {exc}; skipped." if name else f"The provider returned an SVG the studio cannot keep: {exc}."
        raise StudioError(message, "unsafe_svg") from None
    return clean.data, clean.removed


def inspect_image(data: bytes, name: str | None = None) -> ImageFacts:
    """Return what the bytes are, or raise StudioError when they are not an image worth keeping.
    Without `name` the messages speak of the provider's answer; with it, of that file (an import)."""
    if looks_like_svg(data):
        try:
            width, height = check_svg(data)
        except NotSvg as exc:
            message = f"{name} is an SVG the studio cannot keep: {exc}; skipped." if name else f"The provider returned an SVG the studio cannot keep: {exc}."
            raise StudioError(message, "unsafe_svg") from None
        return ImageFacts("svg", width, height)
    try:
        fmt, width, height = decode_whole(data)
    except ImageTooLarge:
        message = f"{name} is too large to open safely; skipped." if name else "The returned image is too large to open safely; it was not kept."
        raise StudioError(message, "image_too_large") from None
    except DamagedImage:
        message = (f"{name} is cut short or damaged: it does not decode whole; skipped." if name else
                   "The provider returned an image that is cut short or damaged (it does not decode whole); nothing was kept.")
        raise StudioError(message, "damaged_image") from None
    except NotAnImage:
        message = f"{name} is not an image (PNG, JPEG, WebP, GIF or SVG); skipped." if name else "The provider returned data that is not an image; nothing was kept."
        raise StudioError(message, "not_an_image") from None
    if fmt not in KEPT_FORMATS:
        message = f"{name} is a {fmt} image; only PNG, JPEG, WebP, GIF and SVG are kept. Skipped." if name else \
            f"The provider returned a {fmt} image; only PNG, JPEG, WebP, GIF and SVG are kept."
        raise StudioError(message, "unsupported_format")
    return ImageFacts(KEPT_FORMATS[fmt], width, height)
