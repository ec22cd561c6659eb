"""Prompt vectors: which generations still need theirs, storing them, and reading them back by id for the
in-memory index. Every statement on `prompt_vectors`; the vectors are opaque bytes here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import Engine, and_, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from studio.db.engine import read_only
from studio.db.models import Generation, Image, PromptVector


@dataclass(frozen=True)
class PromptTexts:
    """What a generation says in words: its prompt, then each distinct revised_prompt (in batch order)."""

    generation_id: int
    texts: list[tuple[str, str]]  # (field, text)


@dataclass(frozen=True)
class Coverage:
    indexed: int  # generations with vectors of the model
    total: int  # generations


class VectorRecords:
    def __init__(self, engine: Engine):
        self.engine = engine

    @property
    def read_only(self) -> bool:
        """The gallery was opened read-only: vectors can be searched, none can be stored."""
        return read_only(self.engine)

    def _missing(self, model: str):  # type: ignore[no-untyped-def]
        return ~exists().where(PromptVector.generation_id == Generation.id, PromptVector.model == model)

    def missing(self, model: str, limit: int, after_id: int = 0) -> list[int]:
        """Ids of generations without vectors of `model`, oldest id first, past `after_id`."""
        query = select(Generation.id).where(Generation.id > after_id, self._missing(model)).order_by(Generation.id).limit(limit)
        with self.engine.connect() as connection:
            return list(connection.scalars(query))

    def coverage(self, model: str) -> Coverage:
        with self.engine.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(Generation)) or 0
            missing = connection.scalar(select(func.count()).select_from(Generation).where(self._missing(model))) or 0
        return Coverage(total - missing, total)

    def texts(self, generation_ids: Iterable[int]) -> list[PromptTexts]:
        """The texts of these generations (those that still exist), by generation id."""
        ids = sorted(set(generation_ids))
        if not ids:
            return []
        with self.engine.connect() as connection:
            prompts = dict(connection.execute(select(Generation.id, Generation.prompt).where(Generation.id.in_(ids))).all())
            revised = connection.execute(
                select(Image.generation_id, Image.revised_prompt)
                .where(Image.generation_id.in_(ids), Image.revised_prompt.is_not(None))
                .order_by(Image.generation_id, Image.batch_index)).all()
        found = {generation_id: [("prompt", prompt)] for generation_id, prompt in prompts.items()}
        for generation_id, text in revised:
            known = found[generation_id]
            if text.strip() and all(text != seen for _, seen in known):
                known.append(("revised_prompt", text))
        return [PromptTexts(generation_id, found[generation_id]) for generation_id in sorted(found)]

    def add(self, model: str, rows: Sequence[tuple[int, int, str, bytes]]) -> int:
        """Store (generation id, ordinal, field, vector bytes) rows of `model`; a row already there (another
        process got to it first) is left as it is. Rows of a generation deleted meanwhile are skipped."""
        if not rows:
            return 0
        values = [{"generation_id": g, "model": model, "ordinal": o, "field": f, "vector": v} for g, o, f, v in rows]
        dialect = self.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        with self.engine.begin() as connection:
            alive = set(connection.scalars(select(Generation.id).where(Generation.id.in_({g for g, *_ in rows}))))
            values = [value for value in values if value["generation_id"] in alive]
            if values:
                connection.execute(insert(PromptVector).on_conflict_do_nothing(
                    index_elements=["generation_id", "model", "ordinal"]), values)
        return len(values)

    def since(self, model: str, after_id: int, limit: int = 20_000) -> list[tuple[int, int, bytes]]:
        """(row id, generation id, vector bytes) of `model` with ids above `after_id`, in id order."""
        query = (select(PromptVector.id, PromptVector.generation_id, PromptVector.vector)
                 .where(PromptVector.model == model, PromptVector.id > after_id).order_by(PromptVector.id).limit(limit))
        with self.engine.connect() as connection:
            return [(row_id, generation_id, bytes(vector)) for row_id, generation_id, vector in connection.execute(query)]

    def top_id(self, model: str) -> int:
        """The highest row id of `model` (a look-up in ix_prompt_vectors_model_id)."""
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.max(PromptVector.id)).where(PromptVector.model == model)) or 0)

    def count(self, model: str) -> int:
        """Rows of `model` (reads the whole index: the in-memory index asks only now and then)."""
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).where(PromptVector.model == model)) or 0)

    def generation_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(Generation)) or 0)

    def alive(self, generation_ids: Iterable[int]) -> set[int]:
        """Which of these generations still exist."""
        ids = list(generation_ids)
        with self.engine.connect() as connection:
            return set(connection.scalars(select(Generation.id).where(Generation.id.in_(ids)))) if ids else set()

    def of(self, model: str, generation_id: int) -> list[bytes]:
        query = select(PromptVector.vector).where(and_(PromptVector.generation_id == generation_id, PromptVector.model == model))
        with self.engine.connect() as connection:
            return [bytes(vector) for vector in connection.scalars(query.order_by(PromptVector.ordinal))]

    def size_bytes(self, model: str) -> int:
        """Bytes of vector data stored (the table's own overhead aside)."""
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.coalesce(func.sum(func.length(PromptVector.vector)), 0))
                                         .where(PromptVector.model == model)) or 0)
