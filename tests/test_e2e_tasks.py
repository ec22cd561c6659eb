"""End to end in a real headless Chromium: a prompt sent to a model the preset runs as a provider task, the
server stopped while the task is being polled, a new server on the same gallery, and the image in the
Gallery afterwards (resumed from the stored task id when the first page built the studio)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, browser_page, streamlit_server
from tests.conftest import TEST_KEY, task_preset

pytestmark = pytest.mark.browser



def row(database: Path) -> tuple | None:
    try:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT status, task_id, task_status, worker FROM generations").fetchone()
    except sqlite3.OperationalError:
        return None


def test_a_task_in_flight_when_the_server_stops_is_in_the_gallery_after_a_restart(studio_env, demo_server, tmp_path):
    studio_env.mkdir(parents=True, exist_ok=True)
    (studio_env / "providers.toml").write_text(task_preset(60, poll_interval_s=0.2, max_interval_s=None))
    database = studio_env / "studio.db"
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(studio_env),
           "STUDIO_MAX_RETRIES": "0", "STUDIO_MODEL": "gpt-image-2"}
    submitted = demo_server.config.tasks_submitted
    with browser_page() as page:
        with streamlit_server(env, tmp_path) as url:
            page.goto(url)
            page.get_by_label("Prompt").fill("a comet over the sea [demo:task_s=6]")
            page.get_by_role("button", name="Generate").click()
            deadline = time.monotonic() + 30
            while not ((found := row(database)) and found[1]):
                assert time.monotonic() < deadline, "the task id was never stored"
                time.sleep(0.05)
            assert found[0] == "pending"
            # The server dies while the page waits on the task (a graceful stop would let the request finish):
            # the pid is the one that sent the request, i.e. the streamlit server this test started.
            os.kill(int(found[3].split(":")[1]), signal.SIGKILL)
            time.sleep(0.5)
        assert row(database)[0] == "pending"
        with streamlit_server(env, tmp_path) as url:
            page.goto(f"{url}/gallery")
            deadline = time.monotonic() + 40
            while row(database)[0] == "pending":
                assert time.monotonic() < deadline, "the task was not resumed"
                time.sleep(0.2)
            page.reload()
            page.locator(".g-tile img").first.wait_for(timeout=20_000)  # its thumbnail in the grid
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "task-resumed.png"), full_page=True)
    assert row(database)[0:3:2] == ("succeeded", "succeeded")
    assert demo_server.config.tasks_submitted == submitted + 1  # resumed by polling, never sent again
