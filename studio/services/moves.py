"""Moving a gallery: its rows to another database, its files to another storage (the CLI's two moves)."""

from __future__ import annotations

from typing import Callable

from studio.core.config import Settings
from studio.core.errors import StudioError
from studio.db import copy
from studio.db.engine import get_engine, migrate
from studio.db.paths import stored_paths
from studio.files.move import StorageMove, move_files
from studio.files.storage import open_storage

Progress = Callable[[int, int, str, str], None]  # files done, files in all, path, what happened to it


def copy_database(settings: Settings, target_url: str) -> dict[str, int]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return copy.copy_database(settings.database_url, target_url)


def move_storage(settings: Settings, target_url: str, source_url: str | None = None, workers: int = 8,
                 progress: Progress | None = None) -> StorageMove:
    migrate(settings.database_url)
    source = open_storage(source_url or settings.storage_url, settings.data_dir)
    target = open_storage(target_url, settings.data_dir)
    if source.url == target.url:
        raise StudioError(f"The gallery's files are already in {target.url}; give another --to.", "same_storage")
    paths = stored_paths(get_engine(settings.database_url))
    done = 0

    def each(path: str, result: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(paths), path, result)

    return move_files(paths, source, target, workers, each)
