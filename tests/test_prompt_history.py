"""Prompt history (recent first, searchable, a thumbnail of what each made, refused prompts too) and prompt
versions (the parent chain set when a prompt from the gallery is edited and sent), with a word diff per step."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import insert, update
from streamlit.testing.v1 import AppTest

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.services.jobs import wait_for_jobs
from studio.db.models import Generation, utcnow
from studio.services.gallery import GalleryService
from studio.services.prompt_history import prompt_history, prompt_versions
from studio.services.studio import Studio
from studio.services.thumbnails import wait_for_thumbnails
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
# The history's GROUP BY and LIKE, and the versions walk, on both databases.
both_databases = pytest.mark.parametrize("backend", ["sqlite+local", "postgres+local"], indirect=True)


def make(studio: Studio, prompt: str, parent: int | None = None) -> int:
    return studio.generate(ImageRequest(prompt=prompt, model=studio.settings.model), prompt_parent_id=parent).generation_id


@both_databases
def test_history_is_distinct_prompts_most_recent_first_with_a_thumbnail(studio: Studio) -> None:
    make(studio, "a red fox")
    make(studio, "a harbour at night")
    refused = make(studio, "nope [demo:fail=moderation]")
    latest_fox = make(studio, "a red fox")
    wait_for_thumbnails()
    entries = prompt_history(studio)
    assert [e.prompt for e in entries] == ["a red fox", "nope [demo:fail=moderation]", "a harbour at night"]
    fox = entries[0]
    assert fox.generation_id == latest_fox
    assert fox.thumbnail is not None and fox.thumbnail.endswith(".webp")  # the thumbnail of the newest image it made
    assert entries[1].generation_id == refused and entries[1].thumbnail is None  # refused: kept, with no image
    assert [e.prompt for e in prompt_history(studio, limit=1)] == ["a red fox"]


@both_databases
def test_history_search_needs_every_word_in_any_case_and_takes_wildcards_literally(studio: Studio) -> None:
    for prompt in ("A Misty Harbour at dawn", "a harbour at night", "100% cotton_shirt", "1000 cottonXshirt"):
        make(studio, prompt)
    assert [e.prompt for e in prompt_history(studio, "harbour MISTY")] == ["A Misty Harbour at dawn"]
    assert [e.prompt for e in prompt_history(studio, "harbour")] == ["a harbour at night", "A Misty Harbour at dawn"]
    assert [e.prompt for e in prompt_history(studio, "100% cotton_")] == ["100% cotton_shirt"]
    assert prompt_history(studio, "lighthouse") == []


@both_databases
def test_three_iterations_make_four_versions_with_a_diff_per_step(studio: Studio) -> None:
    first = make(studio, "a red fox in snow")
    second = make(studio, "a red fox in deep snow", first)
    third = make(studio, "a small red fox in deep snow", second)
    fourth = make(studio, "a small red fox in deep snow at dawn", third)
    versions = prompt_versions(studio, fourth)
    assert [v.generation_id for v in versions] == [first, second, third, fourth]
    assert versions[0].added_html == "a red fox in snow" and versions[0].removed_html == ""
    assert "<ins>deep</ins>" in versions[1].added_html
    assert "<ins>small</ins>" in versions[2].added_html
    assert "<ins>at dawn</ins>" in versions[3].added_html
    assert all(v.changed for v in versions[1:]) and all(v.thumbnail for v in versions)
    assert [v.generation_id for v in prompt_versions(studio, first)] == [first, second, third, fourth]  # from the first too
    assert len(prompt_versions(studio, make(studio, "unrelated"))) == 1


@both_databases
def test_a_deleted_version_ends_the_chain_and_a_missing_parent_is_not_linked(studio: Studio) -> None:
    first = make(studio, "a fox")
    second = make(studio, "a grey fox", first)
    third = make(studio, "a grey fox asleep", second)
    outcome = studio.outcome(second)
    GalleryService(studio).delete([(second, outcome.images[0].id)])
    assert [v.generation_id for v in prompt_versions(studio, third)] == [third]
    assert [v.generation_id for v in prompt_versions(studio, first)] == [first]
    orphan = make(studio, "a fox again", 999_999)
    assert studio.records.get(orphan).prompt_parent_id is None


def prompt_box(at: AppTest) -> str:
    return at.text_area(key="prompt").value


def generate(at: AppTest, prompt: str) -> AppTest:
    at.text_area(key="prompt").input(prompt)
    at.toggle(key="live_preview").set_value(False)
    next(b for b in at.button if b.label == "Generate").click()
    at.run()
    assert wait_for_jobs(60)  # a Generate runs as a background job: its result shows once it has landed
    return at.run()


def test_the_picker_fills_the_prompt_and_iterating_from_the_gallery_records_versions(studio: Studio) -> None:
    first = make(studio, "a red fox in snow")
    make(studio, "a harbour at night")
    wait_for_thumbnails()
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["prompt_history_open"] = True  # the popover opened
    at.run()
    assert not at.exception
    assert [t.value for t in at.text][:2] == ["a harbour at night", "a red fox in snow"]
    at.text_input(key="prompt_history_search").input("fox").run()
    assert [t.value for t in at.text][:1] == ["a red fox in snow"]
    at.button(key="prompt_history_use_0").click().run()
    assert prompt_box(at) == "a red fox in snow"
    assert any(f"Editing the prompt of generation #{first}" in c.value for c in at.caption)

    at = generate(at, "a red fox in deep snow")
    at = generate(at, "a small red fox in deep snow")
    at = generate(at, "a small red fox in deep snow at dawn")
    assert not at.exception and not at.error
    latest = studio.latest().generation_id
    versions = prompt_versions(studio, latest)
    assert [v.prompt for v in versions] == ["a red fox in snow", "a red fox in deep snow", "a small red fox in deep snow",
                                            "a small red fox in deep snow at dawn"]

    at.button(key="prompt_origin_reset").click().run()  # "Start a new prompt": no longer a version
    at = generate(at, "a lighthouse")
    assert len(prompt_versions(studio, studio.latest().generation_id)) == 1


def test_use_these_settings_then_edit_three_times_shows_four_versions_in_the_detail_view(studio: Studio) -> None:
    first = studio.generate(ImageRequest(prompt="a red fox in snow", model=studio.settings.model))
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["open"] = f"{first.generation_id}-{first.images[0].id}"  # a tile clicked in the grid
    at.switch_page("views/gallery.py").run()
    at.button(key="d_use").click().run()  # "use these settings": Generate, with this prompt
    assert prompt_box(at) == "a red fox in snow"
    at.switch_page("views/generate.py")  # where st.switch_page took the browser (AppTest would rerun the Gallery)
    for prompt in ("a red fox in deep snow", "a small red fox in deep snow", "a small red fox in deep snow at dawn"):
        at = generate(at, prompt)
    assert not at.exception and not at.error
    last = studio.latest()
    gallery = AppTest.from_file(APP, default_timeout=30)
    gallery.query_params["open"] = f"{last.generation_id}-{last.images[0].id}"
    gallery.switch_page("views/gallery.py").run()
    assert not gallery.exception
    assert any(m.value == "**Prompt versions** (4)" for m in gallery.markdown)
    bodies = [element.proto.body for element in gallery.get("html")]
    versions = [b for b in bodies if "prompt-version'" in b]
    assert len(versions) == 4
    assert "<ins>deep</ins>" in versions[1] and "<ins>small</ins>" in versions[2] and "<ins>at dawn</ins>" in versions[3]
    captions = [c.value for c in gallery.caption]
    assert any(c.startswith(f"v1 · generation #{first.generation_id}") for c in captions)
    assert any(c.startswith(f"v4 · generation #{last.generation_id}") and c.endswith("this one") for c in captions)


def test_the_edit_page_picker_fills_its_prompt(studio: Studio) -> None:
    make(studio, "replace the sky with a pink sunset")
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["edit_prompt_history_open"] = True
    at.switch_page("views/edit.py").run()
    assert not at.exception
    at.button(key="edit_prompt_history_use_0").click().run()
    assert at.text_area(key="edit_prompt").value == "replace the sky with a pink sunset"
    assert "prompt_origin_reset" not in [b.key for b in at.button]  # Edit records no prompt versions


def test_an_export_does_not_carry_a_parent_id_that_means_nothing_in_another_gallery(studio: Studio, another_gallery) -> None:
    first = make(studio, "a fox")
    second = studio.generate(ImageRequest(prompt="a grey fox", model=studio.settings.model), prompt_parent_id=first)
    data = GalleryService(studio).export_zip([second.images[0].id])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        line = json.loads(archive.read("metadata.jsonl").decode().splitlines()[0])
    assert line["prompt"] == "a grey fox" and "prompt_parent_id" not in line
    another_gallery("second")
    fresh = Studio.open(load_settings())
    assert GalleryService(fresh).import_zip(data).added == 1
    imported = fresh.latest().generation
    assert imported.prompt == "a grey fox" and imported.prompt_parent_id is None


@both_databases
def test_history_reads_past_many_sends_of_one_prompt_and_shows_an_older_sends_image(studio: Studio) -> None:
    fox = studio.generate(ImageRequest(prompt="a fox", model=studio.settings.model))
    make(studio, "an owl")
    now = utcnow()
    rows = [{"status": "failed", "provider": "demo", "base_url_host": "x", "model": "gpt-image-1", "prompt": "a fox",
             "created_at": now + timedelta(seconds=1)}]  # refused later: the newest send made no image
    rows += [{"status": "failed", "provider": "demo", "base_url_host": "x", "model": "gpt-image-1", "prompt": "same again",
              "created_at": now + timedelta(seconds=2, milliseconds=n)} for n in range(450)]  # past several windows
    with studio.records.engine.begin() as connection:
        connection.execute(insert(Generation), rows)
    entries = prompt_history(studio)
    assert [e.prompt for e in entries] == ["same again", "a fox", "an owl"]
    assert entries[1].generation_id != fox.generation_id  # the newest send of it ...
    assert entries[1].thumbnail == fox.images[0].src or entries[1].thumbnail.endswith(".webp")  # ... and an image an older one made
    assert [e.prompt for e in prompt_history(studio, limit=2)] == ["same again", "a fox"]


def test_a_loop_of_parents_from_a_hand_made_row_ends(studio: Studio) -> None:
    first = make(studio, "a fox")
    second = make(studio, "a grey fox", first)
    with studio.records.engine.begin() as connection:  # only a hand-edited database can hold this
        connection.execute(update(Generation).where(Generation.id == first).values(prompt_parent_id=second))
    assert sorted(v.generation_id for v in prompt_versions(studio, second)) == [first, second]


def test_a_template_sent_from_a_prompt_of_the_gallery_makes_each_prompt_a_version_of_it(studio: Studio) -> None:
    first = make(studio, "a fox")
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["prompt_history_open"] = True
    at.run()
    at.button(key="prompt_history_use_0").click().run()
    at = generate(at, "a {red|grey} fox")
    assert not at.exception and not at.error
    children = [o.generation for o in studio.recent(2)]
    assert sorted(g.prompt for g in children) == ["a grey fox", "a red fox"]
    assert all(g.prompt_parent_id == first for g in children)
    assert any(f"Editing the prompt of generation #{first}" in c.value for c in at.caption)  # which one to go on from is yours
