"""Background jobs: every Generate, Edit and Compare-cell request and every batch line runs here, off the page.

A job is recorded (queued) before anything is sent; a bounded pool of threads in this process sends at most
`jobs_per_provider` requests at once to one provider (a burst waits its turn instead of turning into 429s) and
settles the job as succeeded, failed, cancelled or interrupted. The request itself goes through the studio's
ordinary `generate` / `edit`, so its generation row, files and errors are exactly those of any request.

One pool per gallery per process (`shared_pool`); the batch command makes its own with its own limit. A new
pool settles the jobs a dead process left behind (see `JobRecords.settle_dead`) and runs the queued
Generate jobs it adopts, so a restart loses no job that was never sent."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

from studio.core.errors import StudioError
from studio.core.request import ImageRequest, ValidationError, validate
from studio.core.wire import PartialCallback
from studio.db.errors import database_errors
from studio.db.jobs import ACTIVE, JobRecords
from studio.db.models import Job
from studio.services.edits import EditImage
from studio.services.job_link import CANCELLED_RUNNING, JobLink
from studio.services.studio import Outcome, Studio
from studio.services.tasks import resume_pending_tasks

KEEP_ENDED = 1000  # ended jobs whose outcome this process keeps in memory (a batch reads it as each ends)
CANCELLED_QUEUED = "Cancelled before it was sent: nothing was sent or billed."
Work = Callable[[PartialCallback, JobLink], Outcome]


@dataclass
class LiveJob:
    """A job this process runs: what it sends, and what the tray shows while it runs."""

    id: int
    kind: str
    label: str
    lane: str  # the provider it counts against (its host)
    work: Work
    link: JobLink
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    partial: tuple[int, bytes] | None = None  # the newest partial image, kept in memory only
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    error: StudioError | None = None
    released: bool = False  # its provider slot was given back
    on_end: Callable[[], None] | None = None


@dataclass(frozen=True)
class JobView:
    """One job as the tray and the pages show it."""

    id: int
    kind: str
    status: str
    label: str
    elapsed_s: float
    generation_id: int | None
    error: str | None
    partial: tuple[int, bytes] | None = None


class JobPool:
    def __init__(self, studio: Studio, per_provider: int, threads: int = 32, recover: bool = True, adopt: bool = True):
        self.studio = studio
        self.records = JobRecords(studio.records.engine)
        self.per_provider = per_provider
        self._lock = threading.Condition()
        self._queues: dict[str, deque[LiveJob]] = {}
        self._running: dict[str, int] = {}
        self._live: dict[int, LiveJob] = {}
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="studio-job")
        self.recovered = (0, 0)
        if recover and not studio.records.read_only:
            self.recover(adopt)

    def submit_generate(self, studio: Studio, request: ImageRequest, batch: tuple[str, str, int] | None = None,
                        label: str | None = None, prompt_parent_id: int | None = None) -> int:
        """Validate and record a Generate job, queue it, return its id at once. Bad input, a missing key or a
        read-only gallery raise here, before anything is recorded or sent."""
        request = validate(request, studio.settings.provider.accepts_response_format, catalog=studio.catalog)
        return self._submit(studio, "generate", request, lambda on_partial, link: studio.generate(
            request, on_partial, prompt_parent_id, job=link), batch, label)

    def submit_edit(self, studio: Studio, request: ImageRequest, images: Sequence[EditImage], mask: bytes | None) -> int:
        request = studio.check_edit(request, images, mask)  # every problem said now, before a job is recorded
        return self._submit(studio, "edit", request, lambda on_partial, link: studio.edit(request, images, mask, on_partial, job=link))

    def submit_work(self, studio: Studio, kind: str, request: ImageRequest, work: Work,
                    on_end: Callable[[], None] | None = None) -> int:
        """Any other request through the studio (a Compare cell): `work(on_partial, link)` must pass `link` on;
        `on_end()` is called once the job has ended, however (a cancelled queued job never calls `work`)."""
        return self._submit(studio, kind, request, work, on_end=on_end)

    def _submit(self, studio: Studio, kind: str, request: ImageRequest, work: Work,
                batch: tuple[str, str, int] | None = None, label: str | None = None,
                on_end: Callable[[], None] | None = None) -> int:
        studio.records.check_writable()
        studio.client()  # a missing or malformed key is said now, not as a failed job later
        provider = studio.settings.provider
        with database_errors():  # a database in trouble is one clear message, nothing queued
            job = self.records.add(kind, provider.key, request.model, asdict(request), batch)
        live = self._live_job(job.id, kind, label or request.prompt, provider.host, work)
        live.on_end = on_end
        self._enqueue(live)
        return job.id

    def _live_job(self, job_id: int, kind: str, label: str, lane: str, work: Work) -> LiveJob:
        link = JobLink(job_id, lambda generation_id: self.records.link(job_id, generation_id))
        live = LiveJob(job_id, kind, label, lane, work, link)
        link.on_answered = lambda: self._release(live)
        link.cancelled_elsewhere = lambda: self.records.status(job_id) == "cancelled"
        return live

    def _release(self, live: LiveJob) -> None:
        """The job's provider slot is free once its answer is in: saving the files and committing the rows is
        local work, and the next queued request need not wait for it."""
        with self._lock:
            if live.released:
                return
            live.released = True
            self._running[live.lane] -= 1
        self._pump()

    def _enqueue(self, live: LiveJob) -> None:
        with self._lock:
            self._live[live.id] = live
            self._queues.setdefault(live.lane, deque()).append(live)
        self._pump()

    def _pump(self) -> None:
        """Start queued jobs while their provider has a free slot."""
        with self._lock:
            for lane, queue in self._queues.items():
                while queue and self._running.get(lane, 0) < self.per_provider:
                    live = queue.popleft()
                    self._running[lane] = self._running.get(lane, 0) + 1
                    self._executor.submit(self._run, live)

    def _run(self, live: LiveJob) -> None:
        status, generation_id, error = "failed", None, None
        try:
            if not self.records.start(live.id):
                status = "cancelled"  # cancelled between the queue and here: never sent
                return
            live.started = time.monotonic()

            def on_partial(index: int, data: bytes) -> None:
                live.partial = (index, data)

            live.outcome = live.work(live.link.watch(on_partial), live.link)
            generation_id, error = live.outcome.generation_id, live.outcome.error
            status = "succeeded" if error is None else ("cancelled" if error.code == "cancelled" else "failed")
            if live.outcome.status == "pending":  # a provider task kept to be resumed: the job follows its generation
                status = "running"
        except ValidationError as exc:
            error = StudioError(" ".join(exc.problems), "invalid_request")
        except StudioError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - recorded, never a traceback on a page
            error = StudioError(f"The job failed unexpectedly ({type(exc).__name__}); try again.", "unexpected")
        finally:
            live.error = error
            try:
                if status == "running":
                    threading.Thread(target=self._follow_resumed, args=([live.id],), daemon=True).start()
                elif status != "cancelled" or generation_id is not None:
                    self.records.finish(live.id, status, generation_id or live.link.generation_id, error)
            except Exception:  # noqa: BLE001 - the database is away: the row stays running and a restart settles it
                pass
            self._release(live)
            self._end(live)

    def _end(self, live: LiveJob) -> None:
        if live.on_end is not None:
            try:
                live.on_end()
            except Exception:  # noqa: BLE001 - a caller's hook must not keep the job from ending
                pass
        with self._lock:
            live.partial = None  # a preview is for a running job only
            live.done.set()
            self._lock.notify_all()
            if len(self._live) > KEEP_ENDED * 2:  # a long-lived server: forget the oldest ended jobs (the rows stay)
                ended = [job_id for job_id, job in self._live.items() if job.done.is_set()]
                for job_id in ended[:len(ended) - KEEP_ENDED]:
                    del self._live[job_id]

    def cancel(self, job_id: int) -> str:
        """Cancel a queued job (never sent) or a running one (its answer is not kept). Returns what happened."""
        was = self.records.cancel(job_id, CANCELLED_QUEUED, CANCELLED_RUNNING)
        with self._lock:
            live = self._live.get(job_id)
            if live is not None and was == "queued":
                queue = self._queues.get(live.lane)
                if queue is not None and live in queue:
                    queue.remove(live)
                else:
                    live = None  # already taken off the queue: its thread sees the cancel and ends it
        if was == "queued" and live is not None:
            self._end(live)
        if was == "running" and live is not None:
            live.link.abort()  # the answer is not kept; a streamed request's connection is shut now
        if was == "running":
            return f"Job #{job_id} cancelled while running: its answer will not be kept (cost unknown)."
        if was == "queued":
            return f"Job #{job_id} cancelled before it was sent: nothing was billed."
        return f"Job #{job_id} had already finished."

    def live(self, job_id: int) -> LiveJob | None:
        with self._lock:
            return self._live.get(job_id)

    def wait(self, job_ids: Sequence[int] | None = None, timeout: float | None = None) -> bool:
        """Wait until these jobs (every job of this pool, by default) have ended; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                pending = [live for job_id, live in self._live.items() if (job_ids is None or job_id in job_ids) and not live.done.is_set()]
                if not pending:
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left if left is not None else 1.0)

    def wait_any(self, job_ids: Sequence[int], timeout: float) -> list[int]:
        """Those of these jobs that have ended, waiting up to `timeout` for at least one."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                ended = [job_id for job_id in job_ids if job_id not in self._live or self._live[job_id].done.is_set()]
                left = deadline - time.monotonic()
                if ended or left <= 0:
                    return ended
                self._lock.wait(left)

    def views(self, job_ids: Sequence[int]) -> list[JobView]:
        """These jobs as they stand, in the order given."""
        with database_errors():
            rows = self.records.get_many(job_ids)
        return [self._view(rows[job_id]) for job_id in job_ids if job_id in rows]

    def active(self) -> list[JobView]:
        """Every queued and running job of the gallery (this process's and others'), oldest first."""
        with database_errors():
            return [self._view(job) for job in self.records.active()]

    def _view(self, job: Job) -> JobView:
        live = self.live(job.id)
        if job.status in ACTIVE:
            since = job.started_at or job.created_at
            since = since.replace(tzinfo=timezone.utc) if since.tzinfo is None else since
            elapsed = (datetime.now(timezone.utc) - since).total_seconds()
        else:
            started, finished = job.started_at or job.created_at, job.finished_at or job.created_at
            elapsed = (finished - started).total_seconds()
        prompt = str((job.request or {}).get("prompt") or "")
        return JobView(job.id, job.kind, job.status, prompt, max(0.0, elapsed), job.generation_id, job.error_message,
                       live.partial if live is not None and job.status == "running" else None)

    def recover(self, adopt: bool = True) -> tuple[int, int]:
        """Settle the jobs of dead processes and run the queued Generate jobs adopted from them (not with
        `adopt=False`: the batch command leaves them to a server); let the provider-task service resume the
        asynchronous tasks it knows (once per process and gallery), and settle each job that was running one
        when its generation ends. Returns (interrupted, adopted)."""
        settled, adopted, resumed = self.records.settle_dead(self.studio.settings.request_window_s, adopt)
        for job in adopted:
            studio = self.studio.with_settings(self.studio.settings.for_session(job.provider, job.model))
            request = ImageRequest(**job.request)
            self._enqueue(self._live_job(job.id, job.kind, request.prompt, studio.settings.provider.host,
                                         lambda on_partial, link, studio=studio, request=request: studio.generate(request, on_partial, job=link)))
        _resume_tasks_once(self.studio)
        if resumed:
            threading.Thread(target=self._follow_resumed, args=([job.id for job in resumed],), daemon=True,
                             name="studio-job-resumed").start()
        self.recovered = (settled, len(adopted))
        return self.recovered

    def _follow_resumed(self, job_ids: list[int], every_s: float = 1.0) -> None:
        """Settle the resumed jobs as their generations end (the task service finishes those)."""
        waiting = list(job_ids)
        while waiting:
            time.sleep(every_s)
            try:
                waiting = [job_id for job_id in waiting if not self.records.settle_with_generation(job_id)]
            except Exception:  # noqa: BLE001 - the database is away for a moment: try again next time
                continue

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=False)


_resumed: set[str] = set()
_resumed_lock = threading.Lock()  # not _pools_lock: shared_pool holds that while a new pool recovers


def _resume_tasks_once(studio: Studio) -> None:
    """The asynchronous provider tasks a dead process left are resumed by their own service (issue 12's other
    half, studio.services.tasks), once per process and gallery."""
    key = studio.settings.database_url
    with _resumed_lock:
        if key in _resumed:
            return
        _resumed.add(key)
    resume_pending_tasks(studio)


_pools: dict[str, JobPool] = {}
_pools_lock = threading.Lock()


def shared_pool(studio: Studio) -> JobPool:
    """This process's pool for the studio's gallery, made (and its dead jobs settled) on first use."""
    key = studio.settings.database_url
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = JobPool(studio, studio.settings.jobs_per_provider)
        return pool


def wait_for_jobs(timeout: float) -> bool:
    """Wait until every shared pool of this process is idle (tests, and a clean shutdown); False on timeout."""
    deadline = time.monotonic() + timeout
    with _pools_lock:
        pools = list(_pools.values())
    return all(pool.wait(timeout=max(0.0, deadline - time.monotonic())) for pool in pools)
