"""The gallery: every SQL statement the studio runs lives behind this class."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict
from datetime import timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from studio.client import ApiResult
from studio.db import get_engine, migrate
from studio.errors import StudioError
from studio.gallery_compare import CompareQueries
from studio.models import Generation, Image, utcnow
from studio.request import ImageRequest


WORKER = f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Gallery(CompareQueries):
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str) -> "Gallery":
        migrate(database_url)
        return cls(get_engine(database_url))

    def start_generation(self, request: ImageRequest, provider: str, base_url_host: str) -> Generation:
        """Record the request before it is sent, so no prompt is lost whatever happens next."""
        with self.sessions.begin() as session:
            generation = Generation(
                status="pending", provider=provider, base_url_host=base_url_host, worker=WORKER, **asdict(request)
            )
            session.add(generation)
        set_committed_value(generation, "images", [])  # a new generation has none: spare a lazy load later
        return generation

    def finish_generation(self, generation: Generation, result: ApiResult, images: Sequence[dict[str, Any]]) -> Generation:
        """Mark the generation succeeded and add its image rows in one transaction (files are already on disk).

        `generation` is the object start_generation returned; re-attaching it spares a SELECT on the hot path."""
        usage = result.usage or {}
        with self.sessions.begin() as session:
            session.add(generation)
            generation.status = "succeeded"
            generation.created = result.created
            generation.response_size = result.size
            generation.response_quality = result.quality
            generation.response_background = result.background
            generation.response_output_format = result.output_format
            generation.usage = result.usage
            generation.input_tokens = usage.get("input_tokens")
            generation.output_tokens = usage.get("output_tokens")
            generation.total_tokens = usage.get("total_tokens")
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
        """Mark as failed the pending requests whose process is gone (same host, dead pid) or that are older
        than any request can run; their prompts stay in the history. Returns how many were settled."""
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        host = WORKER.rsplit(":", 1)[0]
        settled = 0
        with self.sessions.begin() as session:
            for generation in session.scalars(select(Generation).where(Generation.status == "pending")):
                worker_host, _, pid = (generation.worker or ":").rpartition(":")
                created_at = generation.created_at.replace(tzinfo=timezone.utc) if generation.created_at.tzinfo is None else generation.created_at
                gone = worker_host == host and pid.isdigit() and not _process_alive(int(pid))
                if gone or created_at < cutoff:
                    generation.status = "failed"
                    generation.error_code = "interrupted"
                    generation.error_message = "The studio stopped before this request finished; the prompt is kept, no image was saved."
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
