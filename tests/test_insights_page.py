"""The Arena and Insights pages under AppTest, on a gallery with real comparisons from the demo endpoint:
votes from the Arena's buttons are stored, the Insights page draws every chart with its CSV, its numbers
match the gallery, and spend shows in the sidebar of every page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.core.pricing import format_usd
from studio.services.arena import arena_stats
from studio.services.comparisons import spend
from studio.services.compare import GridSpec, run_grid
from studio.services.studio import Studio
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("legacy_models")  # priced with gpt-image-1's table (see conftest.py)


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def seeded(studio_env: Path) -> Studio:
    studio = Studio.open(load_settings())
    for prompt in ("a lighthouse in fog", "a red kite"):
        run_grid(studio, GridSpec(ImageRequest(prompt=prompt, model="gpt-image-1", size="1024x1024"), ("low", "medium", "high")))
    studio.generate(ImageRequest(prompt="refused [demo:fail=moderation]", model="gpt-image-1"))
    return studio


def test_arena_buttons_store_votes_and_show_another_pair(studio_env: Path):
    studio = seeded(studio_env)
    at = open_page("views/arena.py")
    assert [i.captions[0] for i in at.image] == ["Left", "Right"]
    assert not any("quality" in m.value for m in at.markdown)  # the tiers stay hidden until the vote
    for key in ("arena_left", "arena_right", "arena_tie"):
        at.button(key=key).click().run()
        assert not at.exception and not at.error
    assert any(s.value.startswith("Vote stored: tie.") for s in at.success)
    assert arena_stats(studio).votes == 3
    assert sum(s.ties for s in arena_stats(studio).overall) == 2  # one tie, counted on both sides


def test_insights_draws_every_chart_with_its_csv_and_the_right_totals(studio_env: Path):
    studio = seeded(studio_env)
    at = open_page("views/arena.py")
    for _ in range(4):
        at.button(key="arena_left").click().run()
    at.switch_page("views/insights.py").run()
    assert not at.exception and not at.error
    charts = at.get("vega_lite_chart")
    assert len(charts) == 6  # spend, latency, images, failures, tokens, win rates
    downloads = [d.label for d in at.get("download_button")]
    assert downloads == ["Download CSV: spend per day", "Download CSV: latency per model × quality × size", "Download CSV: images per day",
                         "Download CSV: failure rate by error code", "Download CSV: tokens per image", "Download CSV: win rate per tier (overall)"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Images"] == "6" and metrics["Arena votes"] == "4"
    assert metrics["Spend (estimate)"] == format_usd(spend(studio).usd) != "no price known"
    assert any("a reseller may charge its own rate" in c.value for c in at.caption)
    spec = json.loads(charts[1].proto.spec)
    assert "median" in json.dumps(spec) and "p90" in json.dumps(spec)

    at.selectbox(key="insights_model").select("gpt-image-1").run()
    assert not at.exception
    at.segmented_control(key="insights_period").set_value("week").run()
    assert "Download CSV: spend per week" in [d.label for d in at.get("download_button")]


def test_spend_shows_in_the_sidebar_of_every_page(studio_env: Path):
    seeded(studio_env)
    for page in ("views/generate.py", "views/gallery.py", "views/insights.py", "views/arena.py"):
        at = open_page(page)
        assert any(c.value.startswith("Today (UTC): $") for c in at.sidebar.caption), page
