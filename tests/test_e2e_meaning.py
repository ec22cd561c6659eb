"""Search by meaning in a real headless Chromium: pick "meaning" beside the search box, describe a picture in
other words, and the image it meant comes first; "More like this" from its detail lists its neighbours."""

import pytest
from playwright.sync_api import expect

from studio.core.request import ImageRequest
from studio.services.meaning_index import wait_for_vectors
from tests.browser import ARTIFACTS, browser_page, streamlit_server
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.browser


def test_search_by_meaning_in_a_real_browser(studio, studio_env, demo_server, tmp_path):
    for prompt in ("a red fox in the snow", "foggy port at dawn", "a bowl of ramen", "a crimson vulpine in winter"):
        studio.generate(ImageRequest(prompt=prompt, model=studio.settings.model, quality="low"))
    wait_for_vectors()
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url,
           "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/gallery")
        page.get_by_text("a bowl of ramen").first.wait_for(timeout=30_000)
        page.get_by_text("meaning", exact=True).click()
        page.get_by_text("needs a description").wait_for(timeout=10_000)  # said before anything is searched
        search = page.get_by_role("textbox", name="Search prompts")
        search.fill("misty harbour")
        search.press("Enter")
        page.get_by_text("Closest in meaning first").wait_for(timeout=30_000)
        page.wait_for_url("**mode=meaning**", timeout=10_000)
        expect(page.locator(".g-tile .g-cap").first).to_have_text("foggy port at dawn", timeout=15_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "gallery-meaning.png"), full_page=True)
        page.goto(f"{url}/gallery?like=1")  # "More like this" for the fox
        page.get_by_text("closest first").wait_for(timeout=30_000)
        expect(page.locator(".g-tile .g-cap").first).to_have_text("a crimson vulpine in winter", timeout=15_000)
