"""The Gallery page as a user drives it (AppTest): browse, search, filter, detail, delete, export, and
"use these settings"; the view survives in the URL."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.request import ImageRequest
from studio.services.studio import Studio
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
# The page's file handling (thumbnails, detail image, delete, export) on a local folder and on S3.
local_and_s3 = pytest.mark.parametrize("backend", ["sqlite+local", "postgres+s3"], indirect=True)


def gallery(query_params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params.update(query_params or {})
    at.switch_page("views/gallery.py")
    return at.run()


def open_keys(at: AppTest) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith("open-")]


def htmls(at: AppTest) -> list[str]:
    return [element.proto.body for element in at.get("html")]


@pytest.fixture
def filled(studio: Studio) -> Studio:
    """13 requests of 2 images (26 images), a third of them about owls, and one refused request."""
    for number in range(13):
        subject = "owl" if number % 3 == 0 else "fox"
        studio.generate(ImageRequest(prompt=f"A {subject} number {number}", model=studio.settings.model, n=2, quality="low"))
    studio.generate(ImageRequest(prompt="A refused owl [demo:fail=moderation]", model=studio.settings.model))
    return studio


def test_browse_pages_by_cursor_and_a_shared_link_reopens_the_page(filled: Studio) -> None:
    at = gallery()
    assert not at.exception
    assert len(open_keys(at)) == 24
    first_page = set(open_keys(at))
    at.button(key="g_next").click().run()
    assert len(open_keys(at)) == 3  # 27 items: 26 images and the refused request
    assert not set(open_keys(at)) & first_page
    assert at.query_params["page"] == "2" and at.query_params["after"]
    link = {k: v for k, v in at.query_params.items()}
    assert set(open_keys(gallery(link))) == set(open_keys(at))  # a reload or shared link: same page
    at.button(key="g_prev").click().run()
    assert set(open_keys(at)) == first_page and "page" not in at.query_params


def test_search_and_filters_narrow_the_grid_and_live_in_the_url(filled: Studio) -> None:
    at = gallery()
    at.text_input(key="g_q").input("owl").run()
    assert at.query_params["q"] == "owl"
    prompts = [t.value for t in at.text]
    assert len(prompts) == 11 and all("owl" in p for p in prompts)  # 5 requests x 2 images + the refused one
    at.selectbox(key="g_status").select("failed").run()
    assert at.query_params["status"] == "failed"
    assert [t.value for t in at.text] == ["A refused owl [demo:fail=moderation]"]
    assert len(at.error) == 1 and "safety system" in at.error[0].value
    reopened = gallery({"q": "owl", "status": "failed"})
    assert reopened.text_input(key="g_q").value == "owl" and reopened.selectbox(key="g_status").value == "failed"
    assert [t.value for t in reopened.text] == ["A refused owl [demo:fail=moderation]"]
    long_ago = gallery({"from": "2020-01-01", "to": "2020-01-02"})
    assert not open_keys(long_ago) and any("Nothing matches" in i.value for i in long_ago.info)
    assert long_ago.expander[0].proto.expanded  # set filters are shown, not hidden
    nothing = gallery({"q": "zebra"})
    assert any("Nothing matches" in i.value for i in nothing.info)
    broken = gallery({"after": "not-a-cursor"})
    assert any("damaged" in w.value for w in broken.warning) and len(open_keys(broken)) == 24


@local_and_s3
def test_detail_shows_prompt_against_revised_prompt_and_every_field(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="A small red fox", model=studio.settings.model, quality="high", size="1536x1024"))
    image = outcome.images[0]
    at = gallery()
    at.button(key=f"open-{outcome.generation_id}-{image.id}").click().run()
    assert not at.exception
    bodies = "".join(htmls(at))
    assert "<ins>" in bodies  # the words the model added are marked
    added = next(w for w in image.revised_prompt.split() if w.isalpha() and w not in "A small red fox")
    assert added in bodies and "small red fox" in bodies
    table = at.dataframe[0].value
    fields = dict(zip(table["field"], table["value"]))
    assert fields["quality"] == "high" and fields["size"] == "1536x1024" and fields["sha256"] == image.sha256
    assert fields["total_tokens"] != "not set" and fields["latency_s"] != "not set"
    assert at.query_params["open"] == f"{outcome.generation_id}-{image.id}"
    reopened = gallery(dict(at.query_params))  # a reload or a shared link opens the same image
    assert reopened.dataframe[0].value["value"].tolist() == table["value"].tolist()
    at.button(key="d_fav").click().run()
    assert any(b.label == "★ Unfavourite" for b in at.button)
    assert any(c.value.startswith("★ ") for c in at.caption)
    form_input = [t for t in at.text_input if t.label == "Add to collection"][0]
    form_input.input("Moodboard")
    at.button(key="FormSubmitter:d_collection-Add").click().run()
    assert any("Moodboard" in s.value for s in at.success)
    studio.generate(ImageRequest(prompt="Not in the collection", model=studio.settings.model))
    browse = gallery()
    assert browse.selectbox(key="g_collection").value == 0 and len(open_keys(browse)) == 2  # 0: "All"
    browse.selectbox(key="g_collection").set_value(1).run()  # the Moodboard collection (id 1)
    assert open_keys(browse) == [f"open-{outcome.generation_id}-{image.id}"] and browse.query_params["collection"] == "1"


@local_and_s3
def test_delete_asks_first_then_removes_the_row_and_its_file(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="Delete me", model=studio.settings.model))
    keep = studio.generate(ImageRequest(prompt="Keep me", model=studio.settings.model))
    image = outcome.images[0]
    at = gallery()
    at.button(key=f"open-{outcome.generation_id}-{image.id}").click().run()
    at.button(key="d_delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    assert image.path.is_file()  # nothing happens before the answer
    at.button(key="d_confirm").click().run()
    assert any("Deleted" in s.value for s in at.success)
    assert not image.path.exists() and keep.images[0].path.is_file()
    assert "open" not in at.query_params and not at.warning  # the dialog closed with its item
    assert [t.value for t in at.text] == ["Keep me"]


@local_and_s3
def test_multi_select_exports_a_zip_and_bulk_favourites(studio: Studio) -> None:
    outcomes = [studio.generate(ImageRequest(prompt=f"Export {n}", model=studio.settings.model)) for n in range(3)]
    at = gallery()
    for outcome in outcomes[:2]:
        at.checkbox(key=f"sel-{outcome.generation_id}-{outcome.images[0].id}").check()
    at.run()
    assert any(c.value == "2 selected" for c in at.caption)
    at.button(key="b_export").click().run()
    archive = zipfile.ZipFile(io.BytesIO(at.session_state["export_zip"]))
    lines = [json.loads(line) for line in archive.read("metadata.jsonl").decode().splitlines()]
    assert sorted(line["prompt"] for line in lines) == ["Export 0", "Export 1"]
    assert len([n for n in archive.namelist() if n.startswith("images/")]) == 2
    assert at.get("download_button")
    at.button(key="b_fav").click().run()
    assert sum(c.value.startswith("★ ") for c in at.caption) == 2
    # Importing the zip back into the same gallery adds nothing: every image is already there.
    at.file_uploader(key="g_import").set_value(("export.zip", at.session_state["export_zip"], "application/zip")).run()
    at.button(key="g_import_go").click().run()
    assert any("Imported 0 image(s); skipped 2 already in the gallery." in s.value for s in at.success)


def test_use_these_settings_opens_generate_prefilled_and_says_what_changed(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="A heron at dawn", model=studio.settings.model, quality="high", size="1024x1536"))
    at = gallery()
    at.button(key=f"open-{outcome.generation_id}-{outcome.images[0].id}").click().run()
    at.button(key="d_use").click().run()
    assert not at.exception
    assert at.text_area(key="prompt").value == "A heron at dawn"
    assert at.selectbox(key="quality").value == "high" and at.selectbox(key="size").value == "1024x1536"
    notice = at.info[0].value
    assert f"generation #{outcome.generation_id}" in notice and "quality" in notice and "size" in notice


def test_an_image_without_a_thumbnail_gets_one_when_the_grid_shows_it(studio: Studio) -> None:
    from studio.services.gallery import GalleryService
    from studio.services.thumbnails import wait_for_thumbnails

    outcome = studio.generate(ImageRequest(prompt="Made before thumbnails existed", model=studio.settings.model))
    wait_for_thumbnails()
    library = GalleryService(studio)
    library.images.set_thumbnail([outcome.images[0].id], None)
    at = gallery()
    assert len(at.image) == 1 and not at.warning
    made = library.detail(outcome.generation_id, outcome.images[0].id).image.thumbnail_path
    assert made and studio.storage.exists(made)
    outcome.images[0].path.unlink()
    library.images.set_thumbnail([outcome.images[0].id], None)
    at = gallery()
    assert not at.image and "missing" in at.warning[0].value


def test_compare_tiers_opens_compare_prefilled(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="A kingfisher, three tiers", model="gpt-image-2.5-flare", size="1536x1024", output_format="webp", quality="high"))
    at = gallery()
    at.button(key=f"open-{outcome.generation_id}-{outcome.images[0].id}").click().run()
    fields = dict(zip(at.dataframe[0].value["field"], at.dataframe[0].value["value"]))
    assert fields["cost (estimate)"].startswith("$") and "estimated from the usage tokens" in fields["cost (estimate)"]
    at.button(key="d_compare").click().run()
    assert not at.exception
    assert at.text_area(key="compare_prompt").value == "A kingfisher, three tiers"
    assert at.selectbox(key="compare_size").value == "1536x1024" and at.selectbox(key="compare_output_format").value == "webp"
    assert f"generation #{outcome.generation_id}" in at.info[0].value
    assert at.sidebar.selectbox(key="model").value == "gpt-image-2.5-flare"


def test_use_these_settings_restores_a_provider_from_the_data_dirs_providers_toml(studio: Studio, demo_server) -> None:
    """A provider defined only in STUDIO_DATA_DIR/providers.toml comes back with its model (not just the presets)."""
    (studio.settings.data_dir / "providers.toml").write_text(
        f'[providers.house]\nlabel = "House proxy"\nbase_url = "{demo_server.base_url}"\nmodels = ["house-model"]\n')
    from studio.core.config import load_providers

    house = studio.with_settings(studio.settings.with_provider(load_providers(studio.settings.data_dir)["house"]))
    outcome = house.generate(ImageRequest(prompt="Made through the house proxy", model="house-model"))
    assert outcome.generation.provider == "house"
    at = gallery({"open": f"{outcome.generation_id}-{outcome.images[0].id}"})
    at.button(key="d_use").click().run()
    assert not at.exception
    assert at.sidebar.selectbox(key="provider").value == "house"
    assert at.sidebar.selectbox(key="model").value == "house-model"
    assert "provider: custom → house" in at.info[0].value
