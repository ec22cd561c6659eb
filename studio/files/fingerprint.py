"""A perceptual fingerprint of an image: a 256-bit pHash (imagehash, 16x16 of the low frequencies of its
greyscale), so two pictures can be compared by how many of those bits differ. 0 bits is the same picture;
re-encoding or scaling moves a few bits; unrelated pictures differ in about half (128) of them. 256 bits
rather than the usual 64 so that added detail (more small shapes, as a dearer tier draws) moves the score.

Why a perceptual hash and not SSIM: imagehash needs only Pillow, numpy, scipy and PyWavelets, where
scikit-image brings much more, and a 64-bit hash is cheap to keep per image and to compare. The image is
shrunk first (Pillow's draft/reduce, as for thumbnails) because pHash looks at a 32x32 greyscale anyway.
"""

from __future__ import annotations

import io

import imagehash
from PIL import Image

from studio.files.svgfile import looks_like_svg
from studio.files.thumbnails import render_thumbnail

HASH_SIZE = 16  # a 16x16 hash: 256 bits
HASH_BITS = HASH_SIZE * HASH_SIZE
WORKING_SIDE = 256  # shrink to about this before hashing: the hash looks at 64x64
Fingerprint = imagehash.ImageHash  # what the services layer keeps, without importing imagehash itself


def perceptual_hash(data: bytes) -> Fingerprint:
    """The pHash of an encoded image (PNG, JPEG, WebP or GIF bytes: a GIF's first frame; an SVG drawn at
    256 px). Transparent pixels count as black."""
    if looks_like_svg(data):
        data = render_thumbnail(data, WORKING_SIDE)
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "JPEG":
            image.draft("L", (WORKING_SIDE, WORKING_SIDE))  # decoder-side scaling
        image.load()
        if image.mode == "P":  # a GIF's palette: `reduce` takes no palette image
            image = image.convert("RGBA")
        factor = max(image.size) // WORKING_SIDE
        small = image.reduce(factor) if factor > 1 else image
        if small.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            flat = Image.new("RGB", small.size)
            rgba = small.convert("RGBA")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            small = flat
        return imagehash.phash(small, hash_size=HASH_SIZE)


def bits_apart(a: Fingerprint, b: Fingerprint) -> int:
    """How many of the 256 bits differ (the Hamming distance)."""
    return int(a - b)
