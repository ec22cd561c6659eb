"""Restart-safe provider tasks, across real processes: `python -m studio generate` submits an async task to a
demo endpoint running in its own process and is killed while polling; a fresh studio on the same gallery
polls the stored task id again and keeps the paid image. The task was submitted once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from studio.core.config import load_settings
from studio.services.studio import Studio
from studio.services.tasks import resume_and_wait, resume_pending_tasks, wait_for_resumed
from tests.conftest import ROOT, TEST_KEY, task_preset



@pytest.fixture
def demo_process() -> Iterator[str]:
    """The demo endpoint in its own process (so it outlives every studio), tasks running 2 s; its base URL."""
    process = subprocess.Popen([sys.executable, "-m", "studio.provider.demo", "--port", "0", "--key", TEST_KEY,
                                "--task-s", "2", "--task-poll", "0.1"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # "demo endpoint on http://127.0.0.1:PORT/v1"
        assert line.startswith("demo endpoint on "), line
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(10)


def stats(base_url: str) -> dict:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/demo/stats", timeout=5) as answer:
        return json.load(answer)


def stored_task(database: Path) -> str | None:
    try:
        with sqlite3.connect(database) as connection:
            row = connection.execute("SELECT task_id FROM generations").fetchone()
    except sqlite3.OperationalError:  # not migrated yet
        return None
    return row[0] if row else None


@pytest.fixture
def gallery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_process: str) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "providers.toml").write_text(task_preset(30, poll_interval_s=0.1, max_interval_s=None))
    for key in ("STUDIO_PROVIDER", "STUDIO_MODEL", "STUDIO_TIMEOUT_S", "STUDIO_DATABASE_URL", "STUDIO_STORAGE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", demo_process)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(data_dir))
    monkeypatch.setenv("STUDIO_MAX_RETRIES", "0")
    monkeypatch.chdir(tmp_path)
    return data_dir


def start_generate_and_kill_it_while_polling(data_dir: Path, prompt: str) -> str:
    child = subprocess.Popen([sys.executable, "-m", "studio", "generate", prompt, "--model", "gpt-image-2"],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while (task_id := stored_task(data_dir / "studio.db")) is None:
            assert child.poll() is None and time.monotonic() < deadline, "the task id was never stored"
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)  # no clean-up of any kind: a crash, a deploy, a power cut
        child.wait(10)
    return task_id


def test_a_task_whose_process_died_while_polling_is_resumed_with_its_image(gallery: Path, demo_process: str):
    task_id = start_generate_and_kill_it_while_polling(gallery, "a lighthouse at dusk")
    assert stats(demo_process)["tasks_submitted"] == 1

    studio = Studio.open(load_settings())  # the restart: settles dead requests, but not one with a task id
    [row] = studio.records.recent(1)
    assert (row.status, row.task_id, row.images) == ("pending", task_id, [])
    assert resume_pending_tasks(studio) == 1
    assert resume_pending_tasks(studio) == 0  # already being polled
    assert wait_for_resumed(20)

    kept = studio.records.get(row.id)
    assert (kept.status, kept.task_status, kept.error_code, len(kept.images)) == ("succeeded", "succeeded", None, 1)
    image = studio.image(kept.images[0].id)
    assert image.path.is_file() and image.path.read_bytes()[:4] == b"\x89PNG"
    assert image.revised_prompt == "A detailed rendering of: a lighthouse at dusk"
    assert stats(demo_process)["tasks_submitted"] == 1  # polled again, never submitted again


def test_the_resume_command_waits_for_the_task_and_says_what_became_of_it(gallery: Path, demo_process: str):
    start_generate_and_kill_it_while_polling(gallery, "a harbour at night")
    resume = subprocess.run([sys.executable, "-m", "studio", "resume", "--timeout", "20"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert resume.returncode == 0, resume.stderr
    assert json.loads(resume.stdout) == {"resumed": 1, "succeeded": 1, "failed": 0, "pending": 0}
    assert resume_and_wait(Studio.open(load_settings()), 5) == {"resumed": 0, "succeeded": 0, "failed": 0, "pending": 0}
    assert stats(demo_process)["tasks_submitted"] == 1
