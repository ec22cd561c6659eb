"""In a real headless Chromium: an SVG carrying a script runs nothing when the studio shows it.

The file on disk is replaced by a hostile one after it was saved (as if it had slipped past the cleaning:
an old version's file, or one copied into the folder by hand), so what is tested here is how the page serves
an SVG: as an image (an `<img>`, where a browser runs no script and fetches nothing), never inlined. The
control at the end shows the same markup does run its script when put into a page: the test can fail."""

import pytest

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.provider.demo.pictures import hostile_svg
from studio.services.studio import Studio
from tests.browser import ARTIFACTS, browser_page, streamlit_server
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.browser


def test_an_svg_with_a_script_runs_nothing_on_the_page(studio_env, demo_server, tmp_path):
    studio = Studio.open(load_settings())
    outcome = studio.generate(ImageRequest(prompt="a logo with a script", model="gpt-image-2.6-flare", output_format="svg"))
    path = outcome.images[0].path
    path.write_bytes(hostile_svg(1024, 1024))  # what the page must serve safely even if it were on disk
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(studio_env),
           "STUDIO_MAX_RETRIES": "0", "STUDIO_MODEL": "gpt-image-2.6-flare"}
    with streamlit_server(env, tmp_path) as url, browser_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url)  # Generate shows the last result at full size
        image = page.locator("[data-testid='stImage'] img").first
        image.wait_for(timeout=30_000)
        page.wait_for_function("document.querySelector(\"[data-testid='stImage'] img\").complete", timeout=30_000)
        page.wait_for_timeout(1000)  # time for an onload handler or a script to have run
        ARTIFACTS.mkdir(exist_ok=True)
        image.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "svg-script.png"), full_page=True)
        # st.image turns an .svg path into a data: URL in an <img>: the hostile file itself, served as an image.
        assert image.get_attribute("src").startswith("data:image/svg+xml;base64,")
        assert "pwned" not in page.title()
        assert page.evaluate("window.pwned === undefined && !document.title.includes('pwned')")
        assert page.evaluate("document.querySelectorAll('svg script, foreignObject').length") == 0  # nothing inlined
        assert page.evaluate("[...document.querySelectorAll('svg rect')].every(r => r.getAttribute('fill') !== '#3366cc')")
        assert dialogs == [] and not any("evil.example" in r for r in requests)
        assert image.evaluate("img => img.naturalWidth") > 0  # it is shown, as a picture

        # The control: the same markup inlined into a page runs its script at once.
        page.set_content(f"<html><head><title>clean</title></head><body>{hostile_svg().decode()}</body></html>")
        page.wait_for_timeout(300)
        assert page.evaluate("window.pwned === true")
