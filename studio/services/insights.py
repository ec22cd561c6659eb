"""What the Insights page shows: spend per day and week (stacked by model and quality), latency percentiles,
images per day, failures by error code, tokens per image and the arena's win rates, for one set of filters.

The database sums; this module prices the few summed rows with the current (editable) price table and
shapes them into plain rows that a chart and its CSV share."""

from __future__ import annotations

import concurrent.futures
import csv
import functools
import io
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Sequence

from studio.core.pricing import PriceTable, SpendRow, load_prices
from studio.db.insights import DayImages, FailureRow, InsightFilter, InsightRecords, LatencyRow, TokenRow
from studio.services.arena import ArenaStats, arena_stats
from studio.services.studio import Studio

__all__ = ["InsightFilter", "Insights", "SpendCell", "filter_choices", "insights", "to_csv", "week_of"]


@dataclass(frozen=True)
class SpendCell:
    """Estimated USD of the succeeded requests of one day, model and quality."""

    day: str
    week: str  # the Monday the ISO week starts on
    model: str
    quality: str
    usd: float
    requests: int


@dataclass
class Insights:
    spend: list[SpendCell] = field(default_factory=list)
    unpriced: int = 0  # succeeded requests whose model (or stored usage) has no price
    latency: list[LatencyRow] = field(default_factory=list)
    images: list[DayImages] = field(default_factory=list)
    failures: list[FailureRow] = field(default_factory=list)
    tokens: list[TokenRow] = field(default_factory=list)
    arena: ArenaStats = field(default_factory=ArenaStats)
    # The whole gallery's spend rollup when these filters could be answered from it (no provider or
    # collection filter): the sidebar's totals reuse it instead of running the same query again.
    gallery_spend: list[SpendRow] | None = None

    @property
    def total_usd(self) -> float:
        return sum(cell.usd for cell in self.spend)

    def spend_by_week(self) -> list[SpendCell]:
        weeks: dict[tuple[str, str, str], SpendCell] = {}
        for cell in self.spend:
            key = (cell.week, cell.model, cell.quality)
            old = weeks.get(key)
            weeks[key] = SpendCell(cell.week, cell.week, cell.model, cell.quality, cell.usd + (old.usd if old else 0.0),
                                   cell.requests + (old.requests if old else 0))
        return sorted(weeks.values(), key=lambda c: (c.week, c.model, c.quality))


def week_of(day: str) -> str:
    start = date.fromisoformat(day)
    return (start - timedelta(days=start.weekday())).isoformat()


def price_spend(prices: PriceTable, rows: Iterable[Any]) -> tuple[list[SpendCell], int]:
    """Spend rows (day × model × quality × size × usage kind) priced and summed per day, model and quality."""
    cells: dict[tuple[str, str, str], list[float]] = {}
    unpriced = 0
    for row in rows:
        cost = None if row.unknown else prices.cost(row.model, row.quality, row.size, row.images, row.usage)
        if cost is None:
            unpriced += row.generations
            continue
        day = row.day[:10]
        total = cells.setdefault((day, row.model, row.quality or "auto"), [0.0, 0])
        total[0] += cost.usd
        total[1] += row.generations
    spend = [SpendCell(day, week_of(day), model, quality, usd, int(n)) for (day, model, quality), (usd, n) in sorted(cells.items())]
    return spend, unpriced


def narrow(rows: Iterable[SpendRow], f: InsightFilter) -> list[SpendRow]:
    """The gallery's spend rows that a date and model filter keep: both are keys of the rollup (its day is
    the UTC day, as the filter's dates are), so no second query is needed for them."""
    first, last = (d.isoformat() if d else None for d in (f.date_from, f.date_to))
    return [row for row in rows if (f.model is None or row.model == f.model)
            and (first is None or row.day[:10] >= first) and (last is None or row.day[:10] <= last)]


def insights(studio: Studio, f: InsightFilter, prices: PriceTable | None = None) -> Insights:
    """Everything the Insights page shows for these filters: a handful of GROUP BY queries. The spend
    rollup is read once for the whole gallery and narrowed here when the filters allow, so the page and
    its sidebar share one read (it is the costliest query: it checks each row's stored usage)."""
    prices = prices or load_prices(studio.settings.data_dir)
    records = InsightRecords(studio.records.engine)
    shared = f.provider is None and f.collection_id is None
    # The queries are independent reads, and the database works without the GIL: side by side, the page
    # waits for about its slowest query instead of their sum (each thread takes its own pooled connection).
    pool = _readers()
    spend_rows = pool.submit(records.spend_rows, InsightFilter() if shared else f)
    latency, per_day = pool.submit(records.latency, f), pool.submit(records.images_per_day, f)
    failures, tokens = pool.submit(records.failures, f), pool.submit(records.tokens, f)
    arena = pool.submit(arena_stats, studio, f, prices)
    gallery = spend_rows.result() if shared else None
    spend, unpriced = price_spend(prices, narrow(gallery, f) if gallery is not None else spend_rows.result())
    return Insights(spend, unpriced, latency.result(), per_day.result(), failures.result(), tokens.result(),
                    arena.result(), gallery)


@functools.cache
def _readers() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="studio-insights")


def filter_choices(studio: Studio) -> tuple[list[str], list[str], list[tuple[int, str]]]:
    """(models, providers, collections) the gallery holds, for the filters."""
    return InsightRecords(studio.records.engine).choices()


def rows_of(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Dataclass rows as dicts, with their computed figures (rates, per-image counts) alongside."""
    found = []
    for item in items:
        row = asdict(item)
        for name in ("rate", "output_per_image", "input_per_image"):
            if hasattr(item, name):
                row[name] = getattr(item, name)
        found.append(row)
    return found


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """A chart's data as CSV, the columns in the rows' order."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()
