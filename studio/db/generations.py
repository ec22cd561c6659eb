"""Generation rows: a request recorded before it is sent, then settled as succeeded or failed; reading
them back one at a time or newest first. Lineage walks are in `lineage.py`, image changes in `images.py`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.core.wire import ApiResult, TaskRef
from studio.db.comparisons import ComparisonRecords
from studio.db.engine import get_engine, migrate, read_only
from studio.db.errors import READ_ONLY_MESSAGE
from studio.db.lineage import Lineage, lineage_of
from studio.db.models import Generation, GenerationSource, Image, utcnow
from studio.db.worker import Worker, current_worker
from studio.db.values import clean_int, clean_text, clean_usage


INTERRUPTED = "The studio stopped before this request finished; the prompt is kept, no image was saved."


class GenerationRecords(ComparisonRecords):
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def read_only(self) -> bool:
        """The gallery could only be opened read-only: browse, search and export work, saving does not."""
        return read_only(self.engine)

    def check_writable(self) -> None:
        """Refuse a change before any work starts (a file stored, a request sent) when it could not be saved."""
        if self.read_only:
            raise StudioError(READ_ONLY_MESSAGE, "read_only")

    @classmethod
    def open(cls, database_url: str) -> "GenerationRecords":
        migrate(database_url)
        return cls(get_engine(database_url))

    def start_generation(
        self, request: ImageRequest, provider: str, base_url_host: str,
        endpoint: str = "generations", sources: Sequence[dict[str, Any]] = (), prompt_parent_id: int | None = None,
    ) -> Generation:
        """Record the request (and an edit's input files) before it is sent, so no prompt is lost whatever happens next.
        `prompt_parent_id` names the generation the prompt was edited from; one no longer in the gallery is not linked."""
        with self.sessions.begin() as session:
            generation = Generation(
                status="pending", provider=provider, base_url_host=base_url_host, worker=current_worker(), endpoint=endpoint,
                **asdict(request),
            )
            if prompt_parent_id is not None and session.get(Generation, prompt_parent_id) is not None:
                generation.prompt_parent_id = prompt_parent_id
            generation.sources = [GenerationSource(**fields) for fields in sources]
            session.add(generation)
        set_committed_value(generation, "images", [])  # a new generation has none: spare a lazy load later
        return generation

    def note_stream_fallback(self, generation: Generation) -> None:
        """The provider refused to stream and the request was sent again plainly: record what was sent."""
        with self.sessions.begin() as session:
            session.add(generation)
            generation.stream = False
            generation.partial_images = None

    def note_task(self, generation: Generation, ref: TaskRef) -> None:
        """The provider runs the request as a task: keep its id (before it is polled) so that another process can
        poll it again if this one stops."""
        task_id = clean_text("task_id", ref.task_id)
        if task_id is None:
            raise StudioError(f"The provider's task id is not one the gallery can keep (over 128 characters or not text): "
                              f"{ref.task_id[:40]!r}…; the request could not be followed.", "bad_task_id")
        with self.sessions.begin() as session:
            session.add(generation)
            generation.task_id = task_id
            generation.task_poll_path = ref.poll_path[:512]
            generation.task_status = "queued"
            generation.task_submitted_at = datetime.fromtimestamp(ref.submitted_at, timezone.utc)
            generation.task_expires_at = datetime.fromtimestamp(ref.expires_at, timezone.utc) if ref.expires_at else None

    def note_task_status(self, generation_id: int, status: str) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Generation).where(Generation.id == generation_id).values(task_status=status[:16]))

    def pending_tasks(self) -> list[Generation]:
        """Requests still waiting on a provider task, oldest first."""
        with self.sessions() as session:
            query = (select(Generation).options(selectinload(Generation.images))
                     .where(Generation.status == "pending", Generation.task_id.is_not(None)).order_by(Generation.id))
            return list(session.scalars(query))

    def claim_task(self, generation: Generation) -> bool:
        """Make this process the one polling a pending task, unless another got there first (the row's worker
        changed since it was read): one poller per task across processes."""
        before = Generation.worker.is_(None) if generation.worker is None else Generation.worker == generation.worker
        with self.sessions.begin() as session:
            claimed = session.execute(update(Generation).where(Generation.id == generation.id, Generation.status == "pending", before)
                                      .values(worker=current_worker())).rowcount == 1
        if claimed:
            generation.worker = current_worker()
        return claimed

    def release_task(self, generation_id: int) -> None:
        """This process stopped polling a pending task (not done in time): any process may take it up."""
        with self.sessions.begin() as session:
            session.execute(update(Generation).where(Generation.id == generation_id, Generation.status == "pending").values(worker=None))

    def finish_generation(self, generation: Generation, result: ApiResult, images: Sequence[dict[str, Any]],
                          note: StudioError | None = None) -> Generation:
        """Mark the generation succeeded and add its image rows in one transaction (files are already on disk).
        `note` is what a user must know about a success (e.g. fewer images than asked), kept in the error columns.

        `generation` is the object start_generation returned; re-attaching it spares a SELECT on the hot path."""
        usage = clean_usage(result.usage)
        with self.sessions.begin() as session:
            session.add(generation)
            generation.status = "succeeded"
            # Another process may have settled it as interrupted meanwhile (a request that outlived its
            # window): the success stands, and so must not the error it was given.
            noted = {"error_code": note.code, "error_message": note.message} if note else {}
            for name in ("error_code", "error_message", "http_status"):
                setattr(generation, name, noted.get(name))
                flag_modified(generation, name)  # written even though this copy never saw the error
            generation.created = clean_int("created", result.created)
            generation.response_size = clean_text("response_size", result.size)
            generation.response_quality = clean_text("response_quality", result.quality)
            generation.response_background = clean_text("response_background", result.background)
            generation.response_output_format = clean_text("response_output_format", result.output_format)
            generation.usage = usage
            for name in ("input_tokens", "output_tokens", "total_tokens"):
                setattr(generation, name, (usage or {}).get(name))
            generation.latency_s = result.latency_s
            generation.images.extend(Image(**fields) for fields in images)
        return generation

    def fail_generation(self, generation: Generation, error: StudioError, latency_s: float | None) -> Generation:
        with self.sessions.begin() as session:
            session.add(generation)
            generation.status = "failed"
            generation.error_code = error.code
            generation.error_message = error.message
            generation.http_status = error.http_status
            generation.latency_s = latency_s
        return generation

    def settle_interrupted(self, older_than_s: float) -> int:
        """Mark as failed the pending requests whose process is gone; their prompts stay in the history.

        On this host the process is asked: a dead one's requests are settled at once, a live one's never,
        however old (it is still waiting for its answer and will record it). A request sent from another
        host cannot be asked about, so it is settled once it is older than any request can run.
        Returns how many were settled."""
        if self.read_only:
            return 0  # nothing can be written; the next writable start settles them
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        settled = 0
        with self.sessions.begin() as session:
            # A request with a provider task is left pending: it is polled again (services/tasks.py).
            for generation in session.scalars(select(Generation).where(Generation.status == "pending", Generation.task_id.is_(None))):
                worker = Worker.parse(generation.worker)
                if worker.here():
                    gone = not worker.alive()
                else:
                    created_at = generation.created_at
                    created_at = created_at.replace(tzinfo=timezone.utc) if created_at.tzinfo is None else created_at
                    gone = created_at < cutoff
                if gone:
                    generation.status = "failed"
                    generation.error_code = "interrupted"
                    generation.error_message = INTERRUPTED
                    settled += 1
        return settled

    def get(self, generation_id: int) -> Generation:
        with self.sessions() as session:
            generation = session.scalar(
                select(Generation).options(selectinload(Generation.images)).where(Generation.id == generation_id)
            )
            if generation is None:
                raise StudioError(f"There is no generation {generation_id} in the gallery.", "not_found")
            return generation

    def recent(self, limit: int = 20) -> list[Generation]:
        """The newest generations first, failed ones included, with their images loaded."""
        with self.sessions() as session:
            query = (
                select(Generation)
                .options(selectinload(Generation.images))
                .order_by(Generation.created_at.desc(), Generation.id.desc())
                .limit(limit)
            )
            return list(session.scalars(query))

    def session(self) -> Session:
        return self.sessions()

    def get_image(self, image_id: int) -> Image:
        with self.sessions() as session:
            image = session.get(Image, image_id)
            if image is None:
                raise StudioError(f"There is no image {image_id} in the gallery.", "not_found")
            return image

    def lineage(self, image_id: int, max_steps: int = 1000) -> Lineage:
        """The edits that led to an image (up to its original generations) and the edits made from it
        (and from those), each as a link from gallery images to the images an edit made."""
        self.get_image(image_id)
        with self.sessions() as session:
            return lineage_of(session, image_id, max_steps)
