"""Prompts as the user sent them: the history (each distinct prompt, most recently sent first, with the newest
image it made) and a prompt's versions (the chain of generations its text was edited from, `prompt_parent_id`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import sessionmaker

from studio.db.models import Generation, Image

_WORD_RE = re.compile(r"\S+")
MAX_VERSIONS = 200  # a chain longer than this is shown from its newest 200 steps


@dataclass(frozen=True)
class PromptRow:
    """One distinct prompt of the history."""

    prompt: str
    generation_id: int  # the newest generation that sent it
    last_sent: datetime
    times: int  # how many generations sent it
    image_id: int | None  # the newest image it made (None: none succeeded)
    path: str | None
    thumbnail_path: str | None


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class PromptRecords:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def history(self, search: str = "", limit: int = 20) -> list[PromptRow]:
        """Distinct prompts, the most recently sent first; `search`: every word must be in the prompt (any case).
        Refused and failed requests count: a prompt the API refused is still in the history."""
        words = _WORD_RE.findall(search.replace("\x00", ""))
        condition = and_(*(Generation.prompt.ilike(_like(word), escape="\\") for word in words)) if words else None
        last = func.max(Generation.created_at).label("last_sent")
        query = (select(Generation.prompt, func.max(Generation.id), last, func.count(Generation.id))
                 .group_by(Generation.prompt).order_by(last.desc(), func.max(Generation.id).desc()).limit(limit))
        if condition is not None:
            query = query.where(condition)
        with self.sessions() as session:
            rows = session.execute(query).all()
            prompts = [row[0] for row in rows]
            newest_image = (select(Generation.prompt, func.max(Image.id)).join(Image, Image.generation_id == Generation.id)
                            .where(Generation.prompt.in_(prompts)).group_by(Generation.prompt))
            image_ids = dict(session.execute(newest_image).all()) if prompts else {}
            images = {image.id: image for image in session.scalars(select(Image).where(Image.id.in_(list(image_ids.values()))))}
        result = []
        for prompt, generation_id, last_sent, times in rows:
            image = images.get(image_ids.get(prompt))  # type: ignore[arg-type]
            result.append(PromptRow(prompt, generation_id, last_sent, times, image.id if image else None,
                                    image.path if image else None, image.thumbnail_path if image else None))
        return result

    def versions(self, generation_id: int) -> list[Generation]:
        """The prompt's versions through `generation_id`, oldest first: its parents up the chain, itself, then
        the versions made from it (following the newest child at each step). Images loaded; [] when not found."""
        with self.sessions() as session:
            start = session.get(Generation, generation_id)
            if start is None:
                return []
            chain = [start]
            seen = {start.id}
            while chain[0].prompt_parent_id is not None and len(chain) < MAX_VERSIONS:
                parent = session.get(Generation, chain[0].prompt_parent_id)
                if parent is None or parent.id in seen:  # a loop can only come from an imported gallery
                    break
                seen.add(parent.id)
                chain.insert(0, parent)
            while len(chain) < MAX_VERSIONS:
                child = session.scalar(select(Generation).where(Generation.prompt_parent_id == chain[-1].id)
                                       .order_by(Generation.id.desc()).limit(1))
                if child is None or child.id in seen:
                    break
                seen.add(child.id)
                chain.append(child)
            for generation in chain:
                generation.images  # loaded while the session is open
            return chain
