"""The blind tier arena's statements: the cells of a comparison a pair can be drawn from, votes, and the
win/tie/loss counts per tier and opponent tier (overall and per collection), summed in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, and_, case, func, literal, select, union_all
from sqlalchemy.orm import aliased, sessionmaker

from studio.core.errors import StudioError
from studio.db.insights import InsightFilter
from studio.db.models import ArenaVote, Collection, CollectionImage, CompareCell, CompareGroup, Generation, Image

CHOICES = ("left", "right", "tie")


@dataclass(frozen=True)
class ArenaCell:
    """One succeeded cell of a comparison, with its first image: one side of a possible pair."""

    group_id: int
    prompt: str
    axis: str | None
    axis_value: str | None
    model: str
    quality: str
    size: str | None
    image_id: int
    path: str


@dataclass(frozen=True)
class TierTally:
    """Votes one tier (model, quality, size) took part in against one opponent tier."""

    collection: str | None  # None: every vote
    model: str
    quality: str
    size: str | None
    opponent_model: str
    opponent_quality: str
    wins: int
    ties: int
    losses: int


class ArenaRecords:
    def __init__(self, engine: Engine):
        self.engine = engine

    def cells(self, group_id: int | None) -> list[ArenaCell]:
        """The succeeded cells with an image of one comparison; with None, of a comparison picked at random
        among those with two tiers or more (the database picks, so no list of every comparison is read)."""
        first = (
            select(Image.generation_id, func.min(Image.batch_index).label("batch")).group_by(Image.generation_id).subquery()
        )
        quality = func.coalesce(Generation.response_quality, Generation.quality, CompareCell.quality)
        base = (
            select(CompareGroup.id, CompareGroup.prompt, CompareGroup.axis, CompareCell.axis_value, Generation.model, quality,
                   func.coalesce(Generation.response_size, Generation.size), Image.id, Image.path)
            .join(CompareCell, CompareCell.group_id == CompareGroup.id)
            .join(Generation, Generation.id == CompareCell.generation_id)
            .join(first, first.c.generation_id == Generation.id)
            .join(Image, and_(Image.generation_id == Generation.id, Image.batch_index == first.c.batch))
            .where(Generation.status == "succeeded")
        )
        with self.engine.connect() as connection:
            if group_id is None:
                tiers = func.count(func.distinct(Generation.model + literal(" ") + quality))
                candidates = (
                    select(CompareGroup.id)
                    .join(CompareCell, CompareCell.group_id == CompareGroup.id)
                    .join(Generation, Generation.id == CompareCell.generation_id)
                    .join(Image, Image.generation_id == Generation.id)
                    .where(Generation.status == "succeeded")
                    .group_by(CompareGroup.id)
                    .having(tiers >= 2)
                    .order_by(func.random())
                    .limit(1)
                )
                group_id = connection.scalar(candidates)
                if group_id is None:
                    return []
            elif connection.scalar(select(CompareGroup.id).where(CompareGroup.id == group_id)) is None:
                raise StudioError(f"There is no comparison {group_id} in the gallery.", "not_found")
            rows = connection.execute(base.where(CompareGroup.id == group_id).order_by(CompareCell.position))
            return [ArenaCell(*row) for row in rows]

    def add_vote(self, group_id: int | None, choice: str, left: ArenaCell, right: ArenaCell) -> int:
        if choice not in CHOICES:
            raise StudioError(f"A vote is one of {', '.join(CHOICES)}, not {choice!r}.", "invalid")
        vote = ArenaVote(
            group_id=group_id, choice=choice,
            left_image_id=left.image_id, left_model=left.model, left_quality=left.quality, left_size=left.size,
            right_image_id=right.image_id, right_model=right.model, right_quality=right.quality, right_size=right.size,
        )
        with sessionmaker(self.engine).begin() as session:
            session.add(vote)
            session.flush()
            return vote.id

    def vote_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count(ArenaVote.id))) or 0)

    def tallies(self, f: InsightFilter, by_collection: bool = False) -> list[TierTally]:
        """Wins, ties and losses per tier and opponent tier. The date range bounds the votes' time; the model
        filter keeps the tiers of that model; the collection filter (and `by_collection`) counts a side
        when its image is in the collection."""
        sides = []
        for mine, theirs, win, loss in (("left", "right", "left", "right"), ("right", "left", "right", "left")):
            col = lambda side, name: getattr(ArenaVote, f"{side}_{name}")  # noqa: E731
            sides.append(select(
                col(mine, "image_id").label("image_id"), col(mine, "model").label("model"), col(mine, "quality").label("quality"),
                col(mine, "size").label("size"), col(theirs, "model").label("opponent_model"),
                col(theirs, "quality").label("opponent_quality"), ArenaVote.created_at.label("created_at"),
                case((ArenaVote.choice == win, 1), else_=0).label("win"),
                case((ArenaVote.choice == "tie", 1), else_=0).label("tie"),
                case((ArenaVote.choice == loss, 1), else_=0).label("loss"),
            ))
        side = union_all(*sides).subquery()
        conditions: list[Any] = []
        if f.date_from is not None:
            conditions.append(side.c.created_at >= datetime.combine(f.date_from, time(), timezone.utc))
        if f.date_to is not None:
            conditions.append(side.c.created_at < datetime.combine(f.date_to + timedelta(days=1), time(), timezone.utc))
        if f.model is not None:
            conditions.append(side.c.model == f.model)
        keys = [side.c.model, side.c.quality, side.c.size, side.c.opponent_model, side.c.opponent_quality]
        label: Any = Collection.name if by_collection else literal(None)
        sums = (func.sum(side.c.win), func.sum(side.c.tie), func.sum(side.c.loss))
        query = select(label, *keys, *sums).select_from(side)
        group = [Collection.name, *keys] if by_collection else keys
        if by_collection or f.collection_id is not None:
            link = aliased(CollectionImage)
            query = query.join(link, link.image_id == side.c.image_id).join(Collection, Collection.id == link.collection_id)
            if f.collection_id is not None:
                conditions.append(link.collection_id == f.collection_id)
        query = query.where(*conditions).group_by(*group).order_by(*group)
        with self.engine.connect() as connection:
            return [TierTally(c, m, q, s, om, oq, int(w or 0), int(t or 0), int(l or 0))
                    for c, m, q, s, om, oq, w, t, l in connection.execute(query)]

