"""Copying a gallery's files to another storage (`python -m studio migrate-storage --to s3://bucket/prefix`).

Rows keep paths relative to the storage root (`images/ab/abcd….png`) and both storages lay files out
the same way, so copying the files is the whole move: no row changes, and pointing STUDIO_STORAGE_URL at
the new place afterwards is the switch. Every file any row points to is copied (originals, thumbnails,
edit inputs): the columns are found from the models, so a table added later is covered too.

It can be stopped at any moment and run again: an object already at the target with the same size is
skipped (an S3 PUT and a local rename are atomic, so a file is there whole or not at all), and each
file is checked against its sha256 name before it is sent, so a damaged local file is reported, not copied.
"""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable, Iterable

from studio.files.storage import Storage

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


def move_files(paths: Iterable[str], source: Storage, target: Storage, workers: int = 8,
               progress: Callable[[str, str], None] | None = None) -> StorageMove:
    report = StorageMove(source.url, target.url)
    paths = list(paths)
    report.total = len(paths)

    def one(path: str) -> str:
        size = source.size(path)
        if size is None:
            return "missing"
        if target.size(path) == size:
            return "skipped"
        data = source.read(path)
        stem = PurePosixPath(path).stem
        if _SHA256.fullmatch(stem) and hashlib.sha256(data).hexdigest() != stem:
            return "damaged"
        target.put_file(path, data)
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
