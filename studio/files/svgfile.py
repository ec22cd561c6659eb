"""SVG files: active content, so every SVG is parsed as XML and cleaned before the studio keeps it.

An SVG is a document, not pixels: it can carry scripts, event handlers (`onload=`), `<foreignObject>` with
HTML inside, and references that make a viewer fetch something (`href="http://..."`, `@import`, `url(...)`).
Whatever a provider returns or a person imports goes through `sanitise_svg` first: it is parsed with
defusedxml (no DTD, no entities: no billion laughs, no external entity), anything outside the SVG namespace
and every active or external part is removed, and the document is written out again. Only an internal
reference (`href="#id"`, `url(#id)`) survives. The pages show an SVG only as an image (an `<img>`, where a
browser runs no script and fetches nothing) and its thumbnail is rasterised by CairoSVG, which is given a
URL fetcher that refuses every fetch.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_SVG_BYTES = 20 * 1024 * 1024
MAX_ELEMENTS = 200_000
MAX_SIDE = 16_384  # a width or height beyond this is not a picture the gallery can rasterise
MAX_DEPTH = 256  # elements nested deeper than this are a file built to exhaust the cleaner, not a drawing
# Elements that run code, embed another document, or fetch media: removed with everything inside them.
ACTIVE_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "audio", "video", "handler", "listener", "discard"}
# SMIL elements that can set an attribute: dangerous when the attribute is a link or an event handler.
ANIMATIONS = {"set", "animate", "animateTransform", "animateMotion"}
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.I)
_DANGEROUS_TEXT = re.compile(r"@import|javascript:|expression\(|behavior:|-moz-binding", re.I)
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(px)?\s*")
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


class NotSvg(ValueError):
    """Not an SVG document the studio can keep; the message says why."""


@dataclass
class CleanSvg:
    data: bytes
    width: int
    height: int
    removed: list[str] = field(default_factory=list)  # what was taken out, e.g. "<script>", "onload="


def looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head) or (head.startswith(b"<!--") and b"<svg" in head)


def _depth(root: ET.Element) -> int:
    """How deep the tree goes, counted without recursion (the cleaner and the writer recurse)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in element)
    return deepest


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _parse(data: bytes) -> ET.Element:
    if len(data) > MAX_SVG_BYTES:
        raise NotSvg(f"it is larger than {MAX_SVG_BYTES // (1024 * 1024)} MB")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise NotSvg("it declares a DTD or entities, which an SVG the studio keeps may not") from None
    except ET.ParseError as exc:
        raise NotSvg(f"it is not well-formed XML ({exc})") from None
    if _local(root.tag) != (SVG_NS, "svg"):
        raise NotSvg("its root element is not <svg> in the SVG namespace")
    return root


def _safe_link(value: str) -> bool:
    return value.strip().startswith("#")


def _clean_element(element: ET.Element, removed: list[str]) -> None:
    for name in list(element.attrib):
        namespace, local = _local(name)
        value = element.attrib[name]
        bad = (
            local.lower().startswith("on")
            or (local == "href" and namespace in ("", XLINK_NS) and not _safe_link(value))
            or (namespace not in ("", XLINK_NS, "http://www.w3.org/XML/1998/namespace"))
            or bool(_EXTERNAL_URL.search(value) or _DANGEROUS_TEXT.search(value))
        )
        if bad:
            removed.append(f"{local}=")
            del element.attrib[name]
    namespace, local = _local(element.tag)
    if local in ANIMATIONS:
        target = element.attrib.get("attributeName", "").lower()
        if target.startswith("on") or target.endswith("href"):
            element.attrib.clear()  # an inert animation of nothing; removing it is done by the parent below
    for child in list(element):
        child_ns, child_local = _local(child.tag) if isinstance(child.tag, str) else ("", "")
        if not isinstance(child.tag, str) or child_ns != SVG_NS or child_local in ACTIVE_ELEMENTS or (
            child_local in ANIMATIONS and not child.attrib
        ) or (child_local == "style" and bool(_EXTERNAL_URL.search(child.text or "") or _DANGEROUS_TEXT.search(child.text or ""))):
            removed.append(f"<{child_local or 'comment'}>")
            element.remove(child)
            continue
        if child_local == "metadata":
            for grandchild in list(child):  # metadata is text only here (the studio's JSON, or a note)
                removed.append(f"<{_local(grandchild.tag)[1]}> in <metadata>")
                child.remove(grandchild)
            continue
        if child_local in ANIMATIONS:
            _clean_element(child, removed)
            if not child.attrib:
                removed.append(f"<{child_local}>")
                element.remove(child)
            continue
        _clean_element(child, removed)


def _length(value: str | None) -> float | None:
    match = _LENGTH.fullmatch(value or "")
    return float(match[1]) if match else None


def svg_size(root: ET.Element) -> tuple[int, int]:
    """Width and height in pixels from the width/height attributes, else the viewBox."""
    width, height = _length(root.get("width")), _length(root.get("height"))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if (width is None or height is None) and len(box) == 4:
        try:
            box_w, box_h = float(box[2]), float(box[3])
        except ValueError:
            box_w = box_h = 0
        if box_w > 0 and box_h > 0:
            width = width or (height * box_w / box_h if height else box_w)
            height = height or width * box_h / box_w
    if not width or not height:
        raise NotSvg("it says no size (no width and height in pixels, nor a viewBox)")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise NotSvg(f"it is {width:g}x{height:g}, larger than {MAX_SIDE} pixels on a side")
    return max(1, round(width)), max(1, round(height))


def sanitise_svg(data: bytes) -> CleanSvg:
    """The SVG with every script, event handler, foreign element and external reference removed, written
    out again; raises NotSvg when the bytes are not an SVG document the studio can keep."""
    root = _parse(data)
    if sum(1 for _ in root.iter()) > MAX_ELEMENTS:
        raise NotSvg(f"it has more than {MAX_ELEMENTS:,} elements")
    if _depth(root) > MAX_DEPTH:
        raise NotSvg(f"its elements are nested more than {MAX_DEPTH} deep")
    removed: list[str] = []
    _clean_element(root, removed)
    width, height = svg_size(root)
    clean = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return CleanSvg(clean, width, height, removed)


def check_svg(data: bytes) -> tuple[int, int]:
    """(width, height) of an SVG that is already clean: what the studio stores must pass `sanitise_svg`
    unchanged in substance (nothing to remove)."""
    clean = sanitise_svg(data)
    if clean.removed:
        raise NotSvg(f"it carries active content ({', '.join(sorted(set(clean.removed)))})")
    return clean.width, clean.height


def metadata_element(text: str) -> ET.Element:
    element = ET.Element(f"{{{SVG_NS}}}metadata", {"id": "image-studio"})
    element.text = text
    return element


def with_metadata(data: bytes, text: str) -> bytes:
    """The SVG with the studio's JSON in `<metadata id="image-studio">` (any earlier one replaced)."""
    root = _parse(data)
    for old in root.findall(f"{{{SVG_NS}}}metadata[@id='image-studio']"):
        root.remove(old)
    root.insert(0, metadata_element(text))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def read_svg_metadata(data: bytes) -> str | None:
    root = _parse(data)
    element = root.find(f"{{{SVG_NS}}}metadata[@id='image-studio']")
    return element.text if element is not None else None
