"""The Gallery page as a user drives it (AppTest): the tiles the grid element is sent, search, filter, a jump
by date, the image dialog, delete, export, and
"use these settings"; the view survives in the URL."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.request import ImageRequest
from studio.services.jobs import shared_pool, wait_for_jobs
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


def grid_data(at: AppTest) -> dict:
    """What the grid element was sent: its pages of tiles, and whether there is more."""
    [element] = [e for e in at.get("bidi_component") if e.proto.component_name == "studio_gallery_grid"]
    return json.loads(element.proto.json)


def tiles(at: AppTest) -> list[dict]:
    return [tile for page in grid_data(at)["pages"] for tile in page["tiles"]]


def prompts(at: AppTest) -> list[str]:
    return [tile["p"] for tile in tiles(at)]


def htmls(at: AppTest) -> list[str]:
    return [element.proto.body for element in at.get("html")]


def opened(outcome) -> dict[str, str]:
    return {"open": f"{outcome.generation_id}-{outcome.images[0].id}"}


@pytest.fixture
def filled(studio: Studio) -> Studio:
    """13 requests of 2 images (26 images), a third of them about owls, and one refused request."""
    for number in range(13):
        subject = "owl" if number % 3 == 0 else "fox"
        studio.generate(ImageRequest(prompt=f"A {subject} number {number}", model=studio.settings.model, n=2, quality="low"))
    studio.generate(ImageRequest(prompt="A refused owl [demo:fail=moderation]", model=studio.settings.model))
    return studio


def test_the_grid_gets_every_tile_as_data_and_a_jump_link_reopens_there(filled: Studio) -> None:
    at = gallery()
    assert not at.exception
    data = grid_data(at)
    shown = tiles(at)
    assert len(shown) == 27 and data["count"] == 27 and not data["has_next"] and not data["has_prev"]  # 26 images + the refused request
    assert shown[0]["p"] == "A refused owl [demo:fail=moderation]" and shown[0]["st"] == "failed" and "safety system" in shown[0]["err"]
    assert not shown[0]["src"] and not shown[0]["img"]
    images = shown[1:]
    assert all(t["src"].startswith("data:image/webp;base64,") for t in images)  # the thumbnails travel with the page
    assert len({t["k"] for t in shown}) == 27
    assert not at.get("image")  # no Streamlit element per thumbnail
    # A link that opens the view further down (a jump, or a page link from before): it starts there.
    from studio.services.gallery import GalleryService
    from studio.core.browsing import GalleryFilter

    cursor = GalleryService(filled).page(GalleryFilter(), limit=10).next_cursor
    later = gallery({"after": cursor})
    assert [t["k"] for t in tiles(later)] == [t["k"] for t in shown[10:]]
    assert grid_data(later)["has_prev"] and later.query_params["after"] == cursor
    broken = gallery({"after": "not-a-cursor"})
    assert any("damaged" in w.value for w in broken.warning) and len(tiles(broken)) == 27


def test_jobs_that_land_while_the_gallery_is_open_show_there_on_its_next_run(studio: Studio) -> None:
    """A job's tile is pending when the Gallery opens; once it lands (the jobs tray then runs the page again), the
    tile has its image, and a job sent meanwhile from another tab is there too, failed or not."""
    pool = shared_pool(studio)
    pool.submit_generate(studio, ImageRequest(prompt="a slow kite [demo:delay=1.5]", model=studio.settings.model))
    deadline = time.monotonic() + 10
    while not studio.recent() and time.monotonic() < deadline:  # its generation row is recorded before it is sent
        time.sleep(0.05)
    at = gallery()
    [kite] = tiles(at)
    assert (kite["p"], kite.get("src"), kite["st"]) == ("a slow kite [demo:delay=1.5]", None, "pending")
    pool.submit_generate(studio, ImageRequest(prompt="a refused one [demo:fail=moderation]", model=studio.settings.model))
    assert wait_for_jobs(30)
    at.run()
    shown = {tile["p"]: tile for tile in tiles(at)}
    assert shown["a slow kite [demo:delay=1.5]"]["src"].startswith("data:image/")
    assert shown["a refused one [demo:fail=moderation]"]["st"] == "failed"


def test_search_and_filters_narrow_the_grid_and_live_in_the_url(filled: Studio) -> None:
    at = gallery()
    at.text_input(key="g_q").input("owl").run()
    assert at.query_params["q"] == "owl"
    assert len(prompts(at)) == 11 and all("owl" in p for p in prompts(at))  # 5 requests x 2 images + the refused one
    at.selectbox(key="g_status").select("failed").run()
    assert at.query_params["status"] == "failed"
    assert prompts(at) == ["A refused owl [demo:fail=moderation]"]
    assert "safety system" in tiles(at)[0]["err"]
    reopened = gallery({"q": "owl", "status": "failed"})
    assert reopened.text_input(key="g_q").value == "owl" and reopened.selectbox(key="g_status").value == "failed"
    assert prompts(reopened) == ["A refused owl [demo:fail=moderation]"]
    long_ago = gallery({"from": "2020-01-01", "to": "2020-01-02"})
    assert not tiles(long_ago) and any("Nothing matches" in i.value for i in long_ago.info)
    assert long_ago.expander[0].proto.expanded  # set filters are shown, not hidden
    nothing = gallery({"q": "zebra"})
    assert any("Nothing matches" in i.value for i in nothing.info)


def test_jump_to_date_opens_the_view_at_that_day(filled: Studio) -> None:
    from datetime import date, timedelta

    at = gallery()
    at.date_input(key="g_jump").set_value(date.today() - timedelta(days=3)).run()
    assert at.query_params["after"] and not tiles(at)  # everything was made today: nothing is that old
    assert any("Nothing from that day on" in i.value for i in at.info)
    at.button(key="g_top").click().run()
    assert "after" not in at.query_params and len(tiles(at)) == 27
    oldest = gallery({"sort": "oldest"})
    oldest.date_input(key="g_jump").set_value(date.today()).run()
    assert len(tiles(oldest)) == 27 and tiles(oldest)[0]["p"] == "A owl number 0"


@local_and_s3
def test_detail_shows_prompt_against_revised_prompt_and_every_field(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="A small red fox", model=studio.settings.model, quality="high", size="1536x1024"))
    image = outcome.images[0]
    at = gallery(opened(outcome))  # a click on its tile puts it in the URL
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
    assert [tile["fav"] for tile in tiles(at)] == [True]  # the grid behind the dialog shows it too
    form_input = [t for t in at.text_input if t.label == "Add to collection"][0]
    form_input.input("Moodboard")
    at.button(key="FormSubmitter:d_collection-Add").click().run()
    assert any("Moodboard" in s.value for s in at.success)
    studio.generate(ImageRequest(prompt="Not in the collection", model=studio.settings.model))
    browse = gallery()
    assert browse.selectbox(key="g_collection").value == 0 and len(tiles(browse)) == 2  # 0: "All"
    browse.selectbox(key="g_collection").set_value(1).run()  # the Moodboard collection (id 1)
    assert [tile["k"] for tile in tiles(browse)] == [opened(outcome)["open"]] and browse.query_params["collection"] == "1"


@local_and_s3
def test_delete_asks_first_then_removes_the_row_and_its_file(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="Delete me", model=studio.settings.model))
    keep = studio.generate(ImageRequest(prompt="Keep me", model=studio.settings.model))
    image = outcome.images[0]
    at = gallery(opened(outcome))
    at.button(key="d_delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    assert image.path.is_file()  # nothing happens before the answer
    at.button(key="d_confirm").click().run()
    assert any("Deleted" in s.value for s in at.toast)
    assert not image.path.exists() and keep.images[0].path.is_file()
    assert "open" not in at.query_params and not at.warning  # the dialog closed with its item
    assert prompts(at) == ["Keep me"]


@local_and_s3
def test_a_selection_from_the_browser_is_exported_favourited_and_imported_back(studio: Studio) -> None:
    from studio.core.errors import StudioError
    from studio.services.gallery import GalleryService
    from studio.services.gallery_actions import act, selection

    outcomes = [studio.generate(ImageRequest(prompt=f"Export {n}", model=studio.settings.model)) for n in range(3)]
    library = GalleryService(studio)
    keys = [opened(o)["open"] for o in outcomes[:2]] + ["junk", "1-x", 7, "99999999999999999999999-1"]
    chosen = selection(keys)  # what a bulk action carries back from the grid: only well-formed keys count
    assert chosen.image_ids == sorted(o.images[0].id for o in outcomes[:2])
    archive = zipfile.ZipFile(io.BytesIO(library.export_zip(chosen.image_ids)))
    lines = [json.loads(line) for line in archive.read("metadata.jsonl").decode().splitlines()]
    assert sorted(line["prompt"] for line in lines) == ["Export 0", "Export 1"]
    assert len([n for n in archive.namelist() if n.startswith("images/")]) == 2
    assert act(library, "favourite", chosen) == "Marked 2 image(s) as favourites."
    at = gallery()
    assert [tile["fav"] for tile in tiles(at)] == [False, True, True]
    with pytest.raises(StudioError, match="Select some images first"):
        act(library, "favourite", selection([]))
    with pytest.raises(StudioError, match="needs a name"):
        act(library, "collect", chosen, "   ")
    # Importing the zip back into the same gallery adds nothing: every image is already there.
    zipped = library.export_zip(chosen.image_ids)
    at.file_uploader(key="g_import").set_value(("export.zip", zipped, "application/zip")).run()
    at.button(key="g_import_go").click().run()
    assert any("Imported 0 image(s); skipped 2 already in the gallery." in s.value for s in at.success)


def test_use_these_settings_opens_generate_prefilled_and_says_what_changed(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="A heron at dawn", model=studio.settings.model, quality="high", size="1024x1536"))
    at = gallery(opened(outcome))
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
    [tile] = tiles(at)
    assert tile["src"].startswith("data:image/webp;base64,") and not tile.get("miss")
    made = library.detail(outcome.generation_id, outcome.images[0].id).image.thumbnail_path
    assert made and studio.storage.exists(made)
    outcome.images[0].path.unlink()
    library.images.set_thumbnail([outcome.images[0].id], None)
    at = gallery()
    [tile] = tiles(at)
    assert tile["src"] is None and tile["miss"]  # the tile says the file is missing


def test_compare_tiers_opens_compare_prefilled(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt="A kingfisher, three tiers", model="gpt-image-2.5-flare", size="1536x1024", output_format="webp", quality="high"))
    at = gallery(opened(outcome))
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
