"""Edits over real HTTP: reference images (uploaded or from the gallery), masks in the API's convention,
lineage from source to edit to edit, and `python -m studio edit`."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from studio.core.config import load_settings
from studio.services.edits import MAX_INPUT_BYTES, read_image
from studio.files.mask import changed_fraction, mask_from_drawing, mask_from_upload
from studio.core.request import ImageRequest, ValidationError
from studio.services.studio import Studio
from tests.test_cli import run_cli

GREY = (128, 128, 128)


def png(size: tuple[int, int], colour: tuple[int, ...] = GREY, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def left_half_drawing(size: tuple[int, int]) -> bytes:
    """What the canvas returns when someone paints over the left half: RGBA, transparent elsewhere."""
    drawing = Image.new("RGBA", size, (0, 0, 0, 0))
    drawing.paste((255, 0, 0, 200), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    return buffer.getvalue()


def opened(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image.convert("RGB")


def test_edit_one_uploaded_image(studio, demo_server):
    source = read_image("photo.png", png((256, 192)))
    outcome = studio.edit(ImageRequest(prompt="make it warmer", model="gpt-image-2", input_fidelity="high"), [source])
    assert outcome.status == "succeeded" and len(outcome.images) == 1
    result = opened(outcome.images[0].path)
    assert result.size == (256, 192)
    assert result.getpixel((128, 96)) != GREY and result.getpixel((2, 2)) == GREY  # no mask: the demo edits a centre patch
    generation = outcome.generation
    assert (generation.endpoint, generation.input_fidelity, generation.moderation) == ("edits", "high", None)
    assert generation.total_tokens > 0 and generation.usage["input_tokens_details"]["image_tokens"] > 0
    [kept] = generation.sources
    assert (kept.role, kept.image_id, kept.filename, kept.width, kept.height) == ("image", None, "photo.png", 256, 192)
    assert (studio.storage.absolute(kept.path)).read_bytes() == source.file.data  # the upload is kept with the edit


def test_edit_several_images_with_a_drawn_mask(studio):
    first = read_image("room.png", png((200, 100)))
    others = [read_image(f"ref{i}.jpg", png((64, 64), (0, 0, 255), fmt="JPEG")) for i in range(2)]
    # The canvas is shown at half size; the mask must come out at the first image's size.
    mask = mask_from_drawing(left_half_drawing((100, 50)), first.size)
    assert Image.open(io.BytesIO(mask)).size == (200, 100)
    assert changed_fraction(mask) == pytest.approx(0.5, abs=0.02)

    outcome = studio.edit(ImageRequest(prompt="a blue sofa on the left", model="gpt-image-2", size="auto"), [first, *others], mask)
    assert outcome.status == "succeeded"
    result = opened(outcome.images[0].path)
    assert result.size == (200, 100)
    assert result.getpixel((50, 20)) != GREY  # painted half: changed
    assert result.getpixel((150, 20)) == GREY  # unpainted half: kept
    assert result.getpixel((2, 98))[2] > 240 > result.getpixel((2, 98))[0]  # JPEG sources; the demo shows the other references as thumbnails
    roles = [(s.role, s.format) for s in outcome.generation.sources]
    assert roles == [("image", "png"), ("image", "jpeg"), ("image", "jpeg"), ("mask", "png")]


def test_streamed_edit_shows_partials_then_keeps_the_result(studio):
    partials: list[int] = []
    outcome = studio.edit(
        ImageRequest(prompt="streamed edit", model="gpt-image-2", stream=True, partial_images=2),
        [read_image("a.png", png((128, 128)))],
        on_partial=lambda index, _data: partials.append(index),
    )
    assert outcome.status == "succeeded" and partials == [0, 1]
    assert outcome.generation.stream is True and opened(outcome.images[0].path).size == (128, 128)


def test_mask_conversion_convention():
    mask = Image.open(io.BytesIO(mask_from_drawing(left_half_drawing((40, 20)), (40, 20))))
    assert mask.format == "PNG" and mask.mode == "RGBA"
    assert mask.getpixel((5, 5))[3] == 0  # painted: transparent = change
    assert mask.getpixel((35, 5))[3] == 255  # not painted: opaque = keep
    assert mask_from_drawing(Image.new("RGBA", (40, 20), (0, 0, 0, 0)), (40, 20)) is None  # nothing painted: no mask


def test_uploaded_masks_are_checked_against_the_first_image(studio, demo_server):
    good = mask_from_drawing(left_half_drawing((64, 64)), (64, 64))
    assert mask_from_upload(good, (64, 64)) == good
    with pytest.raises(ValidationError) as caught:
        mask_from_upload(good, (128, 64))
    assert caught.value.problems == [
        "The mask is 64x64 but the first image is 128x64; resize the mask to the first image's size, or draw the mask instead."
    ]
    with pytest.raises(ValidationError, match="no transparent pixels"):
        mask_from_upload(png((64, 64)), (64, 64))
    with pytest.raises(ValidationError, match="upload a PNG"):
        mask_from_upload(png((64, 64), fmt="JPEG"), (64, 64))

    before = demo_server.config.requests_seen
    with pytest.raises(ValidationError, match="resize the mask"):
        studio.edit(ImageRequest(prompt="x", model="gpt-image-2"), [read_image("a.png", png((128, 64)))], good)
    assert demo_server.config.requests_seen == before  # nothing was sent


def test_bad_reference_images_are_explained(studio, demo_server):
    with pytest.raises(ValidationError, match="notes.txt is not an image"):
        read_image("notes.txt", b"hello")
    with pytest.raises(ValidationError, match="anim.gif is a GIF image; edits take PNG, WebP or JPEG"):
        read_image("anim.gif", png((8, 8), mode="P", colour=1, fmt="GIF"))
    with pytest.raises(ValidationError, match="must be under 50 MB"):
        read_image("huge.png", bytes(MAX_INPUT_BYTES))
    before = demo_server.config.requests_seen
    many = [read_image(f"{i}.png", png((8, 8))) for i in range(17)]
    with pytest.raises(ValidationError) as caught:
        studio.edit(ImageRequest(prompt="x", model="gpt-image-2", input_fidelity="medium"), many)
    assert "17 reference images were given; use at most 16." in caught.value.problems
    assert "input_fidelity 'medium' is not allowed; choose one of low, high." in caught.value.problems
    with pytest.raises(ValidationError, match="at least one reference image"):
        studio.edit(ImageRequest(prompt="x", model="gpt-image-2"), [])
    assert demo_server.config.requests_seen == before


def test_an_edit_refused_by_the_provider_is_recorded_with_its_sources(studio):
    outcome = studio.edit(ImageRequest(prompt="nope [demo:fail=moderation]", model="gpt-image-2"), [read_image("a.png", png((32, 32)))])
    assert outcome.status == "failed" and "safety system" in outcome.error.message
    assert [s.filename for s in studio.outcome(outcome.generation_id).generation.sources] == ["a.png"]


def edit_of(studio: Studio, image_id: int, prompt: str):
    return studio.edit(ImageRequest(prompt=prompt, model="gpt-image-2"), [studio.edit_source(image_id)])


def test_lineage_source_edit_edit(studio):
    original = studio.generate(ImageRequest(prompt="a red door", model="gpt-image-2", size="1024x1024", quality="low"))
    root = original.images[0].id
    first = edit_of(studio, root, "paint the door blue")
    second = edit_of(studio, first.images[0].id, "add a brass knocker")
    unrelated = studio.edit(ImageRequest(prompt="upload only", model="gpt-image-2"), [read_image("u.png", png((32, 32)))])

    last = studio.lineage(second.images[0].id)
    assert [link.generation_id for link in last.ancestors] == [first.generation_id, second.generation_id]
    assert last.ancestors[0].source_image_ids == (root,)
    assert last.ancestors[1].source_image_ids == (first.images[0].id,)
    assert last.ancestors[1].image_ids == (second.images[0].id,)
    assert last.descendants == []
    assert last.chain == [root, first.images[0].id, second.images[0].id]

    start = studio.lineage(root)
    assert start.ancestors == []
    assert [link.generation_id for link in start.descendants] == [first.generation_id, second.generation_id]
    assert start.image_ids == {root, first.images[0].id, second.images[0].id} == last.image_ids

    middle = studio.lineage(first.images[0].id)
    assert [link.generation_id for link in middle.ancestors] == [first.generation_id]
    assert [link.generation_id for link in middle.descendants] == [second.generation_id]
    assert studio.lineage(unrelated.images[0].id).image_ids == {unrelated.images[0].id}


def test_cli_edit_prints_the_same_json_as_generate(studio_env, tmp_path):
    (tmp_path / "a.png").write_bytes(png((120, 80)))
    (tmp_path / "b.webp").write_bytes(png((40, 40), (0, 0, 255), fmt="WEBP"))
    (tmp_path / "m.png").write_bytes(mask_from_drawing(left_half_drawing((120, 80)), (120, 80)))
    done = run_cli("edit", "a cli edit", "--image", "a.png", "--image", "b.webp", "--mask", "m.png", "--input-fidelity", "low")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"generation_id", "status", "revised_prompts", "images"}
    assert result["status"] == "succeeded"
    assert result["revised_prompts"] == ["A detailed rendering of: a cli edit"]
    [image] = result["images"]
    assert (image["width"], image["height"], image["format"]) == (120, 80, "png") and Path(image["path"]).is_file()
    kept = Studio.open(load_settings()).outcome(result["generation_id"]).generation
    assert kept.endpoint == "edits" and kept.input_fidelity == "low"
    assert [s.filename for s in kept.sources] == ["a.png", "b.webp", "mask.png"]


def test_cli_edit_explains_a_bad_mask_and_a_missing_file(studio_env, tmp_path):
    (tmp_path / "a.png").write_bytes(png((120, 80)))
    (tmp_path / "m.png").write_bytes(png((60, 40), (0, 0, 0, 0), mode="RGBA"))
    done = run_cli("edit", "x", "--image", "a.png", "--mask", "m.png")
    assert done.returncode == 1 and done.stdout == ""
    assert "The mask is 60x40 but the first image is 120x80" in done.stderr
    done = run_cli("edit", "x", "--image", "missing.png")
    assert done.returncode == 1 and "Cannot read the image missing.png" in done.stderr


# --- The Edit page, under Streamlit's AppTest -------------------------------------------------------------

from streamlit.testing.v1 import AppTest  # noqa: E402

from studio.services.jobs import wait_for_jobs  # noqa: E402
from tests.conftest import ROOT, status_boxes  # noqa: E402


def open_edit_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.switch_page("views/edit.py").run()


def press(at: AppTest, label: str) -> AppTest:
    """Click; an edit runs as a background job: wait for it and look again, as the page's refresh does."""
    next(b for b in at.button if b.label == label).click()
    at.run()
    if any(state == "running" for state, _ in status_boxes(at)):
        assert wait_for_jobs(60)
        at.run()
    return at


def test_edit_page_opened_from_a_gallery_image_edits_it_and_shows_lineage(studio):
    original = studio.generate(ImageRequest(prompt="a garden gate", model="gpt-image-2", size="1024x1024", quality="low"))
    root = original.images[0].id
    at = open_edit_page({"source_image": str(root)})
    assert not at.exception
    assert at.multiselect(key="edit_gallery_ids").value == [root]
    assert any(f"edited · gallery #{root} · 1024x1024" in (image.proto.imgs[0].caption) for image in at.image)
    at.text_area(key="edit_prompt").input("paint the gate green")
    at.selectbox(key="input_fidelity").select("high")
    press(at, "Edit image")
    assert not at.exception and not at.error
    edit = studio.latest().generation
    assert (edit.endpoint, edit.prompt, edit.input_fidelity, edit.stream) == ("edits", "paint the gate green", "high", True)
    assert [s.image_id for s in edit.sources] == [root]
    made = studio.latest().images[0].id
    captions = [c.value for c in at.caption]
    assert f"Lineage: #{root} → #{made}" in captions

    # Edit the result again: source -> edit -> edit.
    press(at, f"Edit image #{made} again")
    assert at.multiselect(key="edit_gallery_ids").value == [made]
    at.text_area(key="edit_prompt").input("add a lantern")
    press(at, "Edit image")
    again = studio.latest().images[0].id
    assert f"Lineage: #{root} → #{made} → #{again}" in [c.value for c in at.caption]


def test_edit_page_uploads_with_a_mask_of_the_wrong_size_explain_it(studio, demo_server):
    at = open_edit_page()
    assert next(b for b in at.button if b.label == "Edit image").disabled  # nothing to edit yet
    uploader = next(u for u in at.file_uploader if u.label == "Upload reference images")
    uploader.set_value([("a.png", png((300, 200)), "image/png"), ("b.webp", png((50, 50), fmt="WEBP"), "image/webp")]).run()
    assert not at.exception
    at.radio(key="mask_mode").set_value("upload").run()
    next(u for u in at.file_uploader if u.key == "mask_upload").set_value(("m.png", png((64, 64), (0, 0, 0, 0), mode="RGBA"), "image/png")).run()
    at.text_area(key="edit_prompt").input("x")
    before = demo_server.config.requests_seen
    press(at, "Edit image")
    assert [e.value for e in at.error] == [
        "The mask is 64x64 but the first image is 300x200; resize the mask to the first image's size, or draw the mask instead."
    ]
    assert demo_server.config.requests_seen == before


def test_edit_page_uploads_with_a_good_mask(studio):
    at = open_edit_page()
    next(u for u in at.file_uploader if u.label == "Upload reference images").set_value(("a.png", png((300, 200)), "image/png")).run()
    at.radio(key="mask_mode").set_value("upload").run()
    good = mask_from_drawing(left_half_drawing((300, 200)), (300, 200))
    next(u for u in at.file_uploader if u.key == "mask_upload").set_value(("m.png", good, "image/png")).run()
    assert "The mask lets the model change 50% of the first image." in [c.value for c in at.caption]
    at.text_area(key="edit_prompt").input("left half only")
    at.toggle(key="edit_live_preview").set_value(False)
    press(at, "Edit image")
    assert not at.exception and not at.error
    outcome = studio.latest()
    assert outcome.generation.stream is None
    assert [s.role for s in outcome.generation.sources] == ["image", "mask"]
    result = opened(outcome.images[0].path)
    assert result.getpixel((50, 100)) != GREY and result.getpixel((250, 100)) == GREY


def test_edit_page_draw_mode_shows_the_canvas(studio):
    at = open_edit_page()
    next(u for u in at.file_uploader if u.label == "Upload reference images").set_value(("a.png", png((300, 200)), "image/png")).run()
    at.radio(key="mask_mode").set_value("draw").run()
    assert not at.exception
    assert "Nothing painted yet: without a mask the model may change the whole image." in [c.value for c in at.caption]


def test_gallery_filters_by_lineage(studio):
    original = studio.generate(ImageRequest(prompt="a bare tree", model="gpt-image-2", size="1024x1024", quality="low"))
    root = original.images[0].id
    first = edit_of(studio, root, "add leaves")
    studio.generate(ImageRequest(prompt="unrelated", model="gpt-image-2", quality="low"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.query_params["lineage"] = str(first.images[0].id)
    at.switch_page("views/gallery.py").run()
    assert not at.exception
    assert f"Lineage of image #{first.images[0].id}: #{root} → #{first.images[0].id}, with every edit made from it." in [i.value for i in at.info]
    from tests.test_gallery_page import prompts, tiles  # what the grid element was sent

    assert [p for p in prompts(at) if p in ("a bare tree", "add leaves", "unrelated")] == ["a bare tree", "add leaves"]
    assert f"Edit of #{root}" in [tile.get("ed") for tile in tiles(at)]
    press(at, "Show everything")
    assert "unrelated" in prompts(at)

    at.query_params["lineage"] = "999"
    at.run()
    assert any("There is no image 999 in the gallery." in w.value for w in at.warning)


def test_edit_page_shows_file_names_literally(studio):
    at = open_edit_page()
    name = "**bold**_[x](y).png"
    next(u for u in at.file_uploader if u.label == "Upload reference images").set_value((name, png((64, 64)), "image/png")).run()
    at.radio(key="mask_mode").set_value("none")
    at.text_area(key="edit_prompt").input("x")
    at.toggle(key="edit_live_preview").set_value(False)
    press(at, "Edit image")
    assert not at.exception and not at.error
    assert any("1 · edited · \\*\\*bold\\*\\*\\_\\[x\\](y).png · 64x64" == i.proto.imgs[0].caption for i in at.image)
    assert "Edit of \\*\\*bold\\*\\*\\_\\[x\\](y).png" in [c.value for c in at.caption]
