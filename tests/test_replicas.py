"""Two `streamlit run` replicas sharing one PostgreSQL database and one S3 bucket, as behind a load balancer:
what one makes, the other shows, with its image loaded by the browser straight from the bucket."""

import io

import pytest
from PIL import Image

from studio.core.config import load_settings
from studio.services.studio import Studio
from tests.browser import browser_page, streamlit_server
from tests.conftest import TEST_KEY


@pytest.mark.parametrize("backend", ["postgres+s3"], indirect=True)
def test_an_image_made_on_one_replica_shows_on_the_other(studio_env, backend_env, demo_server, tmp_path, s3_server):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_MAX_RETRIES": "0", **backend_env}
    # Each replica has its own (empty) data folder: nothing is shared through the local disk.
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    first_dir.mkdir()
    second_dir.mkdir()
    with streamlit_server({**env, "STUDIO_DATA_DIR": str(first_dir / "data")}, first_dir) as first, \
            streamlit_server({**env, "STUDIO_DATA_DIR": str(second_dir / "data")}, second_dir) as second, \
            browser_page() as page:
        page.goto(first)
        prompt = "a lighthouse made on the first replica"
        page.get_by_label("Prompt").fill(prompt)
        page.get_by_text("Live preview").click()  # streamed results carry no revised_prompt at the API
        page.get_by_role("button", name="Generate").click()
        page.get_by_text(f"A detailed rendering of: {prompt}").wait_for(timeout=30_000)

        page.goto(f"{second}/gallery")
        page.get_by_text(prompt, exact=True).first.wait_for(timeout=30_000)
        image = page.locator(f"img[src^='{s3_server.endpoint}/studio-test/']").first
        image.wait_for(timeout=30_000)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
        width = image.evaluate("img => img.naturalWidth")
    made = Studio.open(load_settings()).recent(1)[0]
    assert made.generation.prompt == prompt and made.status == "succeeded"
    assert str(made.images[0].path).startswith(backend_env["STUDIO_STORAGE_URL"])
    assert width in (made.images[0].width, 256)  # the original, or its thumbnail where the gallery shows those
    assert not any(p.is_file() for d in (first_dir, second_dir) for p in (d / "data").rglob("*.png"))
    assert Image.open(io.BytesIO(made.images[0].path.read_bytes())).size == (made.images[0].width, made.images[0].height)
