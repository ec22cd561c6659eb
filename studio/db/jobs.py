"""Job rows: a background request recorded before anything is sent (queued), then running, then settled as
succeeded, failed, cancelled or interrupted; batch lines found by their key; jobs of a dead process settled."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from studio.core.errors import StudioError
from studio.db.models import Generation, Job, utcnow
from studio.db.worker import Worker, current_worker

ACTIVE = ("queued", "running")
FINAL = ("succeeded", "failed", "cancelled", "interrupted")
INTERRUPTED_RUNNING = "The studio stopped while this job's request was running; the prompt is kept, no image was saved."
INTERRUPTED_QUEUED = "The studio stopped before this job was sent (nothing was sent or billed); submit it again."


class JobRecords:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def add(self, kind: str, provider: str, model: str, request: dict[str, Any],
            batch: tuple[str, str, int] | None = None) -> Job:
        """Record a job as queued, owned by this process; `batch` is (key, file, line) for a batch line."""
        key, file, line = batch if batch else (None, None, None)
        with self.sessions.begin() as session:
            job = Job(status="queued", kind=kind, provider=provider, model=model, request=request, worker=current_worker(),
                      batch_key=key, batch_file=file, batch_line=line)
            session.add(job)
        return job

    def start(self, job_id: int) -> bool:
        """queued -> running; False when it is no longer queued (cancelled meanwhile): it must not be sent."""
        with self.engine.begin() as connection:
            result = connection.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                                        .values(status="running", started_at=utcnow(), worker=current_worker()))
        return result.rowcount == 1

    def link(self, job_id: int, generation_id: int) -> None:
        """The job's generation row exists (its request is about to be sent)."""
        with self.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job_id).values(generation_id=generation_id))

    def finish(self, job_id: int, status: str, generation_id: int | None, error: StudioError | None) -> None:
        """Settle a job. A job cancelled while it ran stays cancelled (its generation is still linked)."""
        values: dict[str, Any] = {"finished_at": utcnow()}
        if generation_id is not None:
            values["generation_id"] = generation_id
        with self.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job_id, Job.status == "cancelled").values(**values))
            connection.execute(update(Job).where(Job.id == job_id, Job.status != "cancelled").values(
                status=status, error_code=error.code if error else None, error_message=error.message if error else None, **values))

    def cancel(self, job_id: int, queued_message: str, running_message: str) -> str | None:
        """Mark an active job cancelled; returns the status it had (queued or running), None if it had ended."""
        for was, message in zip(ACTIVE, (queued_message, running_message)):
            with self.engine.begin() as connection:
                result = connection.execute(update(Job).where(Job.id == job_id, Job.status == was).values(
                    status="cancelled", finished_at=utcnow(), error_code="cancelled", error_message=message))
            if result.rowcount == 1:
                return was
        return None

    def status(self, job_id: int) -> str | None:
        with self.engine.connect() as connection:
            return connection.scalar(select(Job.status).where(Job.id == job_id))

    def get(self, job_id: int) -> Job:
        with self.sessions() as session:
            job = session.get(Job, job_id)
            if job is None:
                raise StudioError(f"There is no job {job_id} in the gallery.", "not_found")
            return job

    def get_many(self, job_ids: Sequence[int]) -> dict[int, Job]:
        if not job_ids:
            return {}
        with self.sessions() as session:
            return {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(list(job_ids))))}

    def active(self, limit: int = 100) -> list[Job]:
        """Queued and running jobs, oldest first (what the jobs tray shows)."""
        with self.sessions() as session:
            return list(session.scalars(select(Job).where(Job.status.in_(ACTIVE)).order_by(Job.id).limit(limit)))

    def done_keys(self, keys: Sequence[str]) -> set[str]:
        """The batch keys among `keys` that already have a succeeded job, or a job whose generation succeeded
        (its process died between committing the images and settling the job: the images are in the gallery)."""
        done: set[str] = set()
        chunk = 500  # well under any database's limit on bound parameters
        with self.sessions() as session:
            for start in range(0, len(keys), chunk):
                done.update(session.scalars(select(Job.batch_key).outerjoin(Generation, Generation.id == Job.generation_id).where(
                    Job.batch_key.in_(list(keys[start:start + chunk])),
                    or_(Job.status == "succeeded", Generation.status == "succeeded"))))
        return done

    def settle_dead(self, older_than_s: float, adopt: bool = True) -> tuple[int, list[Job], list[Job]]:
        """The active jobs of processes that are gone. A queued Generate job from the pages (never sent, its
        request stored whole) is adopted by this process and returned to be run; any other queued job (an
        edit, whose files were only in memory, or a batch line, which the next run of its batch sends) is
        marked interrupted, never sent. A running job ends as its generation did: succeeded or failed if that
        was committed before the process died, interrupted if its synchronous request died with it (the
        start's settling marked the generation so) or it had none yet; while its generation is still pending
        (an asynchronous provider task, resumed by polling its task id) it is kept running, owned by this
        process, to be settled when its generation is. Returns (how many were marked interrupted, the adopted
        queued jobs, the resumed running ones)."""
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        settled, adopted, resumed = 0, [], []
        me = current_worker()
        with self.sessions.begin() as session:
            for job in session.scalars(select(Job).where(Job.status.in_(ACTIVE)).with_for_update(skip_locked=True)):
                if not _gone(job.worker, job.started_at or job.created_at, cutoff):
                    continue
                if job.status == "queued" and job.kind == "generate" and job.batch_key is None:
                    if not adopt:
                        continue  # left for a server's pool to adopt
                    job.worker = me
                    adopted.append(job)
                elif job.status == "running" and not _follow_generation(session, job):
                    job.worker = me
                    resumed.append(job)
                elif job.status == "queued":
                    job.status, job.error_code, job.error_message = "interrupted", "interrupted", INTERRUPTED_QUEUED
                    job.finished_at = utcnow()
                settled += job.status == "interrupted"
        return settled, adopted, resumed

    def settle_with_generation(self, job_id: int) -> bool:
        """Settle a running job as its generation ended (a resumed provider task); False while it is pending."""
        with self.sessions.begin() as session:
            job = session.get(Job, job_id)
            return job is None or job.status != "running" or _follow_generation(session, job)


def _follow_generation(session: Session, job: Job) -> bool:
    """End a running job as its generation ended; False (nothing changed) while the generation is pending."""
    generation = session.get(Generation, job.generation_id) if job.generation_id is not None else None
    if generation is not None and generation.status == "pending":
        return False
    if generation is None or generation.error_code == "interrupted":
        job.status, job.error_code, job.error_message = "interrupted", "interrupted", INTERRUPTED_RUNNING
    elif generation.status == "succeeded":
        job.status, job.error_code, job.error_message = "succeeded", None, None
    else:
        job.status, job.error_code, job.error_message = "failed", generation.error_code, generation.error_message
    job.finished_at = utcnow()
    return True


def _gone(worker: str | None, since: datetime, cutoff: datetime) -> bool:
    """Whether the process that owns a job is gone: asked on this host; from another host, judged by age."""
    parsed = Worker.parse(worker)
    if parsed.here():
        return not parsed.alive()
    since = since.replace(tzinfo=timezone.utc) if since.tzinfo is None else since
    return since < cutoff
