"""docs/reliability.md, section "Provider answers", kept true: what a misbehaving provider or relay sends back,
and keys, URLs and sizes that cannot work. Every answer comes from the demo endpoint over real HTTP through the
official client; each row's message must be in what the user saw and the gallery must hold the row's state."""

from __future__ import annotations

import io
import json
import time
from dataclasses import replace
from typing import Callable

import pytest
from PIL import Image
from sqlalchemy import select

from studio.core.config import ConfigError, load_settings
from studio.core.errors import StudioError
from studio.core.request import ImageRequest, ValidationError, validate
from studio.db.models import Generation
from studio.provider.capabilities import FILE_NAME
from studio.provider.demo import render_image
from studio.services.edits import read_image
from studio.services.studio import Studio
from tests.conftest import TEST_KEY
from tests.reliability_table import assert_message, assert_rows_match, section_rows
from tests.test_reliability import stored_state as request_state

SECTION = "Provider answers"
LIMIT_S = 1.0  # STUDIO_TIMEOUT_S for the rows about answers that never end


def doc_rows() -> dict[str, tuple[str, str]]:
    return section_rows(SECTION)


class Run:
    """A studio on a fresh gallery, the endpoint, and what the user saw besides the message."""

    def __init__(self, studio: Studio, demo_server, monkeypatch: pytest.MonkeyPatch):
        self.studio, self.demo_server, self.monkeypatch = studio, demo_server, monkeypatch
        self.partials: list[bytes] = []  # what reached the page's live preview
        self.elapsed_s = 0.0

    def generate(self, prompt: str = "a harbour at night", studio: Studio | None = None, **fields) -> str:
        """Run a request as a user would; the message they are shown ('—' when none, the note when there is one)."""
        fields.setdefault("model", "gpt-image-2")
        started = time.monotonic()
        try:
            outcome = (studio or self.studio).generate(ImageRequest(prompt=prompt, **fields), on_partial=lambda _i, data: self.partials.append(data))
        except ValidationError as exc:
            return " ".join(exc.problems)
        except StudioError as exc:
            return exc.message
        finally:
            self.elapsed_s = time.monotonic() - started
        if outcome.error:
            return outcome.error.message
        return outcome.note or "—"

    def streamed(self, prompt: str, **fields) -> str:
        return self.generate(prompt, stream=True, partial_images=fields.pop("partial_images", 2), **fields)

    def with_env(self, **env: str) -> str:
        """Start the studio again with these settings (as a restart would), then generate."""
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        try:
            studio = Studio.open(load_settings())
        except ConfigError as exc:
            return str(exc)
        return self.generate(studio=studio)

    def limited(self, prompt: str, **fields) -> str:
        studio = self.studio.with_settings(replace(self.studio.settings, timeout_s=LIMIT_S))
        message = self.generate(prompt, studio=studio, **fields)
        assert self.elapsed_s < LIMIT_S + 1.5, f"the limit was not kept: {self.elapsed_s:.1f} s"
        return message


def png_of(size: tuple[int, int]) -> bytes:
    return render_image("reference", f"{size[0]}x{size[1]}", "png", "auto", None, 0)


def edit_too_large(run: Run) -> str:
    source = read_image("reference.png", png_of((1024, 1024)))
    try:
        outcome = run.studio.edit(ImageRequest(prompt="recolour it [demo:max_body=20000]", model="gpt-image-2"), [source])
    except StudioError as exc:
        return exc.message
    return outcome.error.message if outcome.error else "—"


def previews_skipped(run: Run, fault: str) -> str:
    message = run.streamed(f"a kite [demo:fail={fault}]")
    assert run.partials == [], "a partial that is not an image reached the page"
    return message


def previews_shown(run: Run) -> str:
    """Partials that are images reach the page, and each one opens as the page opens it."""
    message = run.streamed("a kite [demo:fail=stream_url]", partial_images=2)
    assert len(run.partials) == 2
    for data in run.partials:
        Image.open(io.BytesIO(data)).load()
    return message


def key_not_shown(run: Run, key: str) -> str:
    message = run.with_env(OPENAI_API_KEY=key)
    assert key.strip() not in message
    return message


def base_url_with_password(run: Run) -> str:
    url = run.demo_server.base_url.replace("http://", "http://designer:s3cret-pass@")
    message = run.with_env(OPENAI_BASE_URL=url)
    assert "s3cret-pass" not in message and "designer" not in message
    return message


def base_url_with_key_in_query(run: Run) -> str:
    message = run.with_env(OPENAI_BASE_URL=run.demo_server.base_url + "?api_key=sk-in-the-url")
    assert "sk-in-the-url" not in message
    return message


def size_written_plainly(run: Run) -> str:
    message = run.generate(size="01024x01024")
    assert run.studio.recent(1)[0].generation.size == "1024x1024"  # sent and stored as what it means
    return message


def size_suggestion_passes(run: Run, size: str) -> str:
    message = run.generate(size=size)
    suggested = message.rstrip(".)").split()[-1]
    validate(ImageRequest(prompt="p", model="gpt-image-2", size=suggested))  # the suggestion itself is a size that passes
    return message


def revised_kept_as_text(run: Run, fault: str, expected: str | None) -> str:
    """An odd revised_prompt is cleaned (or dropped), never the paid image it came with."""
    message = run.generate(f"a fox [demo:fail={fault}]")
    saved = run.studio.recent(1)[0]
    assert [image.revised_prompt for image in saved.images] == [expected]
    return message


SCENARIOS: dict[str, Callable[[Run], str]] = {
    # Answers that are not what they seem.
    "html-page": lambda r: r.generate("x [demo:fail=html_page]"),
    "html-page-streamed": lambda r: r.streamed("x [demo:fail=html_page]"),
    "too-large-413": lambda r: r.generate("x [demo:fail=html_413]"),
    "too-large-413-json": lambda r: r.generate("x [demo:fail=json_413]"),
    "too-large-400-html": lambda r: r.generate("x [demo:fail=html_400_large]"),
    "too-large-edit": edit_too_large,
    "proxy-400-html": lambda r: r.generate("x [demo:fail=html_400]"),
    "gateway-502-html": lambda r: r.generate("x [demo:fail=html_502]"),
    "cut-short": lambda r: r.generate("x [demo:fail=cut_short]"),
    "stream-cut-short": lambda r: r.streamed("x [demo:fail=stream_cut]"),
    "error-in-200": lambda r: r.generate("x [demo:fail=error_200]"),
    "error-in-200-streamed": lambda r: r.streamed("x [demo:fail=error_200]"),
    "error-string-in-200": lambda r: r.generate("x [demo:fail=error_200_text]"),
    "error-msg-in-200": lambda r: r.generate("x [demo:fail=error_200_msg]"),
    "stream-without-image": lambda r: r.streamed("x [demo:fail=stream_empty]"),
    "stream-without-events": lambda r: r.streamed("x [demo:fail=stream_silent]"),
    "stream-url": previews_shown,
    "partial-not-image": lambda r: previews_skipped(r, "bad_partial"),
    "partial-empty": lambda r: previews_skipped(r, "empty_partial"),
    "fewer-images": lambda r: r.generate("x [demo:fail=fewer]", n=3),
    "fewer-images-streamed": lambda r: r.streamed("x [demo:fail=fewer]", n=3),
    "batch-item-not-image": lambda r: r.generate("x [demo:fail=bad_second]", n=3),
    "batch-item-not-image-streamed": lambda r: r.streamed("x [demo:fail=bad_second]", n=2),
    "revised-prompt-surrogate": lambda r: revised_kept_as_text(r, "revised_surrogate", "A fox \ufffd in snow"),
    "revised-prompt-not-text": lambda r: revised_kept_as_text(r, "revised_list", None),
    "revised-prompt-number": lambda r: revised_kept_as_text(r, "revised_number", None),
    "gzip-not-gzip": lambda r: r.generate("x [demo:fail=bad_gzip]"),
    "trickled-body": lambda r: r.limited("x [demo:fail=trickle]"),
    "keepalive-stream": lambda r: r.limited("x [demo:fail=keepalive]", stream=True, partial_images=1),
    # Keys and URLs.
    "key-trailing-newline": lambda r: r.with_env(OPENAI_API_KEY=TEST_KEY + "\n"),
    "key-surrounding-spaces": lambda r: r.with_env(OPENAI_API_KEY=f"  {TEST_KEY} \t"),
    "key-inner-space": lambda r: key_not_shown(r, TEST_KEY[:10] + " " + TEST_KEY[10:]),
    "key-non-ascii": lambda r: key_not_shown(r, TEST_KEY.replace("-", "\u2013", 1)),
    "key-zero-width": lambda r: key_not_shown(r, TEST_KEY + "\u200b"),
    "base-url-password": base_url_with_password,
    "base-url-query": base_url_with_key_in_query,
    "base-url-scheme": lambda r: r.with_env(OPENAI_BASE_URL=r.demo_server.base_url.removeprefix("http://")),
    "base-url-endpoint": lambda r: r.with_env(OPENAI_BASE_URL=r.demo_server.base_url.rstrip("/") + "/images/generations"),
    "base-url-empty-query": lambda r: r.with_env(OPENAI_BASE_URL=r.demo_server.base_url + "?"),
    "base-url-upper-scheme": lambda r: r.with_env(OPENAI_BASE_URL=r.demo_server.base_url.replace("http://", "HTTP://")),
    "base-url-spaces": lambda r: r.with_env(OPENAI_BASE_URL=f"  {r.demo_server.base_url}  "),
    # Sizes and text.
    "size-zero-padded": lambda r: r.generate(size="00016x00048"),
    "size-padded-ok": size_written_plainly,
    "size-huge-suggestion": lambda r: size_suggestion_passes(r, "99999x99999"),
    "size-too-small": lambda r: size_suggestion_passes(r, "512x512"),
    "size-newline": lambda r: r.generate(size="1024x1024\n"),
    "size-arabic-digits": lambda r: r.generate(size="\u0661\u0660\u0662\u0664x\u0661\u0660\u0662\u0664"),
    "size-zeros": lambda r: r.generate(size="00x00"),
    "prompt-nul": lambda r: r.generate("a harbour\x00 at night"),
    "prompt-lone-surrogate": lambda r: r.generate("a harbour \ud83c at night"),
    "model-nul": lambda r: r.generate(model="gpt-image-2\x00"),
}


def stored_state(studio: Studio) -> str:
    """The Requests section's stored state, plus what a provider answer may leave beside a success."""
    state = [request_state(studio)]
    if state[0].startswith("succeeded"):
        with studio.records.session() as session:
            generation = session.scalars(select(Generation)).one()
        if generation.stream is False:
            # Sent plainly after the stream failed, and remembered so the next request goes plainly at once.
            noted = json.loads((studio.settings.data_dir / FILE_NAME).read_text())
            assert [entry["stream"] for entry in noted.values()] == [False]
            state.append("stream off remembered")
        if generation.error_message:
            state.append("note kept")
    return ", ".join(state)


def test_every_row_has_a_scenario_and_every_scenario_a_row():
    assert_rows_match(doc_rows(), SCENARIOS)


@pytest.mark.parametrize("row", sorted(SCENARIOS))
def test_row_holds(row, studio, demo_server, monkeypatch):
    message, stored = doc_rows()[row]
    requests_before = demo_server.config.requests_seen
    run = Run(studio, demo_server, monkeypatch)
    seen = SCENARIOS[row](run)
    assert_message(row, message, seen)
    assert TEST_KEY not in seen
    assert stored_state(studio) == stored
    if stored == "nothing":
        assert demo_server.config.requests_seen == requests_before, f"{row}: a request was sent"


def test_the_studio_never_stores_a_url_with_credentials(studio, demo_server, monkeypatch):
    """Belt and braces for base-url-password: even a Settings built by hand shows and stores only the host."""
    provider = replace(studio.settings.provider, base_url=demo_server.base_url.replace("http://", "http://u:p4ss@"))
    assert "p4ss" not in provider.host and "u:" not in provider.host
