"""The spend totals every page's sidebar shows, read once per gallery and kept fresh off the page's path.

The rollup behind them scans every succeeded generation: about 1 s at 100,000 generations and 8–11 s at
1,000,000 on SQLite. Run on every page run, it held each page (and the Gallery's scroll requests behind it)
for that long. Here one read serves every page run; a generation this process commits is added to it at
once by a read of that generation alone (a delete or an import reads everything again), and a read older
than REFRESH_S is read again on a background thread while the page shows the last totals. Spend is an estimate anyway; what
another process changes (a CLI import, a second server) shows within REFRESH_S."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from studio.core.pricing import SpendRow, SpendTotals, Usage
from studio.db.models import Generation
from studio.services.comparisons import spend
from studio.services.results import commits_so_far, committed_since
from studio.services.studio import Studio

REFRESH_S = 30.0


@dataclass
class _Rollup:
    rows: list[SpendRow]
    read_at: float
    commits: int
    refreshing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_rollups: dict[str, _Rollup] = {}
_lock = threading.Lock()


def sidebar_spend(studio: Studio) -> SpendTotals:
    """The gallery's spend totals (priced with the current table), from the kept rollup when it is current."""
    key = studio.settings.database_url
    with _lock:
        kept = _rollups.get(key)
    commits = commits_so_far()
    if kept is not None and kept.commits != commits:  # this process saved a generation since the read
        added = committed_since(kept.commits, key)
        if added is not None:
            kept.rows = merged(kept.rows, studio.records.spend_rollup([Generation.id.in_(added)]) if added else [])
            kept.commits = commits
    if kept is None or kept.commits != commits:  # first look, or something other than a commit changed
        kept = _Rollup(studio.records.spend_rollup(), time.monotonic(), commits)
        with _lock:
            _rollups[key] = kept
    elif time.monotonic() - kept.read_at > REFRESH_S:
        _refresh_soon(studio, kept)
    return spend(studio, kept.rows)


def merged(rows: list[SpendRow], more: list[SpendRow]) -> list[SpendRow]:
    """Two rollups as one: rows of the same day, model, quality, size and usage kind summed."""
    out: dict[tuple, SpendRow] = {}
    for row in [*rows, *more]:
        key = (row.day, row.model, row.quality, row.size, row.usage is None, row.unknown)
        kept = out.get(key)
        if kept is None:
            out[key] = row
            continue
        usage = None if kept.usage is None or row.usage is None else Usage(
            kept.usage.text_input + row.usage.text_input, kept.usage.image_input + row.usage.image_input,
            kept.usage.output + row.usage.output)
        out[key] = replace(kept, generations=kept.generations + row.generations, images=kept.images + row.images, usage=usage)
    return list(out.values())


def _refresh_soon(studio: Studio, kept: _Rollup) -> None:
    with kept.lock:
        if kept.refreshing:
            return
        kept.refreshing = True

    def refresh() -> None:
        try:
            kept.rows = studio.records.spend_rollup()
            kept.read_at = time.monotonic()
        finally:
            kept.refreshing = False

    threading.Thread(target=refresh, name="studio-spend", daemon=True).start()
