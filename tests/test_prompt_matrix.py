"""The prompt × quality matrix: a template's variants on one axis of a Compare grid, run over real HTTP to the
demo endpoint, saved as a comparison and re-opened like any other."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.request import ImageRequest, ValidationError
from studio.provider.demo import DemoServer
from studio.services.compare import GridSpec, prompt_grid, run_grid, start_grid
from studio.services.comparisons import open_comparison, recent_comparisons
from studio.services.studio import Studio
from tests.conftest import ROOT, run_comparison

APP = str(ROOT / "app.py")
TEMPLATE = "a {red|green} fox in {snow|rain}"


def test_a_template_runs_as_a_prompt_by_quality_grid_and_reopens(studio: Studio) -> None:
    spec = prompt_grid(ImageRequest(prompt=TEMPLATE, model="gpt-image-2"), ("low", "high"))
    assert spec.axis_values == ("red · snow", "red · rain", "green · snow", "green · rain")
    run, cells = run_grid(studio, spec)
    assert len(cells) == 8 and all(c.status == "succeeded" for c in cells)
    assert {(c.quality, c.generation.prompt) for c in cells} == {
        (q, f"a {colour} fox in {weather}") for q in ("low", "high") for colour in ("red", "green") for weather in ("snow", "rain")}
    assert all(c.generation.quality == c.quality for c in cells)

    saved = open_comparison(studio, run.group_id)
    assert saved.prompt == TEMPLATE and saved.axis == "prompt"
    assert saved.qualities == ["low", "high"]
    assert saved.columns == ["red · snow", "red · rain", "green · snow", "green · rain"]
    cell = next(c for c in saved.cells if c.quality == "high" and c.axis_value == "green · rain")
    assert cell.label == "quality high · prompt green · rain"
    assert cell.field("prompt") == "a green fox in rain" and cell.outcome.images
    assert recent_comparisons(studio)[0].title.split(" · ")[2] == "quality × prompt"


def test_a_malformed_template_is_refused_before_any_request(studio: Studio, demo_server: DemoServer) -> None:
    before = demo_server.config.requests_seen
    with pytest.raises(ValidationError) as caught:
        prompt_grid(ImageRequest(prompt="a {red|green fox", model="gpt-image-2"))
    assert caught.value.problems[0].startswith("The `{` at column 3 is never closed")
    with pytest.raises(ValidationError) as caught:  # a prompt axis without its prompts (not made by prompt_grid)
        start_grid(studio, GridSpec(ImageRequest(prompt="x", model="gpt-image-2"), ("low",), "prompt", ("a", "b")))
    assert "one prompt per value" in caught.value.problems[0]
    assert demo_server.config.requests_seen == before


def test_repeated_labels_stay_apart() -> None:
    spec = prompt_grid(ImageRequest(prompt="{" + "x" * 130 + "a|" + "x" * 130 + "b}", model="gpt-image-2"), ("low",))
    assert len(set(spec.axis_values)) == 2 and spec.axis_values[1].startswith("2: ")


@pytest.fixture
def compare_page(studio_env: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("STUDIO_MODEL", "gpt-image-2")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("views/compare.py").run()
    assert not at.exception
    return at


def test_the_page_lays_prompts_against_quality(compare_page: AppTest, demo_server: DemoServer) -> None:
    at = compare_page
    at.text_area(key="compare_prompt").input("a {red|green} fox")
    at.selectbox(key="compare_axis").select("prompt")
    at.multiselect(key="compare_quality").set_value(["low", "high"])
    at.toggle(key="compare_live_preview").set_value(False)
    at.run()
    assert not at.exception and not at.error
    assert "red: a red fox\ngreen: a green fox" in [t.value for t in at.text]
    assert any("4 cell(s), 4 image(s)" in i.value for i in at.info)
    run_comparison(at)
    assert not at.exception and not at.error
    assert [m.value for m in at.markdown if m.value.startswith("**quality")] == [
        f"**quality {q} · prompt {p}**" for p in ("red", "green") for q in ("low", "high")]  # a row per prompt
    assert len([i for i in at.image if i.captions[0].startswith("image 1 ·")]) == 4
    picked = next(b for b in at.button if b.key and b.key.startswith("compare_iterate_1_3"))  # green, high
    picked.click().run()  # "Iterate on this prompt": Generate, with that variant's prompt and settings
    at.switch_page("views/generate.py").run()
    assert at.text_area(key="prompt").value == "a green fox" and at.selectbox(key="quality").value == "high"
    assert any(c.value.startswith("Editing the prompt of generation #") for c in at.caption)


def test_the_page_explains_a_malformed_template_and_sends_nothing(compare_page: AppTest, demo_server: DemoServer) -> None:
    at = compare_page
    at.text_area(key="compare_prompt").input("a {red|green fox")
    at.selectbox(key="compare_axis").select("prompt").run()
    assert any("never closed" in e.value for e in at.error)
    before = demo_server.config.requests_seen
    at.button(key="compare_run").click().run()
    assert demo_server.config.requests_seen == before
    assert any("Nothing was sent" in e.value for e in at.error)


@pytest.mark.parametrize("backend", ["postgres+local"], indirect=True)
def test_long_variant_labels_fit_the_saved_grid_on_postgresql(studio: Studio) -> None:
    long = "very " * 40  # 200 characters: the label is cut to the 128 a cell holds; the prompt is sent whole
    spec = prompt_grid(ImageRequest(prompt="a {" + long + "red|" + long + "green} fox", model="gpt-image-2"), ("low",))
    run, cells = run_grid(studio, spec)
    assert all(c.status == "succeeded" for c in cells)
    saved = open_comparison(studio, run.group_id)
    assert [len(v) for v in saved.columns] == [128, 128] and saved.columns[1].startswith("2: ")
    assert sorted(c.generation.prompt for c in saved.cells) == [f"a {long}green fox", f"a {long}red fox"]
