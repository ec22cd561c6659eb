"""SVG is active content: what the studio keeps is cleaned of scripts, event handlers, foreign elements and
external references; a file that cannot be cleaned (not XML, a DTD, no size) is refused with a reason; the
thumbnail is drawn without fetching anything; an import says what it removed."""

from __future__ import annotations

import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from studio.core.errors import StudioError
from studio.files.filemeta import embed_metadata, read_metadata
from studio.files.imagefile import inspect_image, keepable
from studio.files.svgfile import NotSvg, sanitise_svg
from studio.files.thumbnails import render_thumbnail
from studio.provider.demo.pictures import hostile_svg

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">{}</svg>'


def clean(body: str) -> str:
    return sanitise_svg(SVG.format(body).encode()).data.decode()


@pytest.mark.parametrize("body, gone", [
    ('<script>alert(1)</script>', "alert"),
    ('<script xlink:href="http://evil.example/x.js"/>', "evil.example"),
    ('<rect width="10" height="10" onload="alert(1)"/>', "onload"),
    ('<rect width="10" height="10" ONCLICK="alert(1)"/>', "alert"),
    ('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>', "foreignObject"),
    ('<image href="http://evil.example/t.png" width="5" height="5"/>', "evil.example"),
    ('<image xlink:href="data:image/svg+xml;base64,PHN2Zz4=" width="5" height="5"/>', "data:"),
    ('<a href="javascript:alert(1)"><rect width="5" height="5"/></a>', "javascript"),
    ('<style>@import url("http://evil.example/x.css");</style>', "@import"),
    ('<style>rect { fill: url(http://evil.example/p#f) }</style>', "evil.example"),
    ('<rect width="5" height="5" style="fill: url(https://evil.example/p#x)"/>', "evil.example"),
    ('<rect width="5" height="5" fill="url(http://evil.example/g)"/>', "evil.example"),
    ('<set attributeName="href" to="javascript:alert(1)"/>', "javascript"),
    ('<animate attributeName="onload" to="alert(1)"/>', "alert"),
    ('<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>', "alert"),
    ('<metadata><html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script></metadata>', "alert"),
    ('<?xml-stylesheet href="http://evil.example/s.css"?><rect width="5" height="5"/>', "evil.example"),
    ('<iframe src="http://evil.example/"/>', "iframe"),
])
def test_active_and_external_content_is_removed(body: str, gone: str):
    assert gone not in clean(body)


def test_the_picture_and_internal_references_stay():
    body = ('<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>'
            '<rect id="r" width="50" height="50" fill="url(#g)" style="stroke: url(#g)"/><use href="#r" x="60"/>'
            '<a href="#r"><circle cx="5" cy="5" r="4"/></a><title>a logo</title><text x="1" y="20">Hello &amp; welcome</text>')
    result = clean(body)
    for kept in ('fill="url(#g)"', 'href="#r"', "<linearGradient", "<use", "<title>a logo</title>", "Hello &amp; welcome"):
        assert kept in result, kept


@pytest.mark.parametrize("data, reason", [
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">&b;</svg>',
     "declares a DTD or entities"),
    (b'<?xml version="1.0"?><!DOCTYPE svg SYSTEM "file:///etc/passwd"><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
     "declares a DTD or entities"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect></svg>', "not well-formed XML"),
    (b'<svg width="10" height="10"/>', "not <svg> in the SVG namespace"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "says no size"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="10"/>', "larger than 16384 pixels"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">' + b"<g>" * 5000 + b"</g>" * 5000 + b"</svg>", "nested more than 256 deep"),
])
def test_an_svg_that_cannot_be_kept_is_refused_with_the_reason(data: bytes, reason: str):
    with pytest.raises(NotSvg) as caught:
        sanitise_svg(data)
    assert reason in str(caught.value)
    with pytest.raises(StudioError) as refused:
        keepable(data, "logo.svg")
    assert refused.value.code == "unsafe_svg" and refused.value.message.startswith("logo.svg is an SVG the studio cannot keep")


def test_size_comes_from_width_height_or_the_viewbox():
    px = sanitise_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="300px" height="150"/>')
    assert (px.width, px.height) == (300, 150)
    box = sanitise_svg(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 32"/>')
    assert (box.width, box.height) == (64, 32)
    half = sanitise_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="128" viewBox="0 0 64 32"/>')
    assert (half.width, half.height) == (128, 64)


def test_the_image_check_refuses_an_svg_that_still_carries_active_content():
    with pytest.raises(StudioError) as caught:
        inspect_image(hostile_svg())
    assert caught.value.code == "unsafe_svg" and "carries active content" in caught.value.message
    cleaned, removed = keepable(hostile_svg())
    assert {"<script>", "onload=", "<foreignObject>", "<style>", "href="} <= set(removed)
    facts = inspect_image(cleaned)
    assert (facts.format, facts.width, facts.height) == ("svg", 256, 256)


def test_metadata_goes_in_svg_metadata_and_a_gif_comment_and_reads_back():
    cleaned, _ = keepable(hostile_svg())
    with_meta = embed_metadata(cleaned, "svg", {"prompt": "a <logo> & \"quotes\"", "model": "gpt-image-2.6-flare"})
    assert b'<metadata id="image-studio">' in with_meta
    assert read_metadata(with_meta) == {"prompt": "a <logo> & \"quotes\"", "model": "gpt-image-2.6-flare"}
    assert inspect_image(with_meta).format == "svg"  # still clean: the metadata is text only
    frames = [Image.new("RGB", (32, 32), (k * 60, 0, 0)) for k in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    gif = embed_metadata(buffer.getvalue(), "gif", {"prompt": "p" * 600, "frame_count": 3})
    assert read_metadata(gif) == {"prompt": "p" * 600, "frame_count": 3}  # longer than one 255-byte sub-block
    with Image.open(io.BytesIO(gif)) as image:
        assert image.n_frames == 3 and image.info.get("loop") == 0  # still animated, still looping
    assert inspect_image(gif).format == "gif"


def test_a_gif_cut_short_is_damaged():
    frames = [Image.new("RGB", (64, 64), (k * 40, 90, 200)) for k in range(5)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(StudioError) as caught:
        inspect_image(buffer.getvalue()[: len(buffer.getvalue()) * 2 // 3])
    assert caught.value.code == "damaged_image"


def test_the_thumbnail_fetches_nothing_the_svg_names():
    """Even a stored SVG that was never cleaned (written by hand into the folder) is cleaned again and drawn
    without a single request to what it references."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        svg = SVG.format(f'<image href="{base}/pixel.png" width="50" height="50"/><style>@import url("{base}/x.css");</style>'
                         f'<rect width="200" height="100" fill="#224466"/>').encode()
        thumb = render_thumbnail(svg)
    finally:
        server.shutdown()
    assert hits == []
    with Image.open(io.BytesIO(thumb)) as image:
        assert image.size == (256, 128) and image.convert("RGB").getpixel((128, 64)) == pytest.approx((34, 68, 102), abs=3)


def test_an_imported_svg_is_cleaned_and_the_import_says_so(studio):
    from studio.services.archive import Archive

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("logo.svg", hostile_svg())
    report = Archive(studio).import_zip(buffer.getvalue())
    assert report.added == 1, report
    assert any("logo.svg: removed active content from the SVG" in p for p in report.problems), report.problems
    stored = studio.records.get_image(1)
    data = studio.storage.read(stored.path)
    assert stored.format == "svg" and b"<script" not in data and b"evil.example" not in data


@pytest.mark.parametrize("data", [hostile_svg(), keepable(hostile_svg())[0]])
def test_an_svg_is_not_an_edit_input(data: bytes):
    from studio.core.request import ValidationError
    from studio.services.edits import read_image

    with pytest.raises(ValidationError) as caught:
        read_image("logo.svg", data)
    assert "logo.svg" in caught.value.problems[0] and "PNG, WebP or JPEG" in caught.value.problems[0]
