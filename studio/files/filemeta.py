"""The prompt and settings carried inside every saved image file, so they survive leaving the studio.

PNG gets an iTXt chunk (keyword `image-studio`, UTF-8 JSON); JPEG and WebP get an XMP packet whose
`studio:metadata` element holds the same JSON; a GIF gets a comment extension (`image-studio:` and the JSON)
after its colour table; an SVG gets `<metadata id="image-studio">` holding the JSON as text. The chunk or segment is spliced into the encoded bytes,
never re-encoded, so pixels are untouched and it costs microseconds. Any XMP reader (Pillow,
exiftool, Lightroom) sees the packet; `python -m studio inspect FILE` prints the JSON.
"""

from __future__ import annotations

import html
import io
import json
import re
import struct
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

from PIL import Image

from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.files.svgfile import NotSvg, looks_like_svg, read_svg_metadata, with_metadata

KEYWORD = "image-studio"
XMP_NAMESPACE = "https://github.com/image-studio/ns/1.0/"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_SEGMENT_MAX = 65533  # payload bytes an APP1 segment can hold
GIF_COMMENT_PREFIX = b"image-studio:"
_XMP_RE = re.compile(r"<studio:metadata>(.*?)</studio:metadata>", re.S)


def file_metadata(request: ImageRequest, revised_prompt: str | None, **extra: Any) -> dict[str, Any]:
    """What goes into the file: every request field by the API's names, the revised_prompt, and extras."""
    # `user` may identify a person; stream and partial_images only change how the answer travelled.
    fields = {k: v for k, v in asdict(request).items() if k not in ("user", "stream", "partial_images")}
    return {"generator": "Image Studio", **fields, "revised_prompt": revised_prompt, **extra}


def embed_metadata(data: bytes, fmt: str, metadata: dict[str, Any]) -> bytes:
    """The same image with `metadata` inside; raises StudioError if the bytes are not the format said."""
    text = json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))
    if fmt == "png":
        return _png_with_itxt(data, KEYWORD, text)
    if fmt == "jpeg":
        return _jpeg_with_xmp(data, _fit_jpeg(metadata))
    if fmt == "webp":
        return _webp_with_xmp(data, xmp_packet(text))
    if fmt == "gif":
        return _gif_with_comment(data, GIF_COMMENT_PREFIX + text.encode("utf-8"))
    if fmt == "svg":
        try:
            return with_metadata(data, text)
        except NotSvg:
            raise StudioError("The image is not an SVG file.", "not_an_image") from None
    raise StudioError(f"Cannot embed metadata in a {fmt} file.", "unsupported_format")


def read_metadata(source: bytes | str | Path) -> dict[str, Any] | None:
    """The studio metadata inside an image file, or None when it carries none. Raises StudioError when the
    bytes are not an image or the metadata is not a JSON object; its values are not checked here (that is
    `studio/db/values.py`, through `services/intake.py`)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if looks_like_svg(data):
        try:
            return _json_object(read_svg_metadata(data))
        except NotSvg as exc:
            raise StudioError(f"That SVG cannot be read: {exc}.", "not_an_image") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            info = dict(image.info)
            text = getattr(image, "text", {}).get(KEYWORD) if image.format == "PNG" else None
    except Exception:
        raise StudioError("That file is not an image Pillow can open (PNG, JPEG, WebP or GIF).", "not_an_image") from None
    comment = info.get("comment")
    if text is None and isinstance(comment, bytes) and comment.startswith(GIF_COMMENT_PREFIX):
        text = comment[len(GIF_COMMENT_PREFIX):].decode("utf-8", "replace")
    if text is None:
        xmp = info.get("xmp")
        if isinstance(xmp, bytes):
            xmp = xmp.decode("utf-8", "replace")
        match = _XMP_RE.search(xmp if isinstance(xmp, str) else "")
        text = html.unescape(match[1]) if match else None
    return _json_object(text)


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    # Whatever a file carries is someone else's text: not JSON, a list, a number of 5,000 digits (a
    # ValueError) or brackets nested past the recursion limit are said in one line, never a traceback.
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError):
        raise StudioError("Its Image Studio metadata is not valid JSON.", "bad_metadata") from None
    if not isinstance(metadata, dict):
        raise StudioError(f"Its Image Studio metadata is a JSON {_json_kind(metadata)}, not an object of fields.", "bad_metadata")
    return metadata


def _json_kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "true/false", type(None): "null"}.get(type(value), "number")


def xmp_packet(text: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:studio="{XMP_NAMESPACE}">'
        f"<studio:metadata>{html.escape(text, quote=False)}</studio:metadata>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode("utf-8")


def _png_with_itxt(data: bytes, keyword: str, text: str) -> bytes:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise StudioError("The image is not a PNG file.", "not_an_image")
    ihdr_end = 8 + 8 + struct.unpack(">I", data[8:12])[0] + 4  # signature, then IHDR (length, type, data, crc)
    # iTXt: keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, text
    body = keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def _fit_jpeg(metadata: dict[str, Any]) -> bytes:
    """An XMP packet that fits one APP1 segment; pathologically long prompts are cut, and say so."""
    packet = xmp_packet(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")))
    if len(XMP_HEADER) + len(packet) <= JPEG_SEGMENT_MAX:
        return packet
    cut = dict(metadata, truncated=True)
    for limit in (8000, 2000, 500):
        cut["prompt"] = (metadata.get("prompt") or "")[:limit]
        cut["revised_prompt"] = (metadata.get("revised_prompt") or "")[:limit] or None
        packet = xmp_packet(json.dumps(cut, ensure_ascii=False, separators=(",", ":")))
        if len(XMP_HEADER) + len(packet) <= JPEG_SEGMENT_MAX:
            return packet
    raise StudioError("The metadata is too large for a JPEG file.", "metadata_too_large")


def _jpeg_with_xmp(data: bytes, packet: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise StudioError("The image is not a JPEG file.", "not_an_image")
    payload = XMP_HEADER + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    # After SOI and any APP0 (JFIF) segment, where readers look for XMP.
    position = 2
    if data[2:4] == b"\xff\xe0":
        position = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:position] + segment + data[position:]


def _webp_with_xmp(data: bytes, packet: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise StudioError("The image is not a WebP file.", "not_an_image")
    chunks = data[12:]
    kind = chunks[:4]
    if kind == b"VP8X":
        flags = chunks[8] | 0x04  # XMP present
        chunks = chunks[:8] + bytes([flags]) + chunks[9:]
    else:
        # A simple (lossy VP8 or lossless VP8L) file: the extended format's VP8X header is needed first.
        width, height, alpha = _simple_webp_facts(chunks)
        flags = 0x04 | (0x10 if alpha else 0)
        vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks = vp8x + chunks
    xmp = b"XMP " + struct.pack("<I", len(packet)) + packet + (b"\x00" if len(packet) % 2 else b"")
    body = b"WEBP" + chunks + xmp
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _gif_with_comment(data: bytes, comment: bytes) -> bytes:
    """A comment extension (0x21 0xFE, sub-blocks of up to 255 bytes, a 0 terminator) spliced in after the
    header, the logical screen descriptor and the global colour table: before any frame, where readers look."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise StudioError("The image is not a GIF file.", "not_an_image")
    packed = data[10]
    position = 13 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
    blocks = b"".join(bytes([len(comment[i:i + 255])]) + comment[i:i + 255] for i in range(0, len(comment), 255))
    return b"GIF89a" + data[6:position] + b"\x21\xfe" + blocks + b"\x00" + data[position:]


def _simple_webp_facts(chunks: bytes) -> tuple[int, int, bool]:
    kind, payload = chunks[:4], chunks[8:]
    if kind == b"VP8L":  # signature 0x2f, then 14 bits width-1, 14 bits height-1, 1 bit alpha
        bits = int.from_bytes(payload[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    if kind == b"VP8 ":  # 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    raise StudioError("The WebP file has an unexpected layout.", "not_an_image")
