"""In a real Chromium against a real `streamlit run`: three prompts submitted in a row while the page stays
usable, a fourth cancelled from the jobs tray before it is sent, the tab closed, and the Gallery opened in a
new tab watching the three arrive."""

from __future__ import annotations

import time

import pytest

from studio.core.config import load_settings
from studio.db.models import Job
from studio.services.studio import Studio
from tests.browser import ARTIFACTS, browser_page, streamlit_server, wait_idle
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.browser

# Long enough that the three still run when a new tab opens the Gallery on a loaded machine (a cold page start
# there can take over 10 s).
PROMPTS = ["a red kite [demo:delay=25]", "a blue boat [demo:delay=25]", "a green hill [demo:delay=25]"]


def test_three_prompts_run_in_the_background_and_arrive_in_the_gallery(studio_env, demo_server, tmp_path):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(studio_env),
           "STUDIO_MAX_RETRIES": "0", "STUDIO_JOBS_PER_PROVIDER": "3"}
    before = demo_server.config.requests_seen
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(url)
        page.get_by_label("Prompt").wait_for(timeout=30_000)
        for number, prompt in enumerate([*PROMPTS, "never sent [demo:delay=25]"], start=1):
            page.get_by_label("Prompt").fill(prompt)
            page.get_by_role("button", name="Generate").click()
            # The job is in the tray at once: the page did not wait for the request.
            try:
                page.locator(f".st-key-job_card_{number}").wait_for(timeout=10_000)
            except Exception:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "jobs-fail.png"), full_page=True)
                raise
        page.locator(".st-key-job_card_4", has_text="queued").wait_for(timeout=10_000)  # three at once: the fourth waits
        page.locator(".st-key-job_card_4").get_by_role("button", name="Cancel").click()
        page.locator("[data-testid='stToast']", has_text="Job #4 cancelled before it was sent: nothing was billed.").wait_for(timeout=10_000)
        assert page.locator(".st-key-job_card_4").count() == 0
        page.locator(".st-key-job_card_1", has_text="running").wait_for(timeout=10_000)

        # Close the tab; open the Gallery in a new one while the three still run.
        other = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
        page.close()
        other.goto(f"{url}/gallery")
        other.locator("[class*='st-key-job_card_']").first.wait_for(timeout=30_000)  # the tray shows the gallery's jobs, any tab's
        other.locator("[data-testid='stToast']").first.wait_for(timeout=60_000)  # a job ended
        for prompt in PROMPTS:  # landed in the grid with its image, shown without a click (the tray's card has the text too)
            other.locator(".g-tile:not(.g-failed)", has_text=prompt).locator("img").first.wait_for(timeout=30_000)
        other.get_by_text("No job queued or running.").wait_for(timeout=10_000)
        ARTIFACTS.mkdir(exist_ok=True)
        other.screenshot(path=str(ARTIFACTS / "jobs-gallery.png"), full_page=True)
    assert demo_server.config.requests_seen - before == 3  # the cancelled one was never sent
    studio = Studio.open(load_settings())
    with studio.records.session() as session:
        jobs = {job.id: job.status for job in session.query(Job)}
    assert jobs == {1: "succeeded", 2: "succeeded", 3: "succeeded", 4: "cancelled"}
    assert sorted(o.generation.prompt for o in studio.recent()) == sorted(PROMPTS)


def test_pressing_generate_gives_the_page_back_at_once(studio_env, demo_server, tmp_path):
    """The page is usable again (the Generate button can be pressed) well before the request ends."""
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(studio_env),
           "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(url)
        page.get_by_label("Prompt").fill("a slow one [demo:delay=5]")
        started = time.monotonic()
        page.get_by_role("button", name="Generate").click()
        page.locator(".st-key-job_card_1").wait_for(timeout=5_000)
        page.get_by_role("button", name="Generate").wait_for(state="visible", timeout=5_000)
        assert page.get_by_role("button", name="Generate").is_enabled()
        assert time.monotonic() - started < 4  # long before the 5 s request could have ended
        page.get_by_text("a slow one [demo:delay=5]", exact=True).first.wait_for(timeout=30_000)


def test_a_comparison_runs_while_the_page_stays_usable(studio_env, demo_server, tmp_path):
    """Compare's cells are jobs: the page shows their progress and takes clicks while they run, then the saved grid."""
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(studio_env),
           "STUDIO_MAX_RETRIES": "0", "STUDIO_MODEL": "gpt-image-2"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/compare")
        page.get_by_label("Prompt", exact=True).fill("a slow lighthouse [demo:delay=6]")
        page.get_by_label("Prompt", exact=True).blur()
        cells = int(page.locator("[data-testid='stAlert']", has_text="cell(s)").first.inner_text().split(" cell(s)")[0])
        started = time.monotonic()
        page.get_by_role("button", name="Run comparison").click()
        page.get_by_text(f"0 of {cells} done", exact=False).wait_for(timeout=5_000)
        wait_idle(page, 5_000)  # no run holds the page: the cells run in the background
        assert time.monotonic() - started < 5  # long before the 6 s requests could have ended
        page.locator("[class*='st-key-job_card_']").first.wait_for(timeout=5_000)  # the cells are in the jobs tray
        page.get_by_role("link", name="Gallery").click()  # leave and come back: the run goes on
        page.get_by_role("heading", name="Gallery").wait_for(timeout=30_000)
        page.get_by_role("link", name="Compare").click()
        page.get_by_text(f"{cells} of {cells} done", exact=False).first.wait_for(timeout=60_000)  # the saved grid
        page.get_by_role("button", name="Mark as winner").nth(cells - 1).wait_for(timeout=10_000)  # one under each cell


def test_a_press_that_comes_with_a_new_prompt_sends_that_prompt(studio_env, demo_server, tmp_path):
    """Generate reruns only its own fragment, with the request the page's last full run drew. When the prompt
    box's change and the press leave the browser in one rerun (the box commits on blur, as the button is
    pressed), that rerun was the fragment's alone and sent the prompt from before; now the page runs first
    and the press is kept for it."""
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(studio_env),
           "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(url)
        box = page.get_by_label("Prompt")
        box.fill("an old prompt, never sent")
        box.blur()
        wait_idle(page)  # the page ran with it: the request drawn says it
        box.fill("a whale in the bay")
        page.evaluate("""() => {
            document.querySelector('textarea[aria-label="Prompt"]').blur();
            [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Generate').click();
        }""")
        page.get_by_text("Generation #1", exact=True).wait_for(timeout=30_000)
        wait_idle(page)
    studio = Studio.open(load_settings({"STUDIO_DATA_DIR": str(studio_env)}, secrets_path=studio_env / "none.toml"))
    assert [o.generation.prompt for o in studio.recent()] == ["a whale in the bay"]
