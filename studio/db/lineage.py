"""Lineage: which gallery images an edit took and which it made, walked up to the originals and down to
every edit made from an image. Walked a generation step at a time with IN queries, so a chain of 50 edits
costs 100 small queries, not one per image."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.db.models import GenerationSource, Image


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


def lineage_of(session: Session, image_id: int, max_steps: int = 1000) -> Lineage:
    return Lineage(image_id, _links_up(session, {image_id}, max_steps), _links_down(session, {image_id}, max_steps))


def _links(session: Session, generation_ids: set[int]) -> list[LineageLink]:
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


def _links_up(session: Session, frontier: set[int], max_steps: int) -> list[LineageLink]:
    seen_generations: set[int] = set()
    links: list[LineageLink] = []
    while frontier and len(seen_generations) < max_steps:
        generation_ids = set(session.scalars(select(Image.generation_id).where(Image.id.in_(frontier)))) - seen_generations
        seen_generations |= generation_ids
        step = [link for link in _links(session, generation_ids) if link.source_image_ids]
        links = step + links  # oldest first
        frontier = {source for link in step for source in link.source_image_ids}
    return links


def _links_down(session: Session, frontier: set[int], max_steps: int) -> list[LineageLink]:
    seen_generations: set[int] = set()
    links: list[LineageLink] = []
    while frontier and len(seen_generations) < max_steps:
        generation_ids = set(session.scalars(
            select(GenerationSource.generation_id).where(GenerationSource.image_id.in_(frontier), GenerationSource.role == "image")
        )) - seen_generations
        seen_generations |= generation_ids
        step = _links(session, generation_ids)
        links += step
        frontier = {made for link in step for made in link.image_ids}
    return links
