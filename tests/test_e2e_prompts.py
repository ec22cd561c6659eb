"""In a real headless Chromium, issue 13's path: one template becomes a prompt × quality grid on Compare, the
best variant is taken to Generate, edited and sent three times, and the Gallery's detail view shows the four
versions with their diffs."""

import pytest

from studio.core.config import load_settings
from studio.services.prompt_history import prompt_versions
from studio.services.studio import Studio
from tests.browser import ARTIFACTS, browser_page, streamlit_server
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.browser


def test_template_grid_pick_iterate_versions(studio_env, demo_server, tmp_path):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_MODEL": "gpt-image-2",
           "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/compare")
        page.get_by_label("Prompt", exact=True).fill("a {red|green} fox in snow")
        page.get_by_label("Second axis").click()
        page.get_by_role("option", name="prompt (a template's variants)").click()
        page.get_by_text("red: a red fox in snow").wait_for(timeout=30_000)
        assert "6 cell(s), 6 image(s)" in page.locator("[data-testid='stAlert']").first.inner_text()
        page.get_by_role("button", name="Run comparison").click()
        iterate = page.get_by_role("button", name="Iterate on this prompt")
        iterate.nth(5).wait_for(timeout=60_000)  # the saved grid: a button under each of the 6 cells
        assert page.get_by_text("quality high · prompt green", exact=True).count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "prompt-matrix.png"), full_page=True)
        iterate.nth(5).click()  # the last cell: quality high, the green fox

        box = page.get_by_label("Prompt", exact=True)
        box.wait_for(timeout=30_000)
        page.get_by_text("Editing the prompt of generation #").wait_for(timeout=30_000)
        assert box.input_value() == "a green fox in snow"
        page.get_by_text("Live preview").click()
        for number, prompt in enumerate(("a green fox in deep snow", "a small green fox in deep snow",
                                         "a small green fox in deep snow at dawn"), start=7):
            box.fill(prompt)
            box.press("Control+Enter")  # commit the text area's value before the click
            page.get_by_role("button", name="Generate").click()
            page.get_by_text(f"Generation #{number}", exact=True).wait_for(timeout=30_000)

        page.goto(f"{url}/gallery?open=9-9")
        page.get_by_text("Prompt versions (4)").wait_for(timeout=30_000)
        versions = page.locator(".prompt-version")
        versions.nth(3).wait_for(timeout=30_000)
        assert versions.count() == 4
        assert [versions.nth(i).locator("ins").all_inner_texts() for i in range(4)] == [[], ["deep"], ["small"], ["at dawn"]]
        page.screenshot(path=str(ARTIFACTS / "prompt-versions.png"), full_page=True)
    studio = Studio.open(load_settings())
    assert [v.prompt for v in prompt_versions(studio, 9)] == [
        "a green fox in snow", "a green fox in deep snow", "a small green fox in deep snow", "a small green fox in deep snow at dawn"]
