"""The blind tier arena: two images of one prompt from different tiers, shown in random order without their
settings; a vote (left, right or tie) is stored, and win rates per tier come back with a 95% interval, the
votes behind them, the cost per win and the win rate per dollar.

A tier is a model and a quality. Two cells of a comparison make a pair when their tiers differ and, if the
comparison's second axis is not the model, they share its value (so the tier is the only difference)."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from studio.core.pricing import PriceTable, load_prices
from studio.db.arena import CHOICES, ArenaCell, ArenaRecords, TierTally
from studio.db.insights import InsightFilter
from studio.services.studio import Studio

Z95 = 1.959964  # the normal quantile of a two-sided 95% interval


@dataclass(frozen=True)
class ArenaSide:
    cell: ArenaCell
    src: str  # what a page loads: a local path or a presigned URL


@dataclass(frozen=True)
class ArenaPair:
    group_id: int
    prompt: str
    left: ArenaSide
    right: ArenaSide


@dataclass(frozen=True)
class TierStats:
    collection: str | None
    model: str
    quality: str
    opponent: str | None  # "model quality" of the other tier, or None: against every tier
    votes: int
    wins: int
    ties: int
    losses: int
    usd_per_image: float | None  # what this tier's images in these votes cost on average; None: no price known

    @property
    def tier(self) -> str:
        return f"{self.model} {self.quality}"

    @property
    def win_rate(self) -> float:
        """A tie counts half a win."""
        return (self.wins + self.ties / 2) / self.votes if self.votes else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson score interval at 95%: stays inside 0..1 and says something honest about a handful of votes."""
        n = self.votes
        if not n:
            return 0.0, 1.0
        p, z2 = self.win_rate, Z95 * Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    @property
    def cost_per_win(self) -> float | None:
        """USD spent on this tier's images per win (ties half): price per image / win rate."""
        won = self.wins + self.ties / 2
        return None if self.usd_per_image is None or not won else self.usd_per_image * self.votes / won

    @property
    def win_rate_per_usd(self) -> float | None:
        return None if not self.usd_per_image else self.win_rate / self.usd_per_image

    def as_row(self) -> dict[str, Any]:
        low, high = self.interval
        row = asdict(self)
        row.update(tier=self.tier, win_rate=self.win_rate, ci95_low=low, ci95_high=high, cost_per_win=self.cost_per_win,
                   win_rate_per_usd=self.win_rate_per_usd)
        return row


@dataclass
class ArenaStats:
    overall: list[TierStats] = field(default_factory=list)  # per tier, against every other tier
    head_to_head: list[TierStats] = field(default_factory=list)  # per tier and opponent tier
    by_collection: list[TierStats] = field(default_factory=list)  # per collection and tier

    @property
    def votes(self) -> int:
        return sum(s.votes for s in self.overall) // 2  # every vote has two sides

    def as_json(self) -> dict[str, Any]:
        return {"votes": self.votes, "overall": [s.as_row() for s in self.overall],
                "head_to_head": [s.as_row() for s in self.head_to_head],
                "by_collection": [s.as_row() for s in self.by_collection]}


def candidate_pairs(cells: list[ArenaCell]) -> list[tuple[ArenaCell, ArenaCell]]:
    pairs = []
    for a, b in itertools.combinations(cells, 2):
        if (a.model, a.quality) == (b.model, b.quality):
            continue
        if a.axis not in (None, "model") and a.axis_value != b.axis_value:
            continue  # the size (or background, or format) would differ too: not a fair test of the tier
        pairs.append((a, b))
    return pairs


def next_pair(studio: Studio, group_id: int | None = None, rng: random.Random | None = None) -> ArenaPair | None:
    """A pair from this comparison (or one picked at random), in random order; None when none has two tiers."""
    rng = rng or random.Random()
    cells = ArenaRecords(studio.records.engine).cells(group_id)
    pairs = candidate_pairs(cells)
    if not pairs:
        return None
    first, second = rng.choice(pairs)
    if rng.random() < 0.5:
        first, second = second, first
    side = lambda cell: ArenaSide(cell, studio.storage.source(cell.path))  # noqa: E731
    return ArenaPair(first.group_id, first.prompt, side(first), side(second))


def vote(studio: Studio, pair: ArenaPair, choice: str) -> int:
    """Store a vote ("left", "right" as shown, or "tie"); returns its id."""
    studio.records.check_writable()
    return ArenaRecords(studio.records.engine).add_vote(pair.group_id, choice, pair.left.cell, pair.right.cell)


def _combine(tallies: Iterable[TierTally], prices: PriceTable, key: Any) -> list[TierStats]:
    """Sum tallies by `key(tally) -> (collection, model, quality, opponent)`, pricing each side's images."""
    sums: dict[tuple, list[Any]] = {}
    for t in tallies:
        total = sums.setdefault(key(t), [0, 0, 0, 0.0, True])
        votes = t.wins + t.ties + t.losses
        price = prices.per_image(t.model, t.quality, t.size)
        total[0] += t.wins
        total[1] += t.ties
        total[2] += t.losses
        if price is None:
            total[4] = False  # one size without a price: the tier's cost is unknown, never a partial sum
        else:
            total[3] += price * votes
    stats = []
    for (collection, model, quality, opponent), (wins, ties, losses, usd, priced) in sorted(sums.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        votes = wins + ties + losses
        stats.append(TierStats(collection, model, quality, opponent, votes, wins, ties, losses, usd / votes if priced and votes else None))
    return stats


def arena_stats(studio: Studio, f: InsightFilter | None = None, prices: PriceTable | None = None) -> ArenaStats:
    f = f or InsightFilter()
    prices = prices or load_prices(studio.settings.data_dir)
    records = ArenaRecords(studio.records.engine)
    tallies = records.tallies(f)
    return ArenaStats(
        overall=_combine(tallies, prices, lambda t: (None, t.model, t.quality, None)),
        head_to_head=_combine(tallies, prices, lambda t: (None, t.model, t.quality, f"{t.opponent_model} {t.opponent_quality}")),
        by_collection=_combine(records.tallies(f, by_collection=True), prices, lambda t: (t.collection, t.model, t.quality, None)),
    )


__all__ = ["CHOICES", "ArenaPair", "ArenaSide", "ArenaStats", "TierStats", "arena_stats", "candidate_pairs", "next_pair", "vote"]
