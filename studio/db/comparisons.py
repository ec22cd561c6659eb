"""The gallery's statements for comparisons and spend totals (mixed into `GenerationRecords`)."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import ARRAY, BigInteger, Text, and_, case, cast, func, literal, not_, or_, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from studio.core.errors import StudioError
from studio.db.models import CompareCell, CompareGroup, Generation, Image
from studio.core.pricing import MAX_TOKENS, SpendRow, Usage


class ComparisonRecords:
    sessions: sessionmaker[Session]

    def create_compare_group(
        self, prompt: str, model: str, axis: str | None, request: dict[str, Any], cells: Sequence[tuple[int, str, str | None]]
    ) -> tuple[int, dict[int, int]]:
        """Record the grid before any request goes out; returns the group id and each position's cell id."""
        with self.sessions.begin() as session:
            group = CompareGroup(prompt=prompt, model=model, axis=axis, request=request)
            group.cells = [CompareCell(position=p, quality=q, axis_value=v) for p, q, v in cells]
            session.add(group)
            session.flush()
            return group.id, {cell.position: cell.id for cell in group.cells}

    def link_compare_cell(self, cell_id: int, generation_id: int) -> None:
        with self.sessions.begin() as session:
            session.execute(update(CompareCell).where(CompareCell.id == cell_id).values(generation_id=generation_id))

    def compare_group(self, group_id: int) -> CompareGroup:
        """A comparison with its cells, their generations and images loaded."""
        with self.sessions() as session:
            group = session.scalar(
                select(CompareGroup)
                .options(selectinload(CompareGroup.cells).selectinload(CompareCell.generation).selectinload(Generation.images))
                .where(CompareGroup.id == group_id)
            )
            if group is None:
                raise StudioError(f"There is no comparison {group_id} in the gallery.", "not_found")
            return group

    def recent_compare_groups(self, limit: int = 50) -> list[CompareGroup]:
        with self.sessions() as session:
            query = (
                select(CompareGroup)
                .options(selectinload(CompareGroup.cells))
                .order_by(CompareGroup.created_at.desc(), CompareGroup.id.desc())
                .limit(limit)
            )
            return list(session.scalars(query))

    def set_compare_winner(self, group_id: int, position: int | None) -> None:
        with self.sessions.begin() as session:
            found = session.execute(
                update(CompareGroup).where(CompareGroup.id == group_id).values(winner_position=position)
            ).rowcount
            if not found:
                raise StudioError(f"There is no comparison {group_id} in the gallery.", "not_found")

    def spend_rollup(self, where: Sequence[Any] = ()) -> list[SpendRow]:
        """Succeeded generations summed per UTC day, model, quality, size and usage kind: a few rows even
        for 100,000 generations, so totals can be priced in Python with the current (editable) table.
        `where` narrows the generations (the Insights page's filters).

        Usage kind is "tokens" (every count a sane whole number), "none" (no counts: priced per image)
        or "nonsense" (an old or imported row holding strings, floats, negative or absurd counts): those
        are counted but never priced, and their values never reach a SUM or a CAST that could fail."""
        image_counts = (
            select(Image.generation_id, func.count(Image.id).label("images")).group_by(Image.generation_id).subquery()
        )
        day = func.date(Generation.created_at)
        quality = func.coalesce(Generation.response_quality, Generation.quality)
        size = func.coalesce(Generation.response_size, Generation.size)
        image_tokens, image_ok = self._count("input_tokens_details", "image_tokens")
        text_tokens, text_ok = self._count("input_tokens_details", "text_tokens")
        counts_ok = [self._count(name)[1] for name in ("input_tokens", "output_tokens", "total_tokens")]
        kind = case(
            (or_(not_(and_(self._object_or_null(), image_ok, text_ok, *counts_ok)),
                 not_(func.coalesce(Generation.input_tokens.between(0, MAX_TOKENS), True)),
                 not_(func.coalesce(Generation.output_tokens.between(0, MAX_TOKENS), True))), "nonsense"),
            (or_(Generation.input_tokens.is_(None), Generation.output_tokens.is_(None)), "none"),
            (and_(func.coalesce(image_tokens, 0) <= Generation.input_tokens,
                  func.coalesce(text_tokens, 0) <= Generation.input_tokens), "tokens"),
            else_="nonsense",  # a detail larger than the whole input
        ).label("kind")
        tokens = kind == "tokens"
        image_sum = case((tokens, func.coalesce(image_tokens, 0)), else_=0)
        text_sum = case((tokens, func.coalesce(text_tokens, Generation.input_tokens - func.coalesce(image_tokens, 0))), else_=0)
        output_sum = case((tokens, Generation.output_tokens), else_=0)
        query = (
            select(
                day, Generation.model, quality, size, kind,
                func.count(Generation.id), func.sum(func.coalesce(image_counts.c.images, 0)),
                func.sum(text_sum), func.sum(image_sum), func.sum(output_sum),
            )
            .outerjoin(image_counts, image_counts.c.generation_id == Generation.id)
            .where(Generation.status == "succeeded", *where)
            .group_by(day, Generation.model, quality, size, kind)
        )
        with self.sessions() as session:
            return [
                SpendRow(
                    day=str(row[0]), model=row[1], quality=row[2], size=row[3], generations=int(row[5]), images=int(row[6] or 0),
                    usage=Usage(int(row[7] or 0), int(row[8] or 0), int(row[9] or 0)) if row[4] == "tokens" else None,
                    unknown=row[4] == "nonsense",
                )
                for row in session.execute(query)
            ]

    def _postgres(self) -> bool:
        return self.sessions.kw["bind"].dialect.name == "postgresql"

    def _object_or_null(self) -> Any:
        """The stored usage is an object (or absent): a string or a list there is nonsense."""
        typeof = func.json_typeof(Generation.usage) if self._postgres() else func.json_type(Generation.usage)
        return func.coalesce(typeof.in_(("object", "null")), True)

    def _count(self, *keys: str) -> tuple[Any, Any]:
        """(the count, whether it is absent or sane) for `usage.<keys>`, read without a cast that could
        fail: on SQLite json_type says it is an integer, on PostgreSQL it is a JSON number whose text is
        only digits."""
        if self._postgres():
            path = cast(literal("{" + ",".join(keys) + "}"), ARRAY(Text))
            raw = Generation.usage.op("#>>")(path)
            typeof = func.json_typeof(Generation.usage.op("#>")(path))
            digits = and_(typeof == "number", raw.op("~")(r"^[0-9]{1,8}$"))
            value = case((digits, cast(raw, BigInteger)))
            return value, or_(typeof.is_(None), typeof == "null", and_(digits, value <= MAX_TOKENS))
        path = "$." + ".".join(keys)
        kind = func.json_type(Generation.usage, path)
        value = case((kind == "integer", func.json_extract(Generation.usage, path)))
        return value, or_(kind.is_(None), kind == "null", and_(kind == "integer", value.between(0, MAX_TOKENS)))
