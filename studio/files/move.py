"""`python -m studio migrate-storage --to s3://bucket/prefix`: copy a gallery's files to another storage.

Rows keep paths relative to the storage root (`images/ab/abcd….png`) and both storages lay files out
the same way, so copying the files is the whole move: no row changes, and pointing STUDIO_STORAGE_URL at
the new place afterwards is the switch. Every file any row points to is copied (originals, thumbnails,
edit inputs): the columns are found from the models, so a table added later is covered too.

It can be stopped at any moment and run again: an object already at the target with the same size is
skipped (an S3 PUT and a local rename are atomic, so a file is there whole or not at all), and each
file is checked against its sha256 name before it is sent, so a damaged local file is reported, not copied.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable, Iterable

from sqlalchemy import Engine, String, select, union

from studio.core.config import load_settings
from studio.db.engine import get_engine, migrate
from studio.db.models import Base
from studio.files.storage import Storage, open_storage

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class StorageMove:
    source: str
    target: str
    total: int = 0
    copied: int = 0
    skipped: int = 0  # already at the target (a resumed run)
    missing: list[str] = field(default_factory=list)  # rows whose file is not in the source
    damaged: list[str] = field(default_factory=list)  # bytes that do not match their sha256 name

    @property
    def complete(self) -> bool:
        return not self.missing and not self.damaged

    def as_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "files": self.total, "copied": self.copied,
                "already_there": self.skipped, "missing": self.missing, "damaged": self.damaged,
                "complete": self.complete}


def path_columns() -> list[Any]:
    """Every column that holds a stored file's relative path (`path`, `thumbnail_path`, …)."""
    return [column for table in Base.metadata.sorted_tables for column in table.columns
            if (column.name == "path" or column.name.endswith("_path")) and isinstance(column.type, String)]


def stored_paths(engine: Engine) -> list[str]:
    query = union(*(select(column.label("path")).where(column.is_not(None)) for column in path_columns()))
    with engine.connect() as connection:
        return sorted(row.path for row in connection.execute(query))


def move_files(paths: Iterable[str], source: Storage, target: Storage, workers: int = 8,
               progress: Callable[[str, str], None] | None = None) -> StorageMove:
    report = StorageMove(source.url, target.url)
    paths = list(paths)
    report.total = len(paths)

    def one(path: str) -> str:
        size = source.size(path)  # type: ignore[attr-defined]
        if size is None:
            return "missing"
        if target.size(path) == size:  # type: ignore[attr-defined]
            return "skipped"
        data = source.read(path)
        stem = PurePosixPath(path).stem
        if _SHA256.fullmatch(stem) and hashlib.sha256(data).hexdigest() != stem:
            return "damaged"
        target.put_file(path, data)  # type: ignore[attr-defined]
        return "copied"

    # A few at a time: object storage is latency-bound, and each worker holds one file in memory.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path, result in zip(paths, pool.map(one, paths)):
            if result == "copied":
                report.copied += 1
            elif result == "skipped":
                report.skipped += 1
            elif result == "missing":
                report.missing.append(path)
            else:
                report.damaged.append(path)
            if progress:
                progress(path, result)
    return report


def add_migrate_storage_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "migrate-storage", help="copy the gallery's files to object storage (or back); safe to stop and re-run",
        description="Copies every file the gallery's rows point to from the current storage (STUDIO_STORAGE_URL, "
        "default the data folder) to --to. Then set STUDIO_STORAGE_URL to the --to value and restart.",
    )
    parser.add_argument("--to", required=True, help="s3://bucket/prefix or a folder")
    parser.add_argument("--from", dest="source", help="default: STUDIO_STORAGE_URL or the data folder")
    parser.add_argument("--workers", type=int, default=8)


def cmd_migrate_storage(args: argparse.Namespace) -> int:
    settings = load_settings()
    migrate(settings.database_url)
    source = open_storage(args.source or settings.storage_url, settings.data_dir)
    target = open_storage(args.to, settings.data_dir)
    if source.url == target.url:
        print(f"error: the gallery's files are already in {target.url}; give another --to.", file=sys.stderr)
        return 1
    paths = stored_paths(get_engine(settings.database_url))
    done = 0

    def progress(path: str, result: str) -> None:
        nonlocal done
        done += 1
        print(f"{done}/{len(paths)} {result} {path}", file=sys.stderr, flush=True)

    report = move_files(paths, source, target, max(1, min(args.workers, 32)), progress)
    print(json.dumps(report.as_json()))
    if not report.complete:
        print(f"error: {len(report.missing)} missing and {len(report.damaged)} damaged files were not copied; "
              "run `python -m studio doctor` on the old storage, then this again.", file=sys.stderr)
        return 1
    print(f"All {report.total} files are in {target.url}: set STUDIO_STORAGE_URL={target.url} and restart the studio.",
          file=sys.stderr)
    return 0
