"""gpt-image-2.6's new fields and formats end to end: sent by the official client over real HTTP to the demo
endpoint, checked, stored with their metadata and columns, thumbnailed, filtered, exported and imported."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from studio.core.config import load_settings
from studio.core.request import ImageRequest, ValidationError
from studio.files.filemeta import read_metadata
from studio.files.thumbnails import render_thumbnail
from studio.provider.client import make_client, send_request
from studio.services.archive import Archive
from studio.core.browsing import GalleryFilter
from studio.services.gallery import GalleryService
from studio.services.studio import Studio
from tests.conftest import TEST_KEY

FLARE = "gpt-image-2.6-flare"


@pytest.fixture
def client(demo_server):
    return make_client(demo_server.base_url, TEST_KEY, 30.0, 0)


def test_the_client_sends_complexity_and_frame_count_as_fields(client):
    """The installed openai client takes complexity and frame_count as its own parameters: they reach the
    demo endpoint as JSON fields, which answers a 6-frame animated GIF."""
    result = send_request(client, ImageRequest(prompt="a spinning logo", model=FLARE, output_format="gif", frame_count=6,
                                               complexity="high", quality="xhigh", size="1024x1024"))
    with Image.open(io.BytesIO(result.images[0].data)) as image:
        assert (image.format, image.n_frames, image.size, image.is_animated) == ("GIF", 6, (1024, 1024), True)
    assert result.output_format == "gif" and result.quality == "xhigh"


def test_the_demo_refuses_frame_count_without_gif_as_the_api_does(client):
    with pytest.raises(Exception) as caught:
        send_request(client, ImageRequest(prompt="x", model=FLARE, output_format="png", frame_count=4))
    assert "frame_count is only supported with output_format=gif" in str(caught.value)


def test_an_animated_gif_is_stored_with_its_columns_metadata_and_an_animated_thumbnail(studio):
    outcome = studio.generate(ImageRequest(prompt="a bouncing ball", model=FLARE, output_format="gif", frame_count=6, complexity="low"))
    assert outcome.error is None
    image = outcome.images[0]
    data = image.path.read_bytes()
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6
    assert (image.format, outcome.generation.complexity, outcome.generation.frame_count) == ("gif", "low", 6)
    metadata = read_metadata(data)
    assert metadata["frame_count"] == 6 and metadata["complexity"] == "low" and metadata["prompt"] == "a bouncing ball"
    with Image.open(io.BytesIO(render_thumbnail(data))) as thumb:
        assert thumb.format == "WEBP" and getattr(thumb, "n_frames", 1) == 6 and max(thumb.size) == 256


def test_an_svg_logo_is_stored_as_clean_svg_with_metadata_and_a_raster_thumbnail(studio):
    outcome = studio.generate(ImageRequest(prompt="a fox logo", model=FLARE, output_format="svg", complexity="medium", size="1024x1536"))
    assert outcome.error is None
    image = outcome.images[0]
    data = image.path.read_bytes()
    assert image.path.suffix == ".svg" and data.lstrip().startswith(b"<?xml") and b"<svg" in data
    assert (image.format, image.width, image.height) == ("svg", 1024, 1536)
    assert read_metadata(data)["output_format"] == "svg"
    with Image.open(io.BytesIO(render_thumbnail(data))) as thumb:
        assert thumb.format == "WEBP" and thumb.size == (171, 256)
        assert thumb.convert("RGB").getpixel((85, 128)) != thumb.convert("RGB").getpixel((2, 2))  # the disc is drawn


def test_a_hostile_svg_from_the_provider_is_kept_only_cleaned(studio):
    outcome = studio.generate(ImageRequest(prompt="a logo [demo:hostile-svg]", model=FLARE, output_format="svg"))
    data = outcome.images[0].path.read_bytes()
    for active in (b"<script", b"onload", b"onclick", b"foreignObject", b"evil.example", b"javascript:", b"@import"):
        assert active not in data, active
    assert b"<rect" in data and b"<circle" in data  # the picture itself stays


def test_the_new_columns_filter_the_gallery(studio):
    studio.generate(ImageRequest(prompt="gif one", model=FLARE, output_format="gif", frame_count=3, complexity="high"))
    studio.generate(ImageRequest(prompt="plain png", model=FLARE, complexity="low"))
    gallery = GalleryService(studio)
    assert [i.prompt for i in gallery.page(GalleryFilter(complexity="high")).items] == ["gif one"]
    assert [i.prompt for i in gallery.page(GalleryFilter(output_format="gif")).items] == ["gif one"]
    assert [i.prompt for i in gallery.page(GalleryFilter(complexity="low")).items] == ["plain png"]


def test_export_and_import_carry_gif_and_svg(studio, another_gallery):
    gif = studio.generate(ImageRequest(prompt="a gif to move", model=FLARE, output_format="gif", frame_count=4))
    svg = studio.generate(ImageRequest(prompt="an svg to move", model=FLARE, output_format="svg"))
    archive = Archive(studio).export_zip([gif.images[0].id, svg.images[0].id])
    another_gallery("formats")
    other = Studio.open(load_settings())
    report = Archive(other).import_zip(archive)
    assert (report.added, report.problems) == (2, []), report
    gallery = GalleryService(other)
    assert [i.prompt for i in gallery.page(GalleryFilter(output_format="gif")).items] == ["a gif to move"]
    assert [i.prompt for i in gallery.page(GalleryFilter(output_format="svg")).items] == ["an svg to move"]
    moved = gallery.page(GalleryFilter(output_format="gif")).items[0]
    assert other.records.get(moved.generation_id).frame_count == 4
    assert other.records.get_image(moved.image_id).format == "gif"


def test_svg_and_gif_rules_are_checked_before_sending(studio):
    with pytest.raises(ValidationError) as caught:
        studio.generate(ImageRequest(prompt="x", model=FLARE, output_format="svg", n=2, stream=True))
    assert any("svg output makes one image" in p for p in caught.value.problems)
    assert any("svg output does not stream" in p for p in caught.value.problems)
    with pytest.raises(ValidationError) as caught:
        studio.generate(ImageRequest(prompt="x", model=FLARE, output_format="gif", frame_count=17))
    assert caught.value.problems == [f"frame_count is 17; {FLARE} makes 2 to 16 frames."]
    assert GalleryService(studio).page(GalleryFilter()).items == []  # nothing was recorded: nothing was sent


def test_a_still_palette_gif_and_an_svg_get_thumbnails_and_tier_fingerprints():
    """A one-frame GIF (a palette image, which Pillow's `reduce` refuses) and an SVG both get a still
    thumbnail and a perceptual hash (Compare's tier difference), instead of none."""
    from studio.files.fingerprint import bits_apart, perceptual_hash
    from studio.provider.demo.pictures import draw_image, encode_image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 40, 40)).convert("P").save(buffer, "GIF")
    with Image.open(io.BytesIO(render_thumbnail(buffer.getvalue()))) as thumb:
        assert thumb.size == (256, 192) and getattr(thumb, "n_frames", 1) == 1
    svg = encode_image(draw_image("a", "1024x1024", "svg", "auto", 0), "svg", None, None, "a")
    other = encode_image(draw_image("b", "1024x1024", "svg", "auto", 0), "svg", None, None, "b")
    assert bits_apart(perceptual_hash(svg), perceptual_hash(svg)) == 0
    assert bits_apart(perceptual_hash(svg), perceptual_hash(other)) > 0
    perceptual_hash(buffer.getvalue())


@pytest.mark.parametrize("backend", ["postgres+s3"], indirect=True)
def test_gif_and_svg_on_postgresql_and_s3(studio):
    """The new columns on PostgreSQL, and both formats in a bucket (an SVG stored as image/svg+xml, as an
    attachment: opened on its own it is downloaded, never rendered as a page)."""
    gif = studio.generate(ImageRequest(prompt="a gif in a bucket", model=FLARE, output_format="gif", frame_count=3, complexity="high"))
    svg = studio.generate(ImageRequest(prompt="an svg in a bucket", model=FLARE, output_format="svg"))
    assert (gif.generation.frame_count, gif.generation.complexity) == (3, "high")
    stored = studio.records.get_image(svg.images[0].id)
    assert studio.storage.read(stored.path).startswith(b"<?xml")
    head = studio.storage.client.head_object(Bucket=studio.storage.bucket, Key=studio.storage.key(stored.path))
    assert head["ContentType"] == "image/svg+xml" and head.get("ContentDisposition") == "attachment"
    gallery = GalleryService(studio)
    assert [i.prompt for i in gallery.page(GalleryFilter(complexity="high")).items] == ["a gif in a bucket"]


def test_a_relay_that_refuses_xhigh_is_answered_with_its_own_message(studio):
    """The catalog lets xhigh through for gpt-image-2.5; a relay that does not take it decides, and its 400
    is shown as it came, with the request kept in the history."""
    outcome = studio.generate(ImageRequest(prompt="a fox [demo:fail=no_xhigh] [demo:only=quality:xhigh]", model="gpt-image-2.5-flare", quality="xhigh"))
    assert outcome.status == "failed" and "Invalid value: 'xhigh'" in outcome.error.message
    assert studio.records.get(outcome.generation_id).quality == "xhigh"
    ok = studio.generate(ImageRequest(prompt="a fox [demo:fail=no_xhigh] [demo:only=quality:xhigh]", model="gpt-image-2.5-flare", quality="high"))
    assert ok.status == "succeeded"


def test_an_animated_edit_takes_no_mask_and_without_one_answers_a_gif(studio):
    from studio.services.edits import read_image

    source = studio.generate(ImageRequest(prompt="a plain wall", model=FLARE, size="1024x1024"))
    image = read_image("wall.png", source.images[0].path.read_bytes())
    buffer = io.BytesIO()
    Image.new("RGBA", (1024, 1024), (0, 0, 0, 0)).save(buffer, "PNG")
    with pytest.raises(ValidationError) as caught:
        studio.edit(ImageRequest(prompt="make it wave", model=FLARE, output_format="gif", frame_count=4), [image], buffer.getvalue())
    assert "gif output takes no mask; remove the mask or pick another output_format." in caught.value.problems
    edited = studio.edit(ImageRequest(prompt="make it wave", model=FLARE, output_format="gif", frame_count=4), [image])
    with Image.open(edited.images[0].path) as gif:
        assert (gif.format, gif.n_frames) == ("GIF", 4)


def test_frame_count_filters_the_gallery_and_travels_in_its_link(studio):
    from studio.services.gallery_link import GalleryView, parse_view, view_params

    studio.generate(ImageRequest(prompt="six frames", model=FLARE, output_format="gif", frame_count=6, complexity="high"))
    studio.generate(ImageRequest(prompt="three frames", model=FLARE, output_format="gif", frame_count=3))
    gallery = GalleryService(studio)
    assert [i.prompt for i in gallery.page(GalleryFilter(frame_count=6)).items] == ["six frames"]
    view, problems = parse_view({"frames": "6", "complexity": "high"})
    assert problems == [] and (view.filters.frame_count, view.filters.complexity) == (6, "high")
    assert view_params(view) == {"complexity": "high", "frames": "6"}
    assert [i.prompt for i in gallery.page(view.filters).items] == ["six frames"]
    _, problems = parse_view({"frames": "40"})
    assert len(problems) == 1 and "frames" in problems[0]
