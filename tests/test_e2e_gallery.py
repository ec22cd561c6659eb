"""The Gallery's grid in a real headless Chromium against a real studio server and a seeded gallery of
400 items: scrolling appends keyset pages (and drops far ones), Shift-click selects a range, a bulk
action acts on it, the lightbox's keys step across a page boundary, the URL restores the view, a
browser that has not signed in receives no image, and a full image's URL is a content hash that goes
when no session shows it."""

from __future__ import annotations

import json
import random
import re
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import expect

from bench.gallery import seed
from studio.core.config import load_settings
from studio.services.gallery import GalleryService
from studio.services.studio import Studio
from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, IDLE, streamlit_server, wait_idle
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.browser
ITEMS = 400  # newest first: generation 400 down to 1; every 97th (388, 291, 194, 97) failed


@pytest.fixture(scope="module")
def gallery_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("grid-gallery")
    settings = load_settings({"STUDIO_DATA_DIR": str(root)}, secrets_path=root / "no-secrets.toml")
    seed(GalleryService(Studio.open(settings)), ITEMS, random.Random(11))
    return root


def _env(root: Path, demo_server, **extra: str) -> dict[str, str]:
    return {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(root),
            "STUDIO_MAX_RETRIES": "0", "STUDIO_DATABASE_URL": "", "STUDIO_STORAGE_URL": "", **extra}


@pytest.fixture(scope="module")
def server(gallery_dir: Path, demo_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(_env(gallery_dir, demo_server), tmp_path_factory.mktemp("grid-logs")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def tile_keys(page) -> list[str]:
    return page.locator(".g-tile").evaluate_all("tiles => tiles.map(t => t.dataset.k)")


def open_gallery(page, url: str, query: str = "") -> None:
    page.goto(f"{url}/gallery{query}")
    page.locator(".g-tile").nth(47).wait_for(timeout=30_000)


HOST = '[data-testid="stBidiComponentIsolated"]'  # the grid element's shadow host


def scroll_to(page, which: str) -> None:
    """Bring the grid's first or last tile into view, as a user scrolling would (tiles come and go meanwhile)."""
    page.evaluate(f"""() => {{ const tiles = document.querySelector('{HOST}').shadowRoot.querySelectorAll('.g-tile');
        const tile = tiles['{which}' === 'last' ? tiles.length - 1 : 0]; if (tile) tile.scrollIntoView({{block: 'center'}}); }}""")


def scroll_down(page) -> None:
    scroll_to(page, "last")
    page.mouse.wheel(0, 3000)


def test_scrolling_appends_pages_and_keeps_the_window_bounded(server, page) -> None:
    open_gallery(page, server)
    first = tile_keys(page)
    assert first[0].startswith("400-") and len(first) >= 48
    on_screen = page.locator(".g-tile").evaluate_all(
        "ts => ts.filter(t => { const r = t.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }).length")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery-grid.png"))
    assert on_screen >= 24  # a screenful at 1440x900
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery-grid.png"))
    seen = set(first)
    for _ in range(40):
        scroll_down(page)
        page.wait_for_timeout(250)
        keys = tile_keys(page)
        assert len(keys) == len(set(keys)) and len(keys) <= 5 * 48  # no duplicates; the window stays bounded
        seen |= set(keys)
        if len(seen) >= ITEMS:
            break
    assert len(seen) == ITEMS  # every item reached by scrolling alone, with no button
    assert first[0] not in tile_keys(page)  # the first page was dropped from the DOM
    page.get_by_text("the end of this view", exact=False).wait_for(timeout=10_000)
    # Scrolling back up brings the dropped pages back.
    for _ in range(40):
        scroll_to(page, "first")
        page.mouse.wheel(0, -3000)
        page.wait_for_timeout(250)
        if first[0] in tile_keys(page):
            break
    assert first[0] in tile_keys(page)


def test_shift_click_selects_a_range_and_a_bulk_favourite_acts_on_it(server, page) -> None:
    open_gallery(page, server)
    tiles = page.locator(".g-tile")
    tiles.nth(1).locator(".g-check").click()
    tiles.nth(5).click(modifiers=["Shift"])
    page.get_by_text("5 selected").wait_for(timeout=5_000)
    tiles.nth(8).click(modifiers=["Control"])
    page.get_by_text("6 selected").wait_for(timeout=5_000)
    tiles.nth(9).focus()
    page.keyboard.press("Space")  # the keyboard selects too
    page.get_by_text("7 selected").wait_for(timeout=5_000)
    page.keyboard.press("Space")
    page.get_by_text("6 selected").wait_for(timeout=5_000)
    page.screenshot(path=str(ARTIFACTS / "gallery-selection.png"))
    chosen = [tile_keys(page)[i] for i in (1, 2, 3, 4, 5, 8)]
    page.locator(".g-bar button[data-op='favourite']").click()
    page.get_by_text("Marked 6 image(s) as favourites.").wait_for(timeout=15_000)
    page.wait_for_function("() => !document.querySelector('.g-bar') || true")
    for key in chosen:
        page.locator(f".g-tile[data-k='{key}'][data-fav='1']").wait_for(timeout=10_000)
    assert page.locator(".g-tile.g-sel").count() == 0  # the selection was used and cleared
    page.locator(f".g-tile[data-k='{chosen[0]}'] .g-check").click()
    page.locator(".g-bar button[data-op='unfavourite']").click()
    page.get_by_text("Took 1 image(s) out of the favourites.").wait_for(timeout=15_000)
    page.locator(f".g-tile[data-k='{chosen[0]}'][data-fav='0']").wait_for(timeout=10_000)


def test_lightbox_keys_step_across_a_page_boundary_favourite_and_close(server, page) -> None:
    open_gallery(page, server)
    keys = tile_keys(page)
    last_of_first_page = keys[47]
    page.locator(f".g-tile[data-k='{last_of_first_page}']").click()
    dialog = page.get_by_role("dialog")
    number = last_of_first_page.split("-")[0]
    dialog.get_by_text(f"Generation #{number} ·").wait_for(timeout=15_000)
    dialog.get_by_text("← → previous / next").wait_for(timeout=15_000)  # the keys are listened to
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery-lightbox.png"))
    assert f"open={last_of_first_page}" in page.url
    page.keyboard.press("ArrowRight")  # the first item of the second keyset page
    following = keys[48] if len(keys) > 48 else None
    expected = following.split("-")[0] if following else str(int(number) - 1)
    dialog.get_by_text(f"Generation #{expected} ·").wait_for(timeout=15_000)
    page.keyboard.press("ArrowLeft")
    dialog.get_by_text(f"Generation #{number} ·").wait_for(timeout=15_000)
    page.keyboard.press("f")
    dialog.get_by_role("button", name="★ Unfavourite").wait_for(timeout=15_000)
    page.keyboard.press("f")
    dialog.get_by_role("button", name="☆ Favourite").wait_for(timeout=15_000)
    dialog.get_by_role("button", name="Use these settings").wait_for()  # the detail actions stay reachable
    dialog.get_by_role("button", name="Compare tiers").wait_for()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=15_000)
    page.wait_for_function("() => !location.search.includes('open=')", timeout=15_000)


def search(page, words: str) -> None:
    """Type a search once the page has settled, as a person reading it would, and wait for the URL to say it.

    (A search entered as the page opened was, about once in 20-35 tries on a loaded machine, kept in the box
    but not applied: it went out with the grid's first request for a page, as that fragment's rerun. The
    page now reruns for it; the tests below send such a batch on purpose.)"""
    wait_idle(page)
    box = page.get_by_role("textbox", name="Search prompts")
    box.fill(words)
    box.press("Enter")
    try:
        page.wait_for_function(f"() => location.search.includes('q={words}')", timeout=20_000)
    except Exception as exc:
        running = not page.evaluate(IDLE)
        raise AssertionError(f"the URL never took the search: box {box.input_value()!r}, a run going on: {running}, "
                             f"URL {page.url}") from exc


def test_the_url_restores_the_search_after_a_reload(server, page) -> None:
    open_gallery(page, server)
    search(page, "lighthouse")
    page.wait_for_function(
        "() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && e.shadowRoot.querySelector('.g-tile'))",
        timeout=15_000)
    page.reload()
    page.locator(".g-tile").first.wait_for(timeout=30_000)
    # The grid is drawn before the search box (its thumbnails first): the box shows the search once it is drawn.
    expect(page.get_by_role("textbox", name="Search prompts")).to_have_value("lighthouse", timeout=15_000)
    captions = page.locator(".g-tile .g-cap").all_text_contents()
    assert captions and all(re.search(r"lighthouse", c) for c in captions)


FRAGMENT_EVENTS = {  # a fragment's own event, sent in the same task of the browser as the search
    "the grid opens a tile": f"document.querySelector('{HOST}').shadowRoot.querySelector('.g-tile').click()",
    "the jobs tray's clock ticks": "window.dispatchEvent(new CustomEvent('studio-jobs-sent'))",
}


@pytest.mark.parametrize("event", FRAGMENT_EVENTS)
def test_a_search_entered_in_the_moment_of_a_fragment_event_still_applies(server, page, event) -> None:
    """Streamlit's browser side sends the widget changes of one moment as one rerun, and when one of them is
    a fragment's (the grid, the jobs tray) that rerun was the fragment's alone: a search entered just as the
    grid asked for a page or the tray's clock ticked reached the session but not the page (the box said
    "lighthouse", the grid and the URL did not)."""
    open_gallery(page, server)
    wait_idle(page)
    page.get_by_role("textbox", name="Search prompts").fill("lighthouse")
    page.evaluate(f"""() => {{
        const box = document.querySelector('input[aria-label="Search prompts"]');
        box.dispatchEvent(new KeyboardEvent('keydown', {{key: 'Enter', code: 'Enter', keyCode: 13, bubbles: true}}));
        {FRAGMENT_EVENTS[event]};
    }}""")
    page.wait_for_function("() => location.search.includes('q=lighthouse')", timeout=20_000)
    wait_idle(page)
    captions = page.locator(".g-tile .g-cap").all_text_contents()
    assert captions and all(re.search(r"lighthouse", c) for c in captions)


def test_a_browser_that_has_not_signed_in_gets_no_image(gallery_dir, demo_server, browser, tmp_path) -> None:
    env = _env(gallery_dir, demo_server, STUDIO_PASSWORD="open sesame")
    with streamlit_server(env, tmp_path) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        try:
            page = context.new_page()
            images: list[str] = []
            page.on("response", lambda r: images.append(r.url) if r.request.resource_type == "image" else None)
            page.goto(f"{url}/gallery")
            page.get_by_label("Password", exact=True).wait_for(timeout=30_000)
            page.wait_for_timeout(1000)
            assert page.locator(".g-tile").count() == 0 and "data:image" not in page.content()
            assert not images  # nothing was served as an image either
            page.get_by_label("Password", exact=True).fill("open sesame")
            page.get_by_role("button", name="Sign in").click()
            page.locator(".g-tile img").nth(47).wait_for(timeout=30_000)  # signed in: the thumbnails come
        finally:
            context.close()


def _status(address: str) -> int:
    """The HTTP status a plain client (no cookie, no session) gets for `address`."""
    try:
        with urllib.request.urlopen(address, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _gone(address: str, seconds: float = 15) -> bool:
    """Whether `address` answers 404 within `seconds`."""
    deadline = time.monotonic() + seconds
    while _status(address) != 404 and time.monotonic() < deadline:
        time.sleep(0.2)
    return _status(address) == 404


def test_a_full_image_url_is_a_long_content_hash_and_goes_when_the_page_no_longer_shows_it(gallery_dir, demo_server, browser, tmp_path) -> None:
    """Behind STUDIO_PASSWORD the lightbox's full image comes from Streamlit's /media/<id> URL, which is not
    gated: its id is a 128-bit hash of the image's bytes, nothing near it is served, and it goes with the
    page's first full run that no longer shows the image."""
    env = _env(gallery_dir, demo_server, STUDIO_PASSWORD="open sesame")
    with streamlit_server(env, tmp_path) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{url}/gallery")
            page.get_by_label("Password", exact=True).fill("open sesame")
            page.get_by_role("button", name="Sign in").click()
            page.locator(".g-tile img").nth(47).wait_for(timeout=30_000)
            key = tile_keys(page)[0]
            page.locator(f".g-tile[data-k='{key}']").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text(f"Generation #{key.split('-')[0]} ·").wait_for(timeout=15_000)
            picture = dialog.locator('[data-testid="stImage"] img').first
            picture.wait_for(timeout=15_000)
            src = picture.get_attribute("src") or ""
            found = re.fullmatch(re.escape(url) + r"/media/([0-9a-f]{32})\.png", src)
            assert found, src  # 32 hex digits: a 128-bit BLAKE2b hash of the bytes, not a counter
            with urllib.request.urlopen(src, timeout=10) as response:  # no cookie: the URL alone is enough
                served = response.read()
            image_id = int(key.split("-")[1])
            library = GalleryService(Studio.open(load_settings({"STUDIO_DATA_DIR": str(gallery_dir)}, secrets_path=gallery_dir / "no-secrets.toml")))
            original = library.detail(int(key.split("-")[0]), image_id).absolute_path.read_bytes()
            assert served == original  # the original file, as it is (not a re-encoded copy)
            digest = found.group(1)
            neighbour = digest[:-1] + format((int(digest[-1], 16) + 1) % 16, "x")
            assert _status(f"{url}/media/{neighbour}.png") == 404
            assert _status(f"{url}/media/{secrets.token_hex(16)}.png") == 404
            assert _status(src) == 200  # still shown
            page.keyboard.press("Escape")
            dialog.wait_for(state="detached", timeout=15_000)
            page.wait_for_function("() => !location.search.includes('open=')", timeout=15_000)
            # Closing the image view reruns the grid's fragment only, which keeps the session's media; the
            # page's next full run (a search here) no longer shows the image, and Streamlit drops its URL.
            search(page, "lighthouse")
            assert _gone(src)
        finally:
            context.close()


def test_bulk_export_then_delete_act_on_the_selection(server, page, tmp_path) -> None:
    """Last in this module: it deletes two items of the shared gallery."""
    import zipfile

    open_gallery(page, server)
    keys = tile_keys(page)
    chosen = keys[2:4]
    page.locator(f".g-tile[data-k='{chosen[0]}'] .g-check").click()
    page.locator(f".g-tile[data-k='{chosen[1]}']").click(modifiers=["Shift"])
    page.get_by_text("2 selected").wait_for(timeout=5_000)
    page.locator(".g-bar button[data-op='export']").click()
    page.get_by_text("2 image(s) in the zip").wait_for(timeout=15_000)
    with page.expect_download(timeout=15_000) as download:
        page.get_by_role("button", name="Download the zip").click()
    target = tmp_path / "export.zip"
    download.value.save_as(target)
    assert len([n for n in zipfile.ZipFile(target).namelist() if n.startswith("images/")]) == 2
    assert page.locator(".g-tile.g-sel").count() == 2  # an export keeps the selection for the next action
    page.locator(".g-bar button[data-op='delete']").click()
    page.get_by_text("Delete 2 selected item(s) and their files?").wait_for(timeout=15_000)
    assert set(chosen) <= set(tile_keys(page))  # nothing is deleted before the answer
    page.get_by_role("button", name="Yes, delete them").click()
    page.get_by_text("Deleted 2 item(s)").wait_for(timeout=15_000)
    page.wait_for_function(f"() => !{json.dumps(chosen)}.some(k => [...document.querySelectorAll('*')]"
                           ".some(e => e.shadowRoot && e.shadowRoot.querySelector(`.g-tile[data-k='${k}']`)))", timeout=15_000)
    assert not set(chosen) & set(tile_keys(page)) and tile_keys(page)[:2] == keys[:2]
