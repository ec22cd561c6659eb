"""In a real headless Chromium: a streamed generation shows a partial image before the final one, and an
edit started from a gallery image with a mask painted on the canvas keeps its lineage."""

from PIL import Image
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.services.studio import Studio
from tests.browser import ARTIFACTS, browser_page, streamlit_server
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.browser


def server_env(studio_env, demo_server) -> dict[str, str]:
    return {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url,
            "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}


def test_live_preview_shows_a_partial_image_before_the_final_one(studio_env, demo_server, tmp_path):
    with streamlit_server(server_env(studio_env, demo_server), tmp_path) as url, browser_page() as page:
        page.goto(url)
        # The demo pauses 1.5 s after each partial image, so the preview stays up long enough to be seen.
        page.get_by_label("Prompt").fill("a kite over the dunes [demo:partial_delay=1.5]")
        page.get_by_role("button", name="Generate").click()
        preview = page.get_by_text("Live preview: partial image 1")
        preview.wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Download").count() == 0  # the final image is not there yet
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live-preview.png"))
        page.get_by_role("button", name="Download").wait_for(timeout=30_000)
        assert page.get_by_text("Live preview: partial image").count() == 0  # the final image took its place
        assert page.locator("[data-testid='stImage'] img").count() == 1
    generation = Studio.open(load_settings()).latest().generation
    assert (generation.stream, generation.partial_images, generation.status) == (True, 2, "succeeded")


def test_edit_from_the_gallery_with_a_painted_mask(studio_env, demo_server, tmp_path):
    studio = Studio.open(load_settings())
    original = studio.generate(ImageRequest(prompt="a plain wall", model="gpt-image-2", size="1024x1024"))
    root = original.images[0]
    with streamlit_server(server_env(studio_env, demo_server), tmp_path) as url, browser_page() as page:
        page.goto(url)
        page.get_by_role("link", name="Gallery", exact=True).click()
        page.locator(".g-tile").first.click()  # a tile of the grid opens the image view, whose actions include Edit
        edit_link = page.get_by_role("dialog").get_by_role("link", name="Edit this image", exact=True).first
        edit_link.wait_for(timeout=30_000)
        edit_link.click()
        page.get_by_text(f"1 · edited · gallery #{root.id} · 1024x1024").wait_for(timeout=30_000)
        assert f"source_image={root.id}" in page.url

        page.get_by_text("Draw on the first image").click()
        page.get_by_text("Nothing painted yet").wait_for(timeout=30_000)
        # The drawing surface is fabric's upper canvas; a page that was re-drawn may still hold a hidden one.
        canvas = page.locator("canvas.upper-canvas:visible").last
        canvas.wait_for(timeout=30_000)
        painted = page.get_by_text("The painted area is")
        # The canvas (an iframe component) may still be settling when it first shows: a stroke drawn before it
        # listens is lost, so draw again until the page says what was painted (the same band each time).
        for _attempt in range(3):
            box = canvas.bounding_box()
            # Paint a thick band across the top-left quarter of the (640 px wide) canvas.
            page.mouse.move(box["x"] + 20, box["y"] + 60)
            page.mouse.down()
            for step in range(1, 11):
                page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 60, steps=2)
            page.mouse.up()
            try:
                painted.wait_for(timeout=10_000)
                break
            except PlaywrightTimeout:
                continue
        painted.wait_for(timeout=10_000)

        page.get_by_label("Prompt").fill("a window on the left")
        page.get_by_role("button", name="Edit image", exact=True).click()
        page.get_by_text(f"Lineage: #{root.id} → #").wait_for(timeout=60_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "edit.png"), full_page=True)

    edit = studio.latest()
    assert edit.generation.endpoint == "edits" and edit.status == "succeeded"
    assert [(s.role, s.image_id) for s in edit.generation.sources] == [("image", root.id), ("mask", None)]
    assert studio.lineage(edit.images[0].id).chain == [root.id, edit.images[0].id]
    with Image.open(root.path) as before, Image.open(edit.images[0].path) as after:
        before, after = before.convert("RGB"), after.convert("RGB")
        # Canvas (60, 120) is image (96, 192) at 1024/640: painted, so changed; the far corner is kept.
        assert after.getpixel((192, 96)) != before.getpixel((192, 96))
        assert after.getpixel((1000, 1000)) == before.getpixel((1000, 1000))
