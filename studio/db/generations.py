"""The gallery: every SQL statement the studio runs lives behind this class."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass
from datetime import timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from studio.core.wire import ApiResult
from studio.db.engine import get_engine, migrate
from studio.core.errors import StudioError
from studio.db.comparisons import ComparisonRecords
from studio.db.models import Generation, GenerationSource, Image, utcnow
from studio.core.request import ImageRequest


WORKER = f"{socket.gethostname()}:{os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _echoed_text(value: object, width: int) -> str | None:
    """What a provider echoes is kept only when it fits its column: an odd echo must not cost the images."""
    return value if isinstance(value, str) and len(value) <= width else None


def _echoed_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else None


class GenerationRecords(ComparisonRecords):
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str) -> "GenerationRecords":
        migrate(database_url)
        return cls(get_engine(database_url))

    def start_generation(
        self, request: ImageRequest, provider: str, base_url_host: str,
        endpoint: str = "generations", sources: Sequence[dict[str, Any]] = (),
    ) -> Generation:
        """Record the request (and an edit's input files) before it is sent, so no prompt is lost whatever happens next."""
        with self.sessions.begin() as session:
            generation = Generation(
                status="pending", provider=provider, base_url_host=base_url_host, worker=WORKER, endpoint=endpoint,
                **asdict(request),
            )
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

    def finish_generation(self, generation: Generation, result: ApiResult, images: Sequence[dict[str, Any]]) -> Generation:
        """Mark the generation succeeded and add its image rows in one transaction (files are already on disk).

        `generation` is the object start_generation returned; re-attaching it spares a SELECT on the hot path."""
        usage = result.usage or {}
        with self.sessions.begin() as session:
            session.add(generation)
            generation.status = "succeeded"
            generation.created = _echoed_int(result.created)
            generation.response_size = _echoed_text(result.size, 16)
            generation.response_quality = _echoed_text(result.quality, 16)
            generation.response_background = _echoed_text(result.background, 16)
            generation.response_output_format = _echoed_text(result.output_format, 8)
            generation.usage = result.usage
            generation.input_tokens = _echoed_int(usage.get("input_tokens"))
            generation.output_tokens = _echoed_int(usage.get("output_tokens"))
            generation.total_tokens = _echoed_int(usage.get("total_tokens"))
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

    def get_image(self, image_id: int) -> Image:
        with self.sessions() as session:
            image = session.get(Image, image_id)
            if image is None:
                raise StudioError(f"There is no image {image_id} in the gallery.", "not_found")
            return image

    def lineage(self, image_id: int, max_steps: int = 1000) -> "Lineage":
        """The edits that led to an image (up to its original generations) and the edits made from it
        (and from those), each as a link from gallery images to the images an edit made."""
        self.get_image(image_id)
        with self.sessions() as session:
            ancestors = self._links_up(session, {image_id}, max_steps)
            descendants = self._links_down(session, {image_id}, max_steps)
        return Lineage(image_id, ancestors, descendants)

    def generations_with_images(self, image_ids: set[int]) -> list[Generation]:
        """The generations that made any of these images, oldest first, with their images loaded."""
        with self.sessions() as session:
            query = (
                select(Generation)
                .options(selectinload(Generation.images))
                .where(Generation.id.in_(select(Image.generation_id).where(Image.id.in_(image_ids))))
                .order_by(Generation.created_at, Generation.id)
            )
            return list(session.scalars(query))

    def _links(self, session: Session, generation_ids: set[int]) -> list["LineageLink"]:
        if not generation_ids:
            return []
        sources: dict[int, list[int]] = {g: [] for g in generation_ids}
        for generation_id, source_id in session.execute(
            select(GenerationSource.generation_id, GenerationSource.image_id)
            .where(GenerationSource.generation_id.in_(generation_ids), GenerationSource.role == "image", GenerationSource.image_id.is_not(None))
            .order_by(GenerationSource.generation_id, GenerationSource.position)
        ):
            sources[generation_id].append(source_id)
        made: dict[int, list[int]] = {g: [] for g in generation_ids}
        for generation_id, made_id in session.execute(
            select(Image.generation_id, Image.id).where(Image.generation_id.in_(generation_ids)).order_by(Image.generation_id, Image.batch_index)
        ):
            made[generation_id].append(made_id)
        return [LineageLink(g, tuple(sources[g]), tuple(made[g])) for g in sorted(generation_ids)]

    def _links_up(self, session: Session, frontier: set[int], max_steps: int) -> list["LineageLink"]:
        seen_generations: set[int] = set()
        links: list[LineageLink] = []
        while frontier and len(seen_generations) < max_steps:
            generation_ids = set(session.scalars(select(Image.generation_id).where(Image.id.in_(frontier)))) - seen_generations
            seen_generations |= generation_ids
            step = [link for link in self._links(session, generation_ids) if link.source_image_ids]
            links = step + links  # oldest first
            frontier = {source for link in step for source in link.source_image_ids}
        return links

    def _links_down(self, session: Session, frontier: set[int], max_steps: int) -> list["LineageLink"]:
        seen_generations: set[int] = set()
        links: list[LineageLink] = []
        while frontier and len(seen_generations) < max_steps:
            generation_ids = set(session.scalars(
                select(GenerationSource.generation_id).where(GenerationSource.image_id.in_(frontier), GenerationSource.role == "image")
            )) - seen_generations
            seen_generations |= generation_ids
            step = self._links(session, generation_ids)
            links += step
            frontier = {made for link in step for made in link.image_ids}
        return links


@dataclass(frozen=True)
class LineageLink:
    """One edit: the gallery images it took (uploaded files are not listed) and the images it made."""

    generation_id: int
    source_image_ids: tuple[int, ...]
    image_ids: tuple[int, ...]


@dataclass(frozen=True)
class Lineage:
    image_id: int
    ancestors: list[LineageLink]  # oldest first; the last one made `image_id` (empty for an original)
    descendants: list[LineageLink]  # edits of this image, then edits of those, oldest generation first

    @property
    def image_ids(self) -> set[int]:
        """Every image in this lineage, the image itself included: what a gallery filter shows."""
        ids = {self.image_id}
        for link in (*self.ancestors, *self.descendants):
            ids.update(link.source_image_ids, link.image_ids)
        return ids

    @property
    def generation_ids(self) -> set[int]:
        return {link.generation_id for link in (*self.ancestors, *self.descendants)}

    @property
    def chain(self) -> list[int]:
        """The edited image at each step, from the original to this image, following each edit's first
        (edited) source: [original, ..., image_id]. Just [image_id] for an original."""
        made_by = {made: link for link in self.ancestors for made in link.image_ids}
        chain = [self.image_id]
        while chain[-1] in made_by and made_by[chain[-1]].source_image_ids and len(chain) <= len(self.ancestors):
            chain.append(made_by[chain[-1]].source_image_ids[0])
        return chain[::-1]
