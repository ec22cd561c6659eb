"""docs/reliability.md, section "Provider tasks", kept true: each way a relay's asynchronous task can go, over
real HTTP against the demo endpoint's task paths; each row's message must be in what the user saw and the
gallery must hold the row's state."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import func, select

from studio.core.config import ConfigError, load_settings
from studio.core.request import ImageRequest
from studio.db.models import Generation
from studio.provider.demo import DemoConfig, DemoServer, start_demo_server
from studio.services.studio import Studio
from studio.services.tasks import resume_pending_tasks, wait_for_resumed
from tests.conftest import TEST_KEY, task_preset
from tests.reliability_table import assert_message, assert_rows_match, section_rows

SECTION = "Provider tasks"


def doc_rows() -> dict[str, tuple[str, str]]:
    return section_rows(SECTION)


@pytest.fixture(scope="module")
def task_server() -> Iterator[DemoServer]:
    server = start_demo_server(config=DemoConfig(api_key=TEST_KEY, task_s=0.2, task_poll_s=0.05))
    yield server
    server.stop()


class Run:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.studio: Studio | None = None

    def open(self, mode: str = "async", timeout: float = 5, extra: str = "") -> Studio:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "providers.toml").write_text(task_preset(timeout, mode) + extra)
        self.studio = Studio.open(load_settings())
        return self.studio

    def generate(self, prompt: str, model: str = "gpt-image-2", **preset) -> str:
        studio = self.open(**preset)
        outcome = studio.generate(ImageRequest(prompt=prompt, model=model))
        return outcome.error.message if outcome.error else (outcome.note or "—")


def resumed(run: Run) -> str:
    message = run.generate("slow [demo:task_s=0.6]", timeout=0.1)
    assert "stays pending" in message  # the first process gave up; a later start takes it up
    later = run.open()
    assert resume_pending_tasks(later) == 1 and wait_for_resumed(10)
    return "—"


def bad_preset(run: Run) -> str:
    try:
        run.open(extra='poll_path = "/tasks"\n')
    except ConfigError as exc:
        run.studio = None
        return str(exc)
    return "—"


SCENARIOS: dict[str, Callable[[Run], str]] = {
    "task-failed": lambda run: run.generate("x [demo:task_fate=fail]"),
    "task-expired": lambda run: run.generate("x [demo:task_fate=expire]"),
    "task-cancelled": lambda run: run.generate("x [demo:task_fate=cancel]"),
    "task-gone": lambda run: run.generate("x [demo:task_fate=gone]"),
    "task-queued-past-timeout": lambda run: run.generate("x [demo:task_fate=queued]", timeout=0.3),
    "task-poll-429": lambda run: run.generate("x [demo:poll_busy=2]"),
    "task-poll-502": lambda run: run.generate("x [demo:poll_down=3]"),
    "task-poll-down-past-timeout": lambda run: run.generate("x [demo:poll_down=1000]", timeout=0.3),
    "task-urls-unreachable": lambda run: run.generate("x [demo:task] [demo:dead_urls]", model="gpt-image-2", mode="sync"),
    "task-no-images": lambda run: run.generate("x [demo:task_fate=empty]"),
    "task-no-id": lambda run: run.generate("x [demo:task_no_id]"),
    "task-submit-refused": lambda run: run.generate("x [demo:fail=moderation]"),
    "task-plain-answer": lambda run: run.generate("x [demo:task]", model="gpt-image-2", mode="sync"),
    "task-resumed": resumed,
    "task-bad-preset": bad_preset,
}


def stored_state(run: Run, data_dir: Path) -> str:
    if run.studio is None:
        return "nothing" if not (data_dir / "studio.db").exists() else "a gallery was opened"
    with run.studio.records.session() as session:
        count = session.scalar(select(func.count()).select_from(Generation))
        if count == 0:
            return "nothing"
        generation = session.scalars(select(Generation)).one()
        if generation.status == "pending":
            return "pending (task kept)" if generation.task_id and generation.worker is None else "pending, task lost"
        if generation.status == "failed":
            return f"failed ({generation.error_code}), prompt kept" if generation.prompt else "failed, prompt lost"
        images = len(generation.images)
        assert all(run.studio.storage.exists(image.path) for image in generation.images)
        return f"succeeded ({images} image{'s' if images != 1 else ''})"


def test_every_row_has_a_scenario_and_every_scenario_a_row():
    assert_rows_match(doc_rows(), SCENARIOS)


@pytest.mark.parametrize("row", sorted(SCENARIOS))
def test_row_holds(row, studio_env, task_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    message, stored = doc_rows()[row]
    run = Run(studio_env)
    seen = SCENARIOS[row](run)
    assert_message(row, message, seen)
    assert stored_state(run, studio_env) == stored
