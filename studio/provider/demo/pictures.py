"""The demo endpoint's pictures: real PNG/JPEG/WebP images drawn by Pillow, coloured by the prompt so
results differ, and the hostile ones (a decompression bomb) the fault switches send."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import zlib
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw

def prompt_colour(prompt: str, index: int) -> tuple[int, int, int]:
    digest = hashlib.sha256(f"{prompt}|{index}".encode()).digest()
    return (digest[0], digest[1], digest[2])


def render_image(prompt: str, size: str, output_format: str, background: str, compression: int | None, index: int, quality: str = "auto") -> bytes:
    """A real image of the requested size and format, coloured by the prompt so results differ."""
    return encode_image(draw_image(prompt, size, output_format, background, index, quality), output_format, compression)


# How many small satellites the demo draws around its disc: the higher the quality, the more detail,
# so a Compare grid of quality tiers shows a visible difference even offline.
DETAIL = {"low": 0, "medium": 8, "high": 24, "auto": 8}


def draw_image(prompt: str, size: str, output_format: str, background: str, index: int, quality: str = "auto") -> Image.Image:
    width, height = (1024, 1024) if size in ("auto", "") else map(int, size.split("x"))
    colour = prompt_colour(prompt, index)
    transparent = background == "transparent" and output_format in ("png", "webp")
    image = Image.new("RGBA" if transparent else "RGB", (width, height), (0, 0, 0, 0) if transparent else colour)
    draw = ImageDraw.Draw(image)
    inset = min(width, height) // 6
    accent = (255 - colour[0], 255 - colour[1], 255 - colour[2], 255)
    draw.ellipse((inset, inset, width - inset, height - inset), fill=accent)
    satellites = DETAIL.get(quality, 8)
    centre_x, centre_y, radius, dot = width / 2, height / 2, min(width, height) * 0.42, max(4, min(width, height) // 40)
    for k in range(satellites):
        angle = 2 * math.pi * k / satellites
        x, y = centre_x + radius * math.cos(angle), centre_y + radius * math.sin(angle)
        draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=(255, 255, 255, 255))
    draw.text((16, 16), f"demo #{index + 1} ({quality}): {prompt[:60]}", fill=(255, 255, 255, 255))
    return image


def draw_edit(prompt: str, sources: list[Image.Image], mask: Image.Image | None, size: str, index: int) -> Image.Image:
    """The first source with the mask's transparent area (or, without a mask, a centre patch) painted in
    the prompt's colour; the other sources appear as thumbnails along the bottom edge."""
    base = sources[0].convert("RGBA")
    if size not in ("auto", ""):
        base = base.resize(tuple(map(int, size.split("x"))))
    colour = (*prompt_colour(prompt, index), 255)
    if mask is not None:
        change = mask.convert("RGBA").getchannel("A").resize(base.size, Image.Resampling.NEAREST).point(lambda a: 255 if a == 0 else 0)
    else:
        change = Image.new("L", base.size, 0)
        w, h = base.size
        ImageDraw.Draw(change).rectangle((w // 4, h // 4, w * 3 // 4, h * 3 // 4), fill=255)
    base.paste(Image.new("RGBA", base.size, colour), (0, 0), change)
    thumb = max(8, min(base.size) // 8)
    for position, other in enumerate(sources[1:]):
        base.paste(other.convert("RGBA").resize((thumb, thumb)), (position * thumb, base.size[1] - thumb))
    return base


def encode_image(image: Image.Image, output_format: str, compression: int | None) -> bytes:
    if output_format == "jpeg" or image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    options: dict[str, Any] = {}
    if output_format in ("jpeg", "webp"):
        options["quality"] = compression if compression is not None else 90
    if output_format == "png":
        options["compress_level"] = 1  # fast: the demo stands in for a remote model, not a PNG optimiser
    image.save(buffer, format=output_format.upper(), **options)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def decompression_bomb() -> bytes:
    """A small PNG whose header claims 30000x30000 pixels (~900 MB decoded), far past Pillow's guard."""
    buffer = io.BytesIO()
    Image.new("1", (16, 16)).save(buffer, format="PNG")
    png = bytearray(buffer.getvalue())
    # IHDR is the first chunk: 8-byte signature, 4-byte length, b"IHDR", then width and height.
    png[16:24] = struct.pack(">II", 30000, 30000)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)
