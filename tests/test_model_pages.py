"""The catalog on the pages (AppTest): the sidebar refuses a shut-down model and offers its successor, "use
these settings" on an old image offers the successor, the Generate form shows only what the model takes
(complexity and frame_count for gpt-image-2.6, gif/svg without live preview), and Compare runs complexity
low/medium/high at xhigh, as the issue's designer does."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.services.studio import Studio
from tests.test_gallery_page import prompts as grid_prompts
from tests.conftest import LEGACY_CATALOG, ROOT, run_comparison

APP = str(ROOT / "app.py")


def page(name: str, query_params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query_params or {})
    at.switch_page(name)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_shut_down_model_is_refused_in_the_sidebar_with_its_date_and_successor(studio_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STUDIO_MODEL", "gpt-image-1")
    at = page("views/generate.py")
    errors = [e.value for e in at.sidebar.error]
    assert any("gpt-image-1 was shut down on 2026-10-23; use gpt-image-2.5-flare instead." in e for e in errors), errors
    assert "gpt-image-1" not in at.sidebar.selectbox(key="model").options[1:]  # offered only as the current value
    at.text_area(key="prompt").input("a lighthouse")
    at.button[[b.label for b in at.button].index("Generate")].click().run()
    assert any("gpt-image-1 was shut down" in e.value for e in at.error)  # refused locally: nothing sent
    assert Studio.open(load_settings()).latest() is None
    at.sidebar.button(key="use_successor").click().run()
    assert at.sidebar.selectbox(key="model").value == "gpt-image-2.5-flare"
    assert not at.sidebar.error


def test_use_these_settings_on_an_old_image_offers_the_successor(studio_env: Path):
    catalog = studio_env / "catalog.toml"
    studio_env.mkdir(parents=True, exist_ok=True)
    catalog.write_text(LEGACY_CATALOG)  # made while gpt-image-1 still ran
    studio = Studio.open(load_settings())
    old = studio.generate(ImageRequest(prompt="an old lighthouse", model="gpt-image-1", quality="high", size="1536x1024"))
    catalog.unlink()  # and now it has shut down
    at = page("views/gallery.py", {"open": f"{old.generation_id}-{old.images[0].id}"})
    assert at.image  # the old image stays browsable
    at.button(key="d_use").click().run()
    assert not at.exception
    assert at.sidebar.selectbox(key="model").value == "gpt-image-2.5-flare"
    assert at.text_area(key="prompt").value == "an old lighthouse" and at.selectbox(key="quality").value == "high"
    notice = at.info[0].value
    assert "gpt-image-1 was shut down on 2026-10-23" in notice and "offered with gpt-image-2.5-flare" in notice
    assert not at.sidebar.error


def test_the_form_shows_only_what_the_model_takes(studio_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STUDIO_MODEL", "gpt-image-2")
    at = page("views/generate.py")
    assert at.selectbox(key="quality").options == ["auto", "low", "medium", "high"]
    assert at.selectbox(key="output_format").options == ["png", "jpeg", "webp"]
    assert "complexity" not in [s.key for s in at.selectbox]
    at.sidebar.selectbox(key="model").select("gpt-image-2.6-flare").run()
    assert at.selectbox(key="quality").options == ["auto", "low", "medium", "high", "xhigh", "max"]
    assert at.selectbox(key="complexity").options == ["not sent (model default)", "low", "medium", "high"]
    assert "frame_count" not in [n.key for n in at.number_input]
    at.selectbox(key="output_format").select("gif").run()
    assert "frame_count" in [n.key for n in at.number_input]
    assert any("gif output does not stream" in c.value for c in at.caption)
    at.selectbox(key="quality").select("xhigh").run()
    at.sidebar.selectbox(key="model").select("gpt-image-2").run()  # xhigh and gif are not taken: reset, said
    assert at.selectbox(key="quality").value == "auto" and at.selectbox(key="output_format").value == "png"
    assert any("quality xhigh is not taken by gpt-image-2; it was reset." in c.value for c in at.caption)


def test_a_designer_makes_a_six_frame_gif_on_the_generate_page(studio_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STUDIO_MODEL", "gpt-image-2.6-flare")
    at = page("views/generate.py")
    at.text_area(key="prompt").input("a waving flag")
    at.selectbox(key="output_format").select("gif").run()
    at.number_input(key="frame_count").set_value(6).run()
    at.selectbox(key="complexity").select("high").run()
    at.button[[b.label for b in at.button].index("Generate")].click().run()
    for _ in range(30):  # the request runs off the page thread; each run shows how far it got
        if Studio.open(load_settings()).latest() is not None and Studio.open(load_settings()).latest().status != "pending":
            break
        at.run()
    outcome = Studio.open(load_settings()).latest()
    assert outcome.status == "succeeded", outcome.generation.error_message
    g = outcome.generation
    assert (g.model, g.output_format, g.frame_count, g.complexity, g.stream) == ("gpt-image-2.6-flare", "gif", 6, "high", None)


def test_compare_runs_complexity_at_xhigh(studio_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STUDIO_MODEL", "gpt-image-2.6-flare")
    at = page("views/compare.py")
    assert at.multiselect(key="compare_quality").value == ["high", "xhigh", "max"]
    assert "complexity" in at.selectbox(key="compare_axis").options
    at.multiselect(key="compare_quality").set_value(["xhigh"]).run()
    at.selectbox(key="compare_axis").select("complexity").run()
    assert at.multiselect(key="compare_values_complexity").value == ["low", "medium", "high"]
    assert any("no price known for gpt-image-2.6-flare with complexity set" in i.value.lower() for i in at.info)
    at.text_area(key="compare_prompt").input("a fox logo").run()
    run_comparison(at)
    assert not at.exception
    generations = [Studio.open(load_settings()).records.get(i) for i in range(1, 4)]
    assert sorted((g.quality, g.complexity, g.status) for g in generations) == [
        ("xhigh", c, "succeeded") for c in ("high", "low", "medium")]


def test_the_gallery_filters_by_complexity_and_frame_count(studio_env: Path):
    studio = Studio.open(load_settings())
    studio.generate(ImageRequest(prompt="planned hard", model="gpt-image-2.6-flare", output_format="gif", frame_count=6, complexity="high"))
    studio.generate(ImageRequest(prompt="planned lightly", model="gpt-image-2.6-flare", complexity="low"))
    at = page("views/gallery.py")
    prompts = lambda: grid_prompts(at)  # noqa: E731 - the prompts of the grid's tiles
    assert sorted(prompts()) == ["planned hard", "planned lightly"]
    at.selectbox(key="g_complexity").select("high").run()
    assert prompts() == ["planned hard"] and at.query_params["complexity"] == "high"
    at.selectbox(key="g_complexity").select("All").run()
    at.selectbox(key="g_frames").select(6).run()
    assert prompts() == ["planned hard"] and at.query_params["frames"] == "6"


def test_a_broken_catalog_file_is_one_message_on_the_page(studio_env: Path):
    studio_env.mkdir(parents=True, exist_ok=True)
    (studio_env / "catalog.toml").write_text('[models."gpt-image-2"]\nqualities = "high"\n')
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("catalog.toml" in e.value and "qualities must be a list of quality names" in e.value for e in at.error)
