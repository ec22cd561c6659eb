"""The demo endpoint's pictures: real PNG/JPEG/WebP/GIF images drawn by Pillow (a GIF animated over
`frame_count` frames) and real SVG documents, coloured by the prompt so results differ, and the hostile ones
(a decompression bomb, an SVG carrying a script) the fault switches send."""

from __future__ import annotations

import hashlib
import io
import math
import struct
import zlib
from functools import lru_cache
from html import escape
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
DETAIL = {"low": 0, "medium": 8, "high": 24, "xhigh": 40, "max": 64, "auto": 8}
# How many rings gpt-image-2.6's `complexity` draws inside the disc: a visible difference per level.
RINGS = {"low": 1, "medium": 3, "high": 6}
DEFAULT_FRAMES = 9  # the API's default frame_count for gif output
FRAME_MS = 200  # the API's default frame_duration_ms


def draw_image(prompt: str, size: str, output_format: str, background: str, index: int, quality: str = "auto",
               complexity: str | None = None) -> Image.Image:
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
    rings = RINGS.get(complexity or "", 0)
    for ring in range(1, rings + 1):
        r = (min(width, height) / 2 - inset) * ring / (rings + 1)
        draw.ellipse((centre_x - r, centre_y - r, centre_x + r, centre_y + r), outline=colour, width=max(2, dot // 2))
    draw.text((16, 16), f"demo #{index + 1} ({quality}{', ' + complexity if complexity else ''}): {prompt[:60]}", fill=(255, 255, 255, 255))
    return image


def animate(picture: Image.Image, frame_count: int | None) -> list[Image.Image]:
    """The frames of a demo GIF: the picture with a white marker going once round the disc."""
    frames = []
    width, height = picture.size
    count = frame_count or DEFAULT_FRAMES
    radius, dot = min(width, height) * 0.3, max(6, min(width, height) // 20)
    for k in range(count):
        frame = picture.convert("RGB")
        angle = 2 * math.pi * k / count
        x, y = width / 2 + radius * math.cos(angle), height / 2 + radius * math.sin(angle)
        ImageDraw.Draw(frame).ellipse((x - dot, y - dot, x + dot, y + dot), fill=(255, 255, 255))
        frames.append(frame)
    return frames


def encode_gif(picture: Image.Image, frame_count: int | None) -> bytes:
    """A real animated GIF of `frame_count` frames (the API's default 9), looping."""
    first, *rest = animate(picture, frame_count)
    buffer = io.BytesIO()
    first.save(buffer, format="GIF", save_all=True, append_images=rest, duration=FRAME_MS, loop=0, disposal=1)
    return buffer.getvalue()


def encode_svg(picture: Image.Image, prompt: str) -> bytes:
    """A real SVG document drawn from the picture's colours: a background, the disc, a caption."""
    width, height = picture.size
    rgb = picture.convert("RGB")
    background, accent = rgb.getpixel((1, height - 2)), rgb.getpixel((width // 2, height // 2))
    inset = min(width, height) // 6
    caption = escape(f"demo svg: {prompt[:60]}")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<title>{caption}</title>'
        f'<rect width="{width}" height="{height}" fill="rgb{background}"/>'
        f'<ellipse cx="{width / 2}" cy="{height / 2}" rx="{width / 2 - inset}" ry="{height / 2 - inset}" fill="rgb{accent}"/>'
        f'<text x="16" y="32" font-family="sans-serif" font-size="20" fill="white">{caption}</text></svg>\n'
    ).encode("utf-8")


def hostile_svg(width: int = 256, height: int = 256) -> bytes:
    """An SVG carrying every kind of active content a provider (or an imported file) could slip in."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" height="{height}" '
        'onload="document.title=\'pwned-onload\'">'
        '<script>document.title = "pwned-script"; window.pwned = true;</script>'
        '<style>@import url("http://evil.example/x.css"); rect { fill: url(http://evil.example/p.svg#f); }</style>'
        f'<rect width="{width}" height="{height}" fill="#3366cc" onclick="alert(1)"/>'
        '<image href="http://evil.example/track.png" width="10" height="10"/>'
        '<a xlink:href="javascript:alert(2)"><circle cx="50" cy="50" r="20" fill="white"/></a>'
        '<foreignObject width="100" height="100"><iframe xmlns="http://www.w3.org/1999/xhtml" src="http://evil.example/"/></foreignObject>'
        '</svg>'
    ).encode("utf-8")


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


def encode_image(image: Image.Image, output_format: str, compression: int | None, frame_count: int | None = None, prompt: str = "") -> bytes:
    if output_format == "gif":
        return encode_gif(image, frame_count)
    if output_format == "svg":
        return encode_svg(image, prompt)
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


def output_refusal(output_format: str, frame_count: Any, stream: bool, n: int) -> tuple[str, str, str] | None:
    """The API's 400s for gif and svg output (message, param, code), as its reference describes them."""
    if frame_count is not None:
        if output_format != "gif":
            return "frame_count is only supported with output_format=gif.", "frame_count", "invalid_value"
        if not isinstance(frame_count, int) or not 2 <= frame_count <= 16:
            return "frame_count must be an integer from 2 through 16.", "frame_count", "invalid_value"
    if output_format in ("gif", "svg") and stream:
        return f"{output_format} output does not support streaming.", "stream", "invalid_value"
    if output_format == "svg" and n != 1:
        return "SVG generation requires n=1.", "n", "invalid_value"
    return None


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
