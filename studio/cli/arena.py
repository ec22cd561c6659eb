"""`python -m studio arena-stats`: the blind arena's win rates per tier (overall, head to head, per
collection) with their 95% intervals, votes, cost per win and win rate per dollar, as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from studio.core.config import load_settings
from studio.services.arena import arena_stats
from studio.services.studio import Studio


def add_arena_parser(commands: Any) -> None:
    commands.add_parser("arena-stats", help="win rates of the quality tiers from the blind arena's votes; prints JSON")


def cmd_arena_stats(_args: argparse.Namespace) -> int:
    print(json.dumps(arena_stats(Studio.open(load_settings())).as_json()))
    return 0
