"""docs/reliability.md, kept true: one scenario per row, each checked against the row's message and stored state."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select

from studio.core.config import load_settings
from studio.core.errors import StudioError
from studio.db.models import Generation
from studio.core.request import ImageRequest, ValidationError
from studio.services.studio import Studio
from tests.conftest import ROOT
from tests.reliability_table import all_row_ids, assert_message, assert_rows_match, section_rows
from tests.test_faults import CRASH_BEFORE_COMMIT

UNICODE_PROMPT = "tab\there, bell\x07, e\u0301, 🦊🌊, עברית مرحبا, zero\u200bwidth"
MARKUP_PROMPT = "**bold** _it_ <b>html</b> <script>alert('x')</script> [link](http://example.com) # heading"


def doc_rows() -> dict[str, tuple[str, str]]:
    return section_rows("Requests")


class Run:
    """What a scenario needs: a studio on a fresh gallery, the endpoint, and a way to vary settings."""

    def __init__(self, studio: Studio, demo_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.studio, self.demo_server, self.tmp_path, self.monkeypatch = studio, demo_server, tmp_path, monkeypatch

    def generate(self, prompt: str = "a harbour at night", studio: Studio | None = None, **fields) -> str:
        """Run a request as a user would and return the message they are shown ('—' when none)."""
        fields.setdefault("model", "gpt-image-2")
        try:
            outcome = (studio or self.studio).generate(ImageRequest(prompt=prompt, **fields))
        except ValidationError as exc:
            return " ".join(exc.problems)
        except StudioError as exc:
            return exc.message
        if outcome.error:
            return outcome.error.message
        assert outcome.generation.prompt == prompt  # stored exactly, whatever it holds
        return "—"

    def variant(self, **changes) -> Studio:
        settings = self.studio.settings
        provider_changes = {k: changes.pop(k) for k in ("base_url", "accepts_response_format") if k in changes}
        if provider_changes:
            settings = replace(settings, provider=replace(settings.provider, **provider_changes))
        return self.studio.with_settings(replace(settings, **changes))


def lock_database_for(run: Run, seconds: float) -> threading.Thread:
    holder = sqlite3.connect(run.studio.settings.data_dir / "studio.db", timeout=5, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    locked = threading.Event()

    def release() -> None:
        locked.set()
        time.sleep(seconds)
        holder.commit()
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    locked.wait()
    return thread


def database_locked(run: Run) -> str:
    thread = lock_database_for(run, 1.0)
    message = run.generate("saved once the lock is gone")
    thread.join()
    return message


def crash_window(run: Run) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-c", CRASH_BEFORE_COMMIT], env=env, timeout=60).returncode == 3
    reopened = Studio.open(load_settings())  # the next start settles it
    return reopened.recent(1)[0].error.message


def disk_full(run: Run) -> str:
    mount = run.tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        small = Studio(run.studio.settings, run.studio.records, type(run.studio.storage)(mount))
        message = run.generate("more than the disk holds", studio=small, n=6)
        assert [p for p in mount.rglob("*") if p.is_file()] == []
        return message
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def unwritable_dir(run: Run) -> str:
    (run.studio.settings.data_dir / "images").write_text("not a folder")
    return run.generate()


def no_key(run: Run) -> str:
    return run.generate(studio=run.variant(api_key=None))


SCENARIOS: dict[str, Callable[[Run], str]] = {
    "empty-prompt": lambda r: r.generate("   "),
    "long-prompt": lambda r: r.generate("p" * 32_001),
    "n-range": lambda r: r.generate(n=11),
    "size-unknown": lambda r: r.generate(size="huge"),
    "size-multiple": lambda r: r.generate(size="1000x1000"),
    "size-ratio": lambda r: r.generate(size="3840x1024"),
    "size-too-large": lambda r: r.generate(size="4096x2304"),
    "size-model": lambda r: r.generate(size="2048x2048", model="gpt-image-2.6-flare"),
    "quality": lambda r: r.generate(quality="ultra"),
    "background": lambda r: r.generate(background="green"),
    "moderation-value": lambda r: r.generate(moderation="off"),
    "output-format": lambda r: r.generate(output_format="bmp"),
    "response-format": lambda r: r.generate(response_format="json"),
    "transparent-jpeg": lambda r: r.generate(background="transparent", output_format="jpeg"),
    "compression-range": lambda r: r.generate(output_format="webp", output_compression=101),
    "compression-png": lambda r: r.generate(output_format="png", output_compression=50),
    "response-format-provider": lambda r: r.generate(response_format="url", studio=r.variant(accepts_response_format=False)),
    "no-key": no_key,
    "unicode-prompt": lambda r: r.generate(UNICODE_PROMPT),
    "markup-prompt": lambda r: r.generate(MARKUP_PROMPT),
    "no-revised-prompt": lambda r: r.generate("plain [demo:no-revised]"),
    "moderation": lambda r: r.generate("refuse me [demo:fail=moderation]"),
    "unknown-parameter": lambda r: r.generate("x [demo:fail=unknown_parameter]", response_format="b64_json"),
    "unauthorized": lambda r: r.generate(studio=r.variant(api_key="sk-wrong-key")),
    "forbidden": lambda r: r.generate("x [demo:fail=403]"),
    "model-not-found": lambda r: r.generate("x [demo:fail=404]", model="gpt-image-9"),
    "bad-base-url": lambda r: r.generate(studio=r.variant(base_url=r.demo_server.base_url.replace("/v1", "/api"))),
    "rate-limit": lambda r: r.generate("busy once [demo:fail=429x1]", studio=r.variant(max_retries=1)),
    "rate-limit-exhausted": lambda r: r.generate("x [demo:fail=429]", studio=r.variant(max_retries=1)),
    "quota": lambda r: r.generate("x [demo:fail=quota]", studio=r.variant(max_retries=2)),
    "server-error-retried": lambda r: r.generate("flaky [demo:fail=500x1]", studio=r.variant(max_retries=1)),
    "server-error": lambda r: r.generate("x [demo:fail=500]"),
    "timeout": lambda r: r.generate("slow [demo:delay=2]", studio=r.variant(timeout_s=0.5)),
    "connection-refused": lambda r: r.generate(studio=r.variant(base_url="http://127.0.0.1:9/v1")),
    "malformed-json": lambda r: r.generate("x [demo:fail=malformed]"),
    "data-empty": lambda r: r.generate("x [demo:fail=empty]"),
    "data-null": lambda r: r.generate("x [demo:fail=null_data]"),
    "not-an-image": lambda r: r.generate("x [demo:fail=not_image]"),
    "url-html": lambda r: r.generate("x [demo:fail=url_html]", response_format="url"),
    "url-404": lambda r: r.generate("x [demo:fail=url_404]", response_format="url"),
    "url-redirect": lambda r: r.generate("x [demo:fail=url_redirect]", response_format="url"),
    "url-huge": lambda r: r.generate("x [demo:fail=url_huge]", response_format="url"),
    "bomb": lambda r: r.generate("x [demo:fail=bomb]"),
    "unwritable-dir": unwritable_dir,
    "disk-full": disk_full,
    "database-locked": database_locked,
    "crash-window": crash_window,
}


def stored_state(studio: Studio) -> str:
    with studio.records.session() as session:
        count = session.scalar(select(func.count()).select_from(Generation))
        if count == 0:
            return "nothing"
        assert count == 1, "a scenario records at most one generation"
        generation = session.scalars(select(Generation)).one()
        if generation.status == "failed":
            return f"failed ({generation.error_code}), prompt kept" if generation.prompt else "failed, prompt lost"
        images = len(generation.images)
        for image in generation.images:
            assert studio.storage.exists(image.path)
        return f"succeeded ({images} image{'s' if images != 1 else ''})"


def test_every_row_has_a_scenario_and_every_scenario_a_row():
    assert_rows_match(doc_rows(), SCENARIOS)
    assert len(SCENARIOS) >= 30


def test_no_row_id_is_used_twice_across_sections():
    ids = all_row_ids()
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("row", sorted(SCENARIOS))
def test_row_holds(row, studio, demo_server, tmp_path, monkeypatch):
    message, stored = doc_rows()[row]
    requests_before = demo_server.config.requests_seen
    seen = SCENARIOS[row](Run(studio, demo_server, tmp_path, monkeypatch))
    assert_message(row, message, seen)
    assert stored_state(studio) == stored
    if stored == "nothing":
        assert demo_server.config.requests_seen == requests_before, f"{row}: a request was sent"
    if row == "quota":
        assert demo_server.config.requests_seen == requests_before + 1, "insufficient_quota must not be retried"
    if row == "rate-limit":
        assert demo_server.config.requests_seen == requests_before + 2, "a rate limit is retried"
