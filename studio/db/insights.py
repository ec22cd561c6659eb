"""The Insights page's aggregates: spend rows, latency percentiles, images per day, failures by error code and
tokens per image. Each is one GROUP BY in the database that reads the same on SQLite and PostgreSQL and hands
back a few rows whatever the gallery's size (100,000 generations: see bench/insights.py).

Percentiles: PostgreSQL has percentile_cont, SQLite has not, so both number each group's latencies with
ROW_NUMBER() and pick the two rows around the wanted rank; Python then interpolates between them the way
percentile_cont does (rank p·(n−1), linear), so the two databases give the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, exists, func, literal_column, select
from sqlalchemy.orm import sessionmaker

from studio.core.pricing import MAX_TOKENS, SpendRow
from studio.db.comparisons import ComparisonRecords
from studio.db.models import Collection, CollectionImage, Generation, Image

# (name, numerator, denominator): the ranks the latency chart labels.
PERCENTILES = (("p25", 1, 4), ("median", 1, 2), ("p75", 3, 4), ("p90", 9, 10))
# 'auto' is written into the SQL, not bound: the latency index (models.py, migration 0007) is on these very
# expressions, and a planner matches an expression index only against the same expression, constants included.
QUALITY = func.coalesce(Generation.response_quality, Generation.quality, literal_column("'auto'"))
SIZE = func.coalesce(Generation.response_size, Generation.size, literal_column("'auto'"))
DAY = func.date(Generation.created_at)



@dataclass(frozen=True)
class InsightFilter:
    """What the Insights page looks at: every field None is everything."""

    date_from: date | None = None
    date_to: date | None = None  # inclusive
    model: str | None = None
    provider: str | None = None
    collection_id: int | None = None  # generations with an image in this collection

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.date_from is not None:
            found.append(Generation.created_at >= datetime.combine(self.date_from, time(), timezone.utc))
        if self.date_to is not None:
            found.append(Generation.created_at < datetime.combine(self.date_to + timedelta(days=1), time(), timezone.utc))
        if self.model is not None:
            found.append(Generation.model == self.model)
        if self.provider is not None:
            found.append(Generation.provider == self.provider)
        if self.collection_id is not None:
            found.append(exists().where(Image.generation_id == Generation.id, CollectionImage.image_id == Image.id,
                                        CollectionImage.collection_id == self.collection_id))
        return found


@dataclass(frozen=True)
class LatencyRow:
    """Seconds per succeeded request of one model × quality × size."""

    model: str
    quality: str
    size: str
    requests: int
    low: float
    p25: float
    median: float
    p75: float
    p90: float
    high: float
    mean: float


@dataclass(frozen=True)
class DayImages:
    day: str
    model: str
    requests: int
    images: int


@dataclass(frozen=True)
class FailureRow:
    code: str
    failures: int
    requests: int  # every finished request (succeeded or failed) the filter holds

    @property
    def rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class TokenRow:
    """Succeeded requests of one model × quality × size whose usage came back as sane counts."""

    model: str
    quality: str
    size: str
    requests: int
    images: int
    input_tokens: int
    output_tokens: int

    @property
    def output_per_image(self) -> float:
        return self.output_tokens / self.images if self.images else 0.0

    @property
    def input_per_image(self) -> float:
        return self.input_tokens / self.images if self.images else 0.0


def _interpolate(low: float | None, high: float | None, count: int, numerator: int, denominator: int) -> float:
    """percentile_cont between the rows at ranks floor and ceil of p·(n−1)."""
    if low is None:
        return 0.0
    fraction = (numerator * (count - 1)) % denominator / denominator
    return float(low) + (float(high if high is not None else low) - float(low)) * fraction


class InsightRecords:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._spend = ComparisonRecords()
        self._spend.sessions = sessionmaker(engine)  # its spend rollup, with the page's filters added

    def spend_rows(self, f: InsightFilter) -> list[SpendRow]:
        """Succeeded generations per UTC day, model, quality, size and usage kind, to be priced."""
        return self._spend.spend_rollup(f.conditions())

    def latency(self, f: InsightFilter) -> list[LatencyRow]:
        """Two passes in the order of the latency index (status, model, quality, size, latency), neither
        sorting: one GROUP BY for each group's count, min, max and mean, and one ranking that keeps only
        the few rows at the ranks the percentiles need (eight per group), so nothing else is grouped."""
        keys = (Generation.model, QUALITY, SIZE)
        # The latency index is partial (succeeded rows with a time); written as literals so the planner can
        # tell this query is inside it.
        where = (Generation.status == literal_column("'succeeded'"), Generation.latency_s.is_not(None), *f.conditions())
        stats = (
            select(*keys, func.count(Generation.latency_s), func.min(Generation.latency_s), func.max(Generation.latency_s),
                   func.avg(Generation.latency_s))
            .where(*where).group_by(*keys).order_by(*keys)
        )
        # One window (partition, order and frame alike) for the rank and the group's size: one pass.
        ranked = (
            select(
                Generation.model.label("model"), QUALITY.label("quality"), SIZE.label("size"), Generation.latency_s.label("latency"),
                func.row_number().over(partition_by=keys, order_by=Generation.latency_s).label("rank"),
                func.count().over(partition_by=keys, order_by=Generation.latency_s, rows=(None, None)).label("n"),
            )
            .where(*where)
            .subquery()
        )
        wanted: list[Any] = []
        for _, numerator, denominator in PERCENTILES:
            below = 1 + (numerator * (ranked.c.n - 1)) // denominator
            wanted += [below, below + 1]  # the rank at or below p·(n−1), and the next one to interpolate towards
        picks = (select(ranked.c.model, ranked.c.quality, ranked.c.size, ranked.c.n, ranked.c.rank, ranked.c.latency)
                 .where(ranked.c.rank.in_(wanted)))
        rows = []
        with self.engine.connect() as connection:
            at: dict[tuple[str, str, str], dict[int, float]] = {}
            sizes: dict[tuple[str, str, str], int] = {}  # n as the ranking saw it, should a row land between the two reads
            for model, quality, size, n, rank, latency in connection.execute(picks):
                at.setdefault((model, quality, size), {})[int(rank)] = float(latency)
                sizes[(model, quality, size)] = int(n)
            for model, quality, size, count, low, high, mean in connection.execute(stats):
                n = sizes.get((model, quality, size), int(count))
                ranks = at.get((model, quality, size), {})
                values = {}
                for name, numerator, denominator in PERCENTILES:
                    below = 1 + numerator * (n - 1) // denominator
                    values[name] = _interpolate(ranks.get(below), ranks.get(below + 1), n, numerator, denominator)
                rows.append(LatencyRow(model, quality, size, n, float(low), values["p25"], values["median"], values["p75"],
                                       values["p90"], float(high), float(mean)))
        return rows

    def images_per_day(self, f: InsightFilter) -> list[DayImages]:
        counts = select(Image.generation_id, func.count(Image.id).label("images")).group_by(Image.generation_id).subquery()
        query = (
            select(DAY, Generation.model, func.count(Generation.id), func.sum(func.coalesce(counts.c.images, 0)))
            .outerjoin(counts, counts.c.generation_id == Generation.id)
            .where(Generation.status == "succeeded", *f.conditions())
            .group_by(DAY, Generation.model)
            .order_by(DAY, Generation.model)
        )
        with self.engine.connect() as connection:
            return [DayImages(str(day), model, int(requests), int(images or 0)) for day, model, requests, images in connection.execute(query)]

    def failures(self, f: InsightFilter) -> list[FailureRow]:
        """Failed requests per error code, each with the number of finished requests it is a share of."""
        finished = select(func.count(Generation.id)).where(Generation.status.in_(("succeeded", "failed")), *f.conditions())
        code = func.coalesce(Generation.error_code, "unknown")
        query = (
            select(code, func.count(Generation.id))
            .where(Generation.status == "failed", *f.conditions())
            .group_by(code)
            .order_by(func.count(Generation.id).desc(), code)
        )
        with self.engine.connect() as connection:
            total = int(connection.scalar(finished) or 0)
            return [FailureRow(str(c), int(n), total) for c, n in connection.execute(query)]

    def tokens(self, f: InsightFilter) -> list[TokenRow]:
        counts = select(Image.generation_id, func.count(Image.id).label("images")).group_by(Image.generation_id).subquery()
        sane = and_(Generation.input_tokens.between(0, MAX_TOKENS), Generation.output_tokens.between(0, MAX_TOKENS))
        query = (
            select(Generation.model, QUALITY, SIZE, func.count(Generation.id), func.sum(counts.c.images),
                   func.sum(Generation.input_tokens), func.sum(Generation.output_tokens))
            .join(counts, counts.c.generation_id == Generation.id)
            .where(Generation.status == "succeeded", sane, *f.conditions())
            .group_by(Generation.model, QUALITY, SIZE)
            .order_by(Generation.model, QUALITY, SIZE)
        )
        with self.engine.connect() as connection:
            return [TokenRow(m, q, s, int(n), int(i or 0), int(a or 0), int(b or 0)) for m, q, s, n, i, a, b in connection.execute(query)]

    def choices(self) -> tuple[list[str], list[str], list[tuple[int, str]]]:
        """The models, providers and collections the filters offer."""
        with self.engine.connect() as connection:
            models = sorted(v for v in connection.scalars(select(Generation.model).distinct()) if v)
            providers = sorted(v for v in connection.scalars(select(Generation.provider).distinct()) if v)
            collections = [(int(i), str(n)) for i, n in connection.execute(select(Collection.id, Collection.name).order_by(Collection.name))]
        return models, providers, collections

