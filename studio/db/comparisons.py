"""The gallery's statements for comparisons and spend totals (mixed into `Gallery`, so all SQL stays behind it)."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from studio.core.errors import StudioError
from studio.db.models import CompareCell, CompareGroup, Generation, Image
from studio.core.pricing import SpendRow, Usage


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

    def spend_rollup(self) -> list[SpendRow]:
        """Succeeded generations summed per UTC day, model, quality, size and usage presence: a few rows even
        for 100,000 generations, so totals can be priced in Python with the current (editable) table."""
        image_counts = (
            select(Image.generation_id, func.count(Image.id).label("images")).group_by(Image.generation_id).subquery()
        )
        day = func.date(Generation.created_at)
        quality = func.coalesce(Generation.response_quality, Generation.quality)
        size = func.coalesce(Generation.response_size, Generation.size)
        has_usage = Generation.output_tokens.is_not(None) & Generation.input_tokens.is_not(None)
        image_tokens = func.coalesce(Generation.usage[("input_tokens_details", "image_tokens")].as_integer(), 0)
        text_tokens = func.coalesce(
            Generation.usage[("input_tokens_details", "text_tokens")].as_integer(), Generation.input_tokens - image_tokens
        )
        query = (
            select(
                day, Generation.model, quality, size, has_usage,
                func.count(Generation.id), func.sum(func.coalesce(image_counts.c.images, 0)),
                func.sum(text_tokens), func.sum(image_tokens), func.sum(Generation.output_tokens),
            )
            .outerjoin(image_counts, image_counts.c.generation_id == Generation.id)
            .where(Generation.status == "succeeded")
            .group_by(day, Generation.model, quality, size, has_usage)
        )
        with self.sessions() as session:
            return [
                SpendRow(
                    day=str(row[0]), model=row[1], quality=row[2], size=row[3], generations=int(row[5]), images=int(row[6] or 0),
                    usage=Usage(int(row[7] or 0), int(row[8] or 0), int(row[9] or 0)) if row[4] else None,
                )
                for row in session.execute(query)
            ]
