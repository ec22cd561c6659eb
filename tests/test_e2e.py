"""End to end in a real headless Chromium: start the studio, generate an image, see it, keep a screenshot."""

import pytest

from tests.browser import ARTIFACTS, browser_page, streamlit_server, wait_idle
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.browser


def test_generate_in_a_real_browser(studio_env, demo_server, tmp_path):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url,
           "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(url)
        page.get_by_label("Prompt").fill("a lighthouse on a cliff at dawn")
        page.get_by_text("Live preview").click()  # streamed results carry no revised_prompt at the API
        page.get_by_role("button", name="Generate").click()
        page.get_by_text("A detailed rendering of: a lighthouse on a cliff at dawn").wait_for(timeout=30_000)
        images = page.locator("[data-testid='stImage'] img")
        images.first.wait_for(timeout=10_000)
        assert images.count() == 1
        page.get_by_role("button", name="Download").first.wait_for(timeout=10_000)  # drawn just after the image
        assert page.get_by_role("button", name="Download").count() == 1
        assert "?generation=1" in page.url
        html = page.content()
        assert TEST_KEY not in html
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "generate.png"), full_page=True)
        # A reload reopens the same result from the URL.
        page.reload()
        page.get_by_text("Generation #1").wait_for(timeout=30_000)
        page.locator("[data-testid='stImage'] img").first.wait_for(timeout=10_000)
    logs = list(tmp_path.glob("streamlit-*.log"))
    assert logs and all(TEST_KEY not in log.read_text() for log in logs)


# Under 160 characters, so the gallery's tiles show it whole.
MARKUP = ("**bold** <b>html</b> <script>window.__xss=1</script> <img src=x onerror=\"window.__xss=1\"> "
          "[link](http://evil.example) ![i](http://evil.example/i) :red[r] $x^2$")


def assert_nothing_live(page) -> None:
    """No part of MARKUP became a link, an image, HTML, bold, LaTeX or an icon anywhere on the page."""
    assert page.locator("a[href*=evil]").count() == 0
    assert page.locator("img[src*=evil], img[src='x']").count() == 0
    assert page.locator("b", has_text="html").count() == 0
    assert page.locator("strong", has_text="bold").count() == 0
    assert page.locator("a", has_text="link").count() == 0
    assert page.locator(".katex").count() == 0
    assert page.evaluate("window.__xss") is None


def test_prompts_with_markup_show_literally(studio_env, demo_server, tmp_path):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url,
           "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(url)
        page.get_by_label("Prompt").fill(MARKUP)
        page.get_by_text("Live preview").click()  # streamed results carry no revised_prompt at the API
        page.get_by_role("button", name="Generate").click()
        page.get_by_text(f"A detailed rendering of: {MARKUP}", exact=True).wait_for(timeout=30_000)
        for where in (url, f"{url}/gallery"):
            page.goto(where)
            page.get_by_text(MARKUP, exact=True).first.wait_for(timeout=30_000)
            assert_nothing_live(page)
        # The detail dialog: the prompt diff, the facts table and the caption.
        page.locator(".g-tile").first.click()  # a tile of the grid opens it
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("revised_prompt").first.wait_for(timeout=30_000)
        dialog.get_by_role("button", name="Compare tiers").wait_for(timeout=10_000)
        dialog.locator("[data-testid='stDataFrame'], [data-testid='stTable']").first.wait_for(timeout=10_000)  # the facts
        assert_nothing_live(page)
        # Compare, opened with this prompt: the notice of what changed, then the grid of results.
        dialog.get_by_role("button", name="Compare tiers").click()
        page.get_by_text("Settings from generation #1:").wait_for(timeout=30_000)
        assert_nothing_live(page)
        page.get_by_role("button", name="Run comparison").click()
        page.get_by_text("3 of 3 done", exact=False).first.wait_for(timeout=60_000)
        page.get_by_text(MARKUP, exact=True).first.wait_for(timeout=30_000)
        assert_nothing_live(page)


def test_direct_links_go_through_the_app_and_its_sign_in(studio_env, demo_server, tmp_path):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url,
           "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0", "STUDIO_PASSWORD": "open sesame"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        page.goto(f"{url}/gallery")
        page.get_by_label("Password", exact=True).wait_for(timeout=30_000)
        assert page.get_by_text("Gallery", exact=True).count() == 0
        page.get_by_label("Password", exact=True).fill("open sesame")
        page.get_by_role("button", name="Sign in").click()
        nav = page.locator("[data-testid='stSidebarNav']")
        nav.get_by_role("link", name="Compare").wait_for(timeout=30_000)
        assert nav.get_by_role("link").count() == 6  # only the app's own pages are offered (Generate, Gallery, Edit, Compare, Arena, Insights)


def test_a_typed_prompt_survives_a_look_at_the_gallery(studio_env, demo_server, tmp_path):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url,
           "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(url)
        page.get_by_label("Prompt").wait_for(timeout=30_000)
        wait_idle(page)  # the first run has ended
        page.get_by_label("Prompt").fill("typed, then a look at the gallery")
        page.get_by_label("Prompt").blur()  # the text reaches the server when the field loses focus
        page.wait_for_timeout(300)
        wait_idle(page)  # ...and the run it starts has ended
        assert page.get_by_label("Prompt").input_value() == "typed, then a look at the gallery"
        page.get_by_role("link", name="Gallery").click()
        page.get_by_role("heading", name="Gallery").wait_for(timeout=30_000)
        page.get_by_role("link", name="Generate").click()
        page.get_by_role("heading", name="Generate").wait_for(timeout=30_000)
        wait_idle(page)
        # One connection throughout: a page loaded afresh (a new session) would start empty by design.
        assert (page.get_by_label("Prompt").input_value(), len(sockets)) == ("typed, then a look at the gallery", 1)
