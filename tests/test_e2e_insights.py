"""In a real headless Chromium: the Arena's keys (← → ↓) record votes, and the Insights page draws its charts."""

from __future__ import annotations

import pytest

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.services.arena import arena_stats
from studio.services.compare import GridSpec, run_grid
from studio.services.studio import Studio
from tests.browser import ARTIFACTS, browser_page, streamlit_server
from tests.conftest import TEST_KEY

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("legacy_models")]  # gpt-image-1: see conftest.py


def test_arena_keys_record_votes_and_insights_draws_its_charts(studio_env, demo_server, tmp_path):
    studio = Studio.open(load_settings())
    run_grid(studio, GridSpec(ImageRequest(prompt="a lighthouse in fog", model="gpt-image-1", size="1024x1024"), ("low", "medium", "high")))
    studio.generate(ImageRequest(prompt="refused [demo:fail=moderation]", model="gpt-image-1"))
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url,
           "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/arena")
        page.locator("[data-testid='stImage'] img").nth(1).wait_for(timeout=30_000)
        for number, (key, choice) in enumerate((("ArrowLeft", "left"), ("ArrowRight", "right"), ("ArrowDown", "tie")), start=1):
            page.locator("[data-testid='stImage'] img").nth(1).wait_for(timeout=30_000)  # the pair is drawn
            page.wait_for_load_state("networkidle")  # and the page's run has ended, so the key is not lost to a rerun
            page.get_by_text("Which is better?").click()  # keys go to the page, not a widget
            page.keyboard.press(key)
            page.get_by_text(f"Vote stored: {choice}.").wait_for(timeout=30_000)
            page.get_by_text(f"{number} vote(s) this session").wait_for(timeout=30_000)
        stats = arena_stats(studio)
        assert stats.votes == 3 and sum(s.ties for s in stats.overall) == 2

        page.goto(f"{url}/insights")
        charts = page.locator("[data-testid='stVegaLiteChart']")
        charts.nth(5).wait_for(timeout=30_000)
        assert charts.count() == 6
        for index in range(6):  # Vega drew each one (a canvas or an SVG with marks)
            charts.nth(index).locator("canvas, svg").first.wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Download CSV: spend per day").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "insights.png"), full_page=True)
