"""Saved comparisons, re-opened from the gallery with their cells' images and costs, a winner marked; and the
spend totals (per day and overall) that the pages and `python -m studio spend` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from studio.core.errors import StudioError
from studio.core.pricing import Cost, PriceTable, SpendRow, SpendTotals, generation_cost, load_prices, spend_totals
from studio.db.models import CompareGroup
from studio.services.compare import CellResult
from studio.services.studio import Outcome, Studio


@dataclass(frozen=True)
class Comparison:
    """A saved comparison, re-opened from the gallery."""

    id: int
    created_at: datetime
    prompt: str
    model: str
    axis: str | None
    request: dict[str, Any]
    winner_position: int | None
    cells: list[CellResult]

    @property
    def qualities(self) -> list[str]:
        return list(dict.fromkeys(cell.quality for cell in self.cells))

    @property
    def columns(self) -> list[str | None]:
        return list(dict.fromkeys(cell.axis_value for cell in self.cells))

    def cell(self, position: int) -> CellResult | None:
        return next((c for c in self.cells if c.position == position), None)

    @property
    def winner(self) -> CellResult | None:
        return None if self.winner_position is None else self.cell(self.winner_position)

    @property
    def done(self) -> int:
        return sum(cell.status in ("succeeded", "failed") for cell in self.cells)

    @property
    def cost_usd(self) -> float | None:
        costs = [c.cost.usd for c in self.cells if c.cost is not None]
        return sum(costs) if costs else None

    @property
    def title(self) -> str:
        shape = f"quality × {self.axis}" if self.axis else "quality"
        prompt = self.prompt if len(self.prompt) <= 60 else self.prompt[:57] + "…"
        return f"#{self.id} · {self.created_at:%Y-%m-%d %H:%M} · {shape} · {len(self.cells)} cells · {prompt}"


def _comparison(studio: Studio, group: CompareGroup, prices: PriceTable | None) -> Comparison:
    """With `prices`, the cells' generations (loaded with the group) become outcomes; without, only the layout."""
    cells = []
    for cell in group.cells:
        outcome: Outcome | None = None
        cost: Cost | None = None
        if prices is not None and cell.generation is not None:
            generation = cell.generation
            outcome = studio.outcome_of(generation)
            cost = generation_cost(prices, generation, len(outcome.images))
        cells.append(CellResult(cell.position, cell.quality, group.axis, cell.axis_value, outcome, cost))
    return Comparison(group.id, group.created_at, group.prompt, group.model, group.axis, dict(group.request), group.winner_position, cells)


def open_comparison(studio: Studio, group_id: int) -> Comparison:
    """A saved comparison with every cell's generation, images and estimated cost."""
    return _comparison(studio, studio.records.compare_group(group_id), load_prices(studio.settings.data_dir))


def recent_comparisons(studio: Studio, limit: int = 50) -> list[Comparison]:
    """Newest first, for a list (cells without their generations)."""
    return [_comparison(studio, group, None) for group in studio.records.recent_compare_groups(limit)]


def mark_winner(studio: Studio, group_id: int, position: int | None) -> None:
    """Mark one cell the winner (None clears it)."""
    if position is not None:
        group = studio.records.compare_group(group_id)
        if position not in {cell.position for cell in group.cells}:
            raise StudioError(f"Comparison {group_id} has no cell {position}.", "not_found")
    studio.records.set_compare_winner(group_id, position)


def spend(studio: Studio, rows: Sequence[SpendRow] | None = None) -> SpendTotals:
    """Estimated spend per day and overall, over every succeeded generation in the gallery. `rows`: the
    gallery's spend rollup when the page already read it (the Insights page), so it is not queried twice."""
    return spend_totals(load_prices(studio.settings.data_dir), studio.records.spend_rollup() if rows is None else rows)
