"""Provider tasks that outlive a request: a paid image is never lost.

A request the provider runs as a task (provider/tasks.py) has its task id stored with the pending generation
before the first poll (`following`). If the process stops while polling, or gives up at the preset's
timeout, the row stays pending with its task id (the start-up settle leaves such rows alone), and
`resume_pending_tasks` polls it again in a background thread of a later process (or a later call), then
keeps the images exactly as an answered request's (services/results.py) or records why there are none.

One poller per task: within a process a set of the generation ids being polled; across processes the row's
`worker` (db/worker.py), taken over only from a process that is gone (`claim_task` is one conditional UPDATE).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from typing import Any, Iterator

from studio.core.config import DEMO_PROVIDER, ConfigError, load_providers
from studio.core.errors import StudioError
from studio.core.request import ImageRequest, field_names
from studio.core.wire import TaskRef, TaskState
from studio.db.errors import database_errors
from studio.db.generations import GenerationRecords
from studio.db.models import Generation
from studio.db.worker import Worker
from studio.provider.tasks import TaskPending, wait_for
from studio.services.results import Keeper, Outcome, commit, record_failure, save_files

DEMO_GONE = "The demo endpoint that ran this task stopped with the studio, and the task with it; the prompt is kept, no image was saved."
_lock = threading.Lock()
_polling: set[tuple[str, int]] = set()  # (gallery database, generation id) this process is polling (or sending) now
_threads: list[threading.Thread] = []


@dataclass
class Follow:
    """The callbacks a request gives the provider layer: keep the task id, note each status."""

    records: GenerationRecords
    pending: Generation

    def keep(self, ref: TaskRef) -> None:
        with database_errors():
            self.records.note_task(self.pending, ref)

    def status(self, state: TaskState) -> None:
        try:
            with database_errors():
                self.records.note_task_status(self.pending.id, state.status)
        except StudioError:
            pass  # a status is a nicety; the poll goes on and the outcome is recorded

    def kept(self, error: StudioError) -> Outcome:
        """Not done in time: the row stays pending with its task id, free for any process to poll again."""
        with database_errors():
            self.records.release_task(self.pending.id)
        return Outcome(self.pending, [], error)


@contextmanager
def following(records: GenerationRecords, pending: Generation) -> Iterator[Follow]:
    """While a request runs in this process, `resume_pending_tasks` leaves its row alone."""
    with _lock:
        _polling.add(_key(records, pending.id))
    try:
        yield Follow(records, pending)
    finally:
        with _lock:
            _polling.discard(_key(records, pending.id))


def _key(records: GenerationRecords, generation_id: int) -> tuple[str, int]:
    """Which request of which gallery: two galleries open in one process both have a generation 1."""
    return str(records.engine.url), generation_id


def resume_pending_tasks(studio: Any) -> int:
    """Poll again, each in a background thread, every pending generation with a stored task id that no live
    process is polling; returns how many pollers it started. Calling it again starts none for the same tasks.
    `studio` is a services.studio.Studio."""
    if studio.records.read_only:
        return 0
    started = 0
    for row in studio.records.pending_tasks():
        with _lock:
            if _key(studio.records, row.id) in _polling:
                continue
        target = _studio_for(studio, row)
        if target is None and row.provider == DEMO_PROVIDER and _free(row, studio) and studio.records.claim_task(row):
            # The in-process demo endpoint that ran this task stopped with its studio: the task is gone with it.
            with database_errors():
                studio.records.fail_generation(row, StudioError(DEMO_GONE, "interrupted"), None)
            continue
        if target is None or not _free(row, target) or not studio.records.claim_task(row):
            continue
        with _lock:
            if _key(studio.records, row.id) in _polling:
                continue
            _polling.add(_key(studio.records, row.id))
            thread = threading.Thread(target=_resume, args=(target, row), name=f"studio-task-{row.id}", daemon=True)
            _threads.append(thread)
        thread.start()
        started += 1
    return started


def wait_for_resumed(timeout_s: float | None = None) -> bool:
    """Wait for the pollers this process started (the CLI's `resume`, tests); True when all have ended."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    for thread in list(_threads):
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        return not _threads


def _free(row: Generation, studio: Any) -> bool:
    """No other live process polls this task: nobody holds it, its process is gone, or (another host, which
    cannot be asked) it is older than that process would have polled it."""
    if row.worker is None:
        return True
    worker = Worker.parse(row.worker)
    if worker.here():
        return worker.pid == os.getpid() or not worker.alive()
    submitted = row.task_submitted_at or row.created_at
    submitted = submitted.replace(tzinfo=timezone.utc) if submitted.tzinfo is None else submitted
    return time.time() - submitted.timestamp() > studio.settings.provider.tasks.timeout_s + 60


def _studio_for(studio: Any, row: Generation) -> Any | None:
    """A studio talking to the provider the task was submitted to (its key only to its own host), or None."""
    settings = studio.settings
    if row.provider == settings.provider.key and row.base_url_host == settings.provider.host:
        return studio
    try:
        provider = load_providers(settings.data_dir).get(row.provider)
    except ConfigError:
        return None
    if provider is None or not provider.base_url or provider.host != row.base_url_host:
        return None
    return studio.with_settings(settings.with_provider(provider, row.model))


def _resume(studio: Keeper, row: Generation) -> None:
    try:
        _finish(studio, row)
    except Exception as exc:  # noqa: BLE001 - a background thread: say it, the row stays pending for the next start
        print(f"studio: task {row.task_id} of generation {row.id} could not be finished now ({exc}); it stays pending.", file=sys.stderr)
    finally:
        with _lock:
            _polling.discard(_key(studio.records, row.id))


def _finish(studio: Any, row: Generation) -> None:
    follow = Follow(studio.records, row)
    submitted = row.task_submitted_at or row.created_at
    expires = row.task_expires_at
    ref = TaskRef(row.task_id or "", row.task_poll_path or studio.settings.provider.tasks.poll_path.replace("{task_id}", row.task_id or ""),
                  submitted.replace(tzinfo=submitted.tzinfo or timezone.utc).timestamp(),
                  expires.replace(tzinfo=expires.tzinfo or timezone.utc).timestamp() if expires else None)
    request = ImageRequest(**{name: getattr(row, name) for name in field_names()})
    try:
        client = studio.client()
    except StudioError:
        follow.kept(StudioError("no key"))  # e.g. no key configured now: left for a start that has one
        return
    started = time.perf_counter()
    written: list[str] = []
    try:
        result = wait_for(client, ref, studio.settings.provider.tasks, follow.status, first_wait_s=0)
        rows, note = save_files(studio, result, request, written)
    except TaskPending:
        follow.kept(StudioError("pending"))
        return
    except Exception as exc:  # recorded whatever it is: the prompt stays in the history with the reason
        record_failure(studio, row, exc, written, started)
        return
    commit(studio, row, result, rows, note, written)


def resume_and_wait(studio: Any, timeout_s: float | None = None) -> dict[str, int]:
    """`python -m studio resume`: poll every pending task now and wait for them; what became of them."""
    before = {row.id for row in studio.records.pending_tasks()}
    resumed = resume_pending_tasks(studio)
    wait_for_resumed(timeout_s)
    still = {row.id for row in studio.records.pending_tasks()}
    finished = [studio.records.get(generation_id) for generation_id in before - still]
    return {"resumed": resumed, "succeeded": sum(g.status == "succeeded" for g in finished),
            "failed": sum(g.status == "failed" for g in finished), "pending": len(still)}
