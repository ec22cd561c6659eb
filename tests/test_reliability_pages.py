"""docs/reliability.md, section "Pages, links and access": one scenario per row, each run through the
pages as a user meets them (AppTest, or a real Chromium where only a browser shows it)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from studio.core.auth import COOKIE_NAME, make_cookie, session_key
from studio.core.request import ImageRequest
from studio.core.browsing import encode_cursor
from studio.db.models import Generation, Image
from studio.services.studio import Studio
from tests.browser import browser_page, streamlit_server, wait_idle
from tests.conftest import ROOT, TEST_KEY
from tests.reliability_table import assert_message, assert_rows_match, section_rows

APP = str(ROOT / "app.py")
HUGE = "9" * 30  # far past any database integer
JUST_PAST = str(2**63)  # one past the largest BIGINT


def doc_rows() -> dict[str, tuple[str, str]]:
    return section_rows("Pages, links and access")


@dataclass
class Run:
    studio: Studio
    demo_server: object
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch


def page(name: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    at.switch_page(f"views/{name}.py")
    return at.run()


def seen(at: AppTest) -> str:
    """Every message on the page, as one text; a traceback on the page fails the scenario."""
    assert not at.exception, [e.value for e in at.exception]
    messages = [e.value for kind in ("error", "warning", "info", "success") for e in getattr(at, kind)]
    return " | ".join(messages) or "—"


def link(name: str, **query: str) -> Callable[[Run], str]:
    """A scenario: open page `name` with these query parameters; the bad one must be gone from the URL."""
    def scenario(run: Run) -> str:
        at = page(name, query)
        text = seen(at)
        if name != "gallery":  # the Gallery rewrites its whole URL from the view it shows
            assert not set(query) & set(at.query_params), f"the bad value stayed in the URL: {dict(at.query_params)}"
        return text
    return scenario


def huge_cursor(direction: str) -> Callable[[Run], str]:
    def scenario(run: Run) -> str:
        cursor = encode_cursor(0, datetime.now(timezone.utc), 2**70, 0)
        at = page("gallery", {direction: cursor, "page": "2"})
        assert at.query_params.get("page") is None  # back at the first page
        return seen(at)
    return scenario


def missing_file_on_generate(run: Run) -> str:
    outcome = run.studio.generate(ImageRequest(prompt="a lost picture", model=run.studio.settings.model))
    outcome.images[0].path.unlink()
    at = page("generate", {"generation": str(outcome.generation_id)})
    text = seen(at)
    assert str(run.studio.settings.data_dir) not in text and not at.image
    return text


def damaged_gallery_on_a_page(run: Run) -> str:
    """Every page opens the gallery first: a damaged studio.db is one message there, not a traceback."""
    data_dir = run.tmp_path / "damaged"
    data_dir.mkdir()
    (data_dir / "studio.db").write_bytes(b"not a database at all" * 1000)
    run.monkeypatch.setenv("STUDIO_DATA_DIR", str(data_dir))
    texts = {seen(page(name)) for name in ("generate", "gallery", "edit", "compare")}
    assert len(texts) == 1, texts
    return texts.pop()


def short_batch_on_generate(run: Run) -> str:
    """Fewer images than asked: the page shows the ones that came and says the batch is short."""
    outcome = run.studio.generate(ImageRequest(prompt="x [demo:fail=fewer]", model=run.studio.settings.model, n=3))
    at = page("generate", {"generation": str(outcome.generation_id)})
    assert len(at.get("imgs")) == 1 or len(at.image) == 1
    return seen(at)


def long_prompt_diff(run: Run) -> str:
    """The image view marks prompt against revised_prompt word by word; at 32,000 characters it stays whole."""
    words = "misty harbour at dawn with a red boat and gulls over the".split()
    prompt = " ".join(words[i % len(words)] for i in range(6000))[:32_000]
    outcome = run.studio.generate(ImageRequest(prompt=prompt, model=run.studio.settings.model))
    image = outcome.images[0]
    at = page("gallery", {"open": f"{outcome.generation_id}-{image.id}"})
    bodies = " ".join(element.proto.body for element in at.get("html"))
    assert "<ins>" in bodies and bodies.count("misty harbour") == 2 * prompt.count("misty harbour")  # marked, whole on both sides
    return seen(at)


def away_and_back(at: AppTest, name: str) -> AppTest:
    """Open the Gallery (then Compare) and come back to page `name`, as a user clicking the navigation."""
    for other in ("gallery", "compare" if name != "compare" else "edit"):
        at.switch_page(f"views/{other}.py").run()
        assert not at.exception
    return at.switch_page(f"views/{name}.py").run()


def generate_form_kept(run: Run) -> str:
    at = page("generate")
    at.text_area(key="prompt").input("a fox under a lamp, not sent yet")
    at.selectbox(key="quality").select("high")
    at.number_input(key="n").set_value(3)
    at.selectbox(key="output_format").select("webp").run()
    at.slider(key="output_compression").set_value(70)
    at.toggle(key="live_preview").set_value(False).run()
    at = away_and_back(at, "generate")
    assert at.text_area(key="prompt").value == "a fox under a lamp, not sent yet"
    assert (at.selectbox(key="quality").value, at.number_input(key="n").value, at.selectbox(key="output_format").value) == ("high", 3, "webp")
    assert at.slider(key="output_compression").value == 70 and at.toggle(key="live_preview").value is False
    return seen(at)


def edit_form_kept(run: Run) -> str:
    source = run.studio.generate(ImageRequest(prompt="a door", model=run.studio.settings.model)).images[0]
    at = page("edit", {"source_image": str(source.id)})
    at.text_area(key="edit_prompt").input("paint the door red, not sent yet")
    at.selectbox(key="edit_quality").select("low")
    at.selectbox(key="input_fidelity").select("high").run()
    del at.query_params["source_image"]
    at = away_and_back(at, "edit")
    assert at.text_area(key="edit_prompt").value == "paint the door red, not sent yet"
    assert at.multiselect(key="edit_gallery_ids").value == [source.id]
    assert (at.selectbox(key="edit_quality").value, at.selectbox(key="input_fidelity").value) == ("low", "high")
    return seen(at)


def compare_form_kept(run: Run) -> str:
    at = page("compare")
    at.text_area(key="compare_prompt").input("three tiers of a heron, not sent yet")
    at.multiselect(key="compare_quality").set_value(["low", "high"])
    at.selectbox(key="compare_size").select("1536x1024").run()
    at = away_and_back(at, "compare")
    assert at.text_area(key="compare_prompt").value == "three tiers of a heron, not sent yet"
    assert at.multiselect(key="compare_quality").value == ["low", "high"] and at.selectbox(key="compare_size").value == "1536x1024"
    return "—"  # the page's own estimate line is no message about the switch


def browser_env(run: Run) -> dict[str, str]:
    return {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": run.demo_server.base_url,
            "STUDIO_DATA_DIR": str(run.studio.settings.data_dir), "STUDIO_MAX_RETRIES": "0"}


def second_click(answer: str, sent: int) -> Callable[[Run], str]:
    """In a real browser (a click while a script runs only happens there): Generate, and Generate again
    while the same request still runs; answer the question; count the results shown."""
    def scenario(run: Run) -> str:
        before = run.demo_server.config.requests_seen
        with streamlit_server(browser_env(run), run.tmp_path) as url, browser_page() as page:
            page.goto(url)
            page.get_by_label("Prompt").fill("a slow lighthouse [demo:delay=3]")
            page.get_by_role("button", name="Generate").click()
            page.get_by_text("Generating 1 image(s)").first.wait_for(timeout=10_000)
            page.get_by_role("button", name="Generate").click()
            dialog = page.get_by_role("dialog")
            dialog.wait_for(timeout=10_000)
            dialog.get_by_role("button", name=answer).wait_for(timeout=10_000)  # drawn after the question: all of it is there
            text = dialog.inner_text()
            dialog.get_by_role("button", name=answer).click()
            page.get_by_text(f"Generation #{sent}", exact=True).wait_for(timeout=30_000)
            page.wait_for_timeout(500)
            headings = [h for h in page.locator("h3").all_inner_texts() if h.startswith("Generation #")]
            assert headings == [f"Generation #{n}" for n in range(1, sent + 1)]  # both results, when both were sent
        assert run.demo_server.config.requests_seen - before == sent
        return text
    return scenario


PASSWORD = "correct horse"


def wrong_guesses(then: str | None) -> Callable[[Run], str]:
    """Three wrong passwords in a row (AppTest), then optionally another guess at once."""
    def scenario(run: Run) -> str:
        run.monkeypatch.setenv("STUDIO_PASSWORD", PASSWORD)
        at = AppTest.from_file(APP, default_timeout=60).run()
        for guess in ["wrong"] * 3 + ([then] if then else []):
            at.text_input[0].input(guess)
            at.button[0].click().run()
        assert not at.text_area  # still nothing of the studio shown
        return seen(at)
    return scenario


def password_with_line_break(run: Run) -> str:
    """STUDIO_PASSWORD from an env file or a secret mount ends in a newline, which the box cannot take:
    once, no one could ever sign in."""
    run.monkeypatch.setenv("STUDIO_PASSWORD", PASSWORD + "\r\n")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert not at.text_input or at.text_input[0].label != "Password", "still asked for the password"
    return seen(at)


def secret_damaged(make: Callable[[Path], object]) -> Callable[[Run], str]:
    """The data folder's cookie secret is damaged (cut short, or a folder stands there): once a traceback on
    every page, before the password form."""
    def scenario(run: Run) -> str:
        run.monkeypatch.setenv("STUDIO_PASSWORD", PASSWORD)
        make(run.studio.settings.data_dir / ".session-secret")
        at = AppTest.from_file(APP, default_timeout=60).run()
        return seen(at)
    return scenario


def alerts(page) -> str:
    texts = [t.strip() for t in page.locator("[data-testid='stAlert']").all_inner_texts()]
    return " | ".join(texts) or "—"


def sign_in(page) -> None:
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def session_cookie(page) -> dict:
    """The sign-in cookie, once the page's script has set it (it runs just after the first signed-in render)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
        if found:
            return found[0]
        page.wait_for_timeout(200)
    raise AssertionError("the sign-in cookie was never set")


def signed_in_browser(then: str) -> Callable[[Run], str]:
    """In a real browser with STUDIO_PASSWORD set: sign in, then `then` (what a user does next)."""
    def scenario(run: Run) -> str:
        env = {**browser_env(run), "STUDIO_PASSWORD": PASSWORD}
        if then == "shared-link":
            outcome = run.studio.generate(ImageRequest(prompt="a shared picture", model=run.studio.settings.model))
        with streamlit_server(env, run.tmp_path) as url, browser_page() as page:
            if then == "shared-link":  # a colleague's link, opened signed out
                item = f"{outcome.generation_id}-{outcome.images[0].id}"
                page.goto(f"{url}/gallery?open={item}")
                sign_in(page)
                page.get_by_role("dialog").wait_for(timeout=30_000)  # the image the link named, open
                assert page.url.endswith(f"/gallery?open={item}")
                assert page.get_by_role("heading", name="Gallery").count() == 1
                return alerts(page)
            page.goto(url)
            sign_in(page)
            page.get_by_role("heading", name="Generate").wait_for(timeout=30_000)
            cookie = session_cookie(page)
            assert cookie["sameSite"] == "Strict" and PASSWORD not in cookie["value"]
            if then == "sign-out":
                page.get_by_role("button", name="Sign out").click()
                page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
                page.wait_for_function(f"!document.cookie.includes('{COOKIE_NAME}=')", timeout=20_000)
            elif then in ("tampered", "expired"):
                expiry, nonce, signature = cookie["value"].split(".")
                value = (f"{int(expiry) + 10**7}.{nonce}.{signature}" if then == "tampered"  # a later expiry by hand
                         else make_cookie(session_key(PASSWORD, run.studio.settings.data_dir), now=time.time() - 10, lifetime_s=5))
                page.context.add_cookies([{**cookie, "value": value}])
            page.reload()
            password, generate = page.get_by_label("Password", exact=True), page.get_by_role("heading", name="Generate")
            # Either answer, whichever the page draws: the page title alone can come before the form below it.
            password.or_(generate).first.wait_for(timeout=30_000)
            wait_idle(page)  # the run is over: every message it draws is on the page
            asked = password.count() == 1
            assert asked == (then != "reload"), f"{then}: password asked: {asked}"
            if then == "reload":
                assert page.get_by_role("heading", name="Generate").count() == 1
            return alerts(page)
    return scenario


SCENARIOS: dict[str, Callable[[Run], str]] = {
    "sign-in-wrong-guesses": wrong_guesses(None),
    "sign-in-guess-during-wait": wrong_guesses(PASSWORD),
    "sign-in-password-line-break": password_with_line_break,
    "sign-in-secret-short": secret_damaged(lambda path: path.write_bytes(b"short")),
    "sign-in-secret-folder": secret_damaged(lambda path: path.mkdir()),
    "sign-in-shared-link": signed_in_browser("shared-link"),
    "sign-in-reload": signed_in_browser("reload"),
    "sign-in-cookie-tampered": signed_in_browser("tampered"),
    "sign-in-cookie-expired": signed_in_browser("expired"),
    "sign-out": signed_in_browser("sign-out"),
    "second-click-wait": second_click("Wait for the first", 1),
    "second-click-send-again": second_click("Send it again", 2),
    "form-kept-generate": generate_form_kept,
    "form-kept-edit": edit_form_kept,
    "form-kept-compare": compare_form_kept,
    "link-open-huge": link("gallery", open=f"{HUGE}-1"),
    "link-open-just-past": link("gallery", open=f"{JUST_PAST}-0"),
    "link-open-superscript": link("gallery", open="²-1"),
    "link-open-negative": link("gallery", open="-1-1"),
    "link-lineage-huge": link("gallery", lineage=HUGE),
    "link-lineage-unicode-digits": link("gallery", lineage="٣"),
    "link-lineage-negative": link("gallery", lineage="-3"),
    "link-collection-plus": link("gallery", collection="+1"),
    "link-compare-filter-space": link("gallery", compare=" 2"),
    "link-after-huge": huge_cursor("after"),
    "link-before-huge": huge_cursor("before"),
    "link-to-far-future": link("gallery", to="9999-12-31"),
    "link-from-unicode-digits": link("gallery", **{"from": "٢٠٢٤-01-01"}),
    "link-from-not-on-calendar": link("gallery", **{"from": "2025-02-30"}),
    "link-page-superscript": link("gallery", page="²"),
    "link-per-superscript": link("gallery", per="²"),
    "link-status-huge": link("gallery", status="x" * 10_000),
    "link-sort-huge": link("gallery", sort="y" * 10_000),
    "link-source-image-huge": link("edit", source_image=HUGE),
    "link-source-image-unicode-digits": link("edit", source_image="٣"),
    "link-source-image-zero": link("edit", source_image="0"),
    "link-generation-huge": link("generate", generation=HUGE),
    "link-generation-negative": link("generate", generation="-1"),
    "link-generation-empty": lambda run: seen(page("generate", {"generation": ""})),
    "link-compare-huge": link("compare", compare=JUST_PAST),
    "generation-file-missing": missing_file_on_generate,
    "page-damaged-database": damaged_gallery_on_a_page,
    "page-fewer-images": short_batch_on_generate,
    "page-long-prompt-diff": long_prompt_diff,
}


def stored_state(studio: Studio) -> str:
    """`nothing`, or "N generation(s), M image(s)" (+ ", K file(s) missing")."""
    with studio.records.session() as session:
        generations = session.scalar(select(func.count()).select_from(Generation))
        images = session.scalars(select(Image)).all()
        if not generations:
            return "nothing"
        missing = sum(not studio.storage.exists(image.path) for image in images)
    text = f"{generations} generation{'s' if generations != 1 else ''}, {len(images)} image{'s' if len(images) != 1 else ''}"
    return text + (f", {missing} file{'s' if missing != 1 else ''} missing" if missing else "")


def test_every_row_has_a_scenario_and_every_scenario_a_row():
    assert_rows_match(doc_rows(), SCENARIOS)


@pytest.mark.parametrize("row", sorted(SCENARIOS))
@pytest.mark.usefixtures("sign_in_clock")  # the sign-in waits pass only by the clock, never by a slow machine
def test_row_holds(row, studio, demo_server, tmp_path, monkeypatch):
    message, stored = doc_rows()[row]
    requests_before = demo_server.config.requests_seen
    text = SCENARIOS[row](Run(studio, demo_server, tmp_path, monkeypatch))
    assert_message(row, message, text)
    assert stored_state(studio) == stored
    if stored == "nothing":
        assert demo_server.config.requests_seen == requests_before, f"{row}: a request was sent"
