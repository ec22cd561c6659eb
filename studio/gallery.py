"""The gallery: every SQL statement the studio runs lives behind this class."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from studio.client import ApiResult
from studio.db import get_engine, migrate
from studio.errors import StudioError
from studio.gallery_compare import CompareQueries
from studio.models import Generation, Image
from studio.request import ImageRequest


class Gallery(CompareQueries):
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str) -> "Gallery":
        migrate(database_url)
        return cls(get_engine(database_url))

    def start_generation(self, request: ImageRequest, provider: str, base_url_host: str) -> int:
        """Record the request before it is sent, so no prompt is lost whatever happens next."""
        with self.sessions.begin() as session:
            generation = Generation(status="pending", provider=provider, base_url_host=base_url_host, **asdict(request))
            session.add(generation)
            session.flush()
            return generation.id

    def finish_generation(self, generation_id: int, result: ApiResult, images: Sequence[dict[str, Any]]) -> Generation:
        """Mark the generation succeeded and add its image rows in one transaction (files are already on disk)."""
        usage = result.usage or {}
        with self.sessions.begin() as session:
            generation = session.get_one(Generation, generation_id)
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
            session.add_all(Image(generation_id=generation_id, **fields) for fields in images)
        return self.get(generation_id)

    def fail_generation(self, generation_id: int, error: StudioError, latency_s: float | None) -> Generation:
        with self.sessions.begin() as session:
            generation = session.get_one(Generation, generation_id)
            generation.status = "failed"
            generation.error_code = error.code
            generation.error_message = error.message
            generation.http_status = error.http_status
            generation.latency_s = latency_s
        return self.get(generation_id)

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
