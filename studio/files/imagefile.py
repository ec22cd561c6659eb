"""Checking that bytes are an image the studio can keep, with Pillow."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from studio.core.errors import StudioError

# Decompression-bomb guard: the largest size the API makes is 3840x2160; allow generous headroom
# and refuse anything that would need far more memory to decode.
Image.MAX_IMAGE_PIXELS = 4 * 3840 * 2160
KEPT_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


@dataclass(frozen=True)
class ImageFacts:
    format: str  # png, jpeg or webp
    width: int
    height: int


def inspect_image(data: bytes) -> ImageFacts:
    """Return what the bytes are, or raise StudioError when they are not an image worth keeping."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            image.verify()
    except Image.DecompressionBombError:
        raise StudioError("The returned image is too large to open safely; it was not kept.", "image_too_large") from None
    except Exception:
        raise StudioError("The provider returned data that is not an image; nothing was kept.", "not_an_image") from None
    if fmt not in KEPT_FORMATS:
        raise StudioError(f"The provider returned a {fmt} image; only PNG, JPEG and WebP are kept.", "unsupported_format")
    return ImageFacts(KEPT_FORMATS[fmt], width, height)
