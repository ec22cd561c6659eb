"""The blind tier arena on real comparisons (the demo endpoint over HTTP, real image files): pairs of one
prompt from different tiers in random order, votes stored (ties too), win rates with their 95% interval,
cost per win and win rate per dollar, per collection, and `python -m studio arena-stats`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.db.arena import ArenaRecords
from studio.services.arena import ArenaPair, ArenaSide, arena_stats, next_pair, vote
from studio.services.compare import GridSpec, run_grid
from studio.services.gallery import GalleryService
from studio.services.studio import Studio

pytestmark = pytest.mark.usefixtures("legacy_models")  # priced with gpt-image-1's table (see conftest.py)


def grid(studio: Studio, qualities: tuple[str, ...] = ("low", "medium", "high"), axis: str | None = None, values: tuple[str, ...] = ()) -> int:
    request = ImageRequest(prompt="a lighthouse in fog", model="gpt-image-1", size=None if axis == "size" else "1024x1024")
    run, cells = run_grid(studio, GridSpec(request, qualities, axis, values))
    assert all(c.status == "succeeded" for c in cells)
    return run.group_id


def pair(studio: Studio, group_id: int, left: str, right: str) -> ArenaPair:
    cells = {c.quality: c for c in ArenaRecords(studio.records.engine).cells(group_id)}
    return ArenaPair(group_id, cells[left].prompt, ArenaSide(cells[left], ""), ArenaSide(cells[right], ""))


def test_a_pair_is_one_prompt_from_two_tiers_in_random_order(studio: Studio):
    assert next_pair(studio) is None  # no comparison yet: nothing to vote on
    group_id = grid(studio)
    seen = set()
    for seed in range(40):
        drawn = next_pair(studio, group_id, random.Random(seed))
        assert drawn is not None and drawn.group_id == group_id and drawn.prompt == "a lighthouse in fog"
        assert drawn.left.cell.quality != drawn.right.cell.quality
        assert Path(drawn.left.src).is_file() and Path(drawn.right.src).is_file()
        seen.add((drawn.left.cell.quality, drawn.right.cell.quality))
    every = {(a, b) for a in ("low", "medium", "high") for b in ("low", "medium", "high") if a != b}
    assert seen == every  # each pair of tiers, each way round
    assert next_pair(studio, None, random.Random(1)).group_id == group_id  # a comparison picked for the user


def test_pairs_of_a_grid_with_a_size_axis_differ_only_in_tier(studio: Studio):
    group_id = grid(studio, ("low", "high"), "size", ("1024x1024", "1536x1024"))
    for seed in range(20):
        drawn = next_pair(studio, group_id, random.Random(seed))
        assert drawn.left.cell.size == drawn.right.cell.size and drawn.left.cell.quality != drawn.right.cell.quality


def test_votes_are_stored_and_give_win_rates_cost_per_win_and_intervals(studio: Studio, capsys: pytest.CaptureFixture[str]):
    group_id = grid(studio)
    # medium vs high: medium wins 3, high 1, one tie; low vs high: high wins twice.
    for left, right, choice in [("medium", "high", "left")] * 2 + [("high", "medium", "right"), ("high", "medium", "left"),
                                                                    ("medium", "high", "tie"), ("low", "high", "right"), ("high", "low", "left")]:
        vote(studio, pair(studio, group_id, left, right), choice)
    with pytest.raises(StudioError, match="A vote is one of left, right, tie"):
        vote(studio, pair(studio, group_id, "low", "high"), "both")
    assert ArenaRecords(studio.records.engine).vote_count() == 7

    stats = arena_stats(studio)
    overall = {s.quality: s for s in stats.overall}
    medium, high, low = overall["medium"], overall["high"], overall["low"]
    assert (medium.votes, medium.wins, medium.ties, medium.losses, medium.win_rate) == (5, 3, 1, 1, 0.7)
    assert (high.votes, high.wins, high.ties, high.losses, high.win_rate) == (7, 3, 1, 3, 0.5)
    assert (low.votes, low.win_rate, low.cost_per_win) == (2, 0.0, None)
    assert medium.cost_per_win == pytest.approx(0.042 * 5 / 3.5) and high.cost_per_win == pytest.approx(0.167 * 7 / 3.5)
    assert medium.win_rate_per_usd == pytest.approx(0.7 / 0.042)
    assert medium.interval == pytest.approx((0.2988, 0.9274), abs=1e-4)  # Wilson, 3.5 of 5 at 95%
    assert stats.votes == 7
    head = {(s.quality, s.opponent): (s.votes, s.win_rate) for s in stats.head_to_head}
    assert head[("medium", "gpt-image-1 high")] == (5, 0.7) and head[("high", "gpt-image-1 low")] == (2, 1.0)

    cells = {c.quality: c for c in ArenaRecords(studio.records.engine).cells(group_id)}
    GalleryService(studio).add_to_collection("posters", [cells["medium"].image_id, cells["high"].image_id])
    posters = {s.quality: (s.collection, s.votes, s.win_rate) for s in arena_stats(studio).by_collection}
    assert posters == {"medium": ("posters", 5, 0.7), "high": ("posters", 7, 0.5)}

    assert main(["arena-stats"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["votes"] == 7
    row = next(r for r in printed["overall"] if r["quality"] == "medium")
    assert (row["votes"], row["win_rate"], round(row["cost_per_win"], 6), round(row["ci95_low"], 4)) == (5, 0.7, 0.06, 0.2988)
