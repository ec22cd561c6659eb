"""Image files in a local folder (the default storage).

A file is written under a temporary name, flushed to disk and renamed into place, so a reader never sees
half a file and a crash leaves at most a stray temporary file (`.tmp-…`, which the doctor removes)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from studio.core.errors import StudioError
from studio.files.content import IMAGES_FOLDER, StoredFile, content_path


class LocalStorage:
    remote = False

    def __init__(self, root: Path):
        self.root = Path(root)
        self.url = str(self.root)

    def absolute(self, path: str) -> Path:
        return self.root / path

    def source(self, path: str, download_name: str | None = None) -> str:
        """What st.image takes: the file's path; Streamlit serves it from this process."""
        return str(self.absolute(path))

    def put(self, data: bytes, extension: str, folder: str = IMAGES_FOLDER) -> StoredFile:
        relative, digest = content_path(data, extension, folder)
        target = self.absolute(relative)
        created = not target.exists()
        if created:
            self._write_atomically(target, data)
        return StoredFile(relative, digest, len(data), created)

    def put_file(self, relative: str, data: bytes) -> None:
        """Write `data` at exactly `relative` (copying a gallery in from elsewhere)."""
        self._write_atomically(self.absolute(relative), data)

    def read(self, path: str) -> bytes:
        return self.absolute(path).read_bytes()

    def open(self, path: str) -> BinaryIO:
        return self.absolute(path).open("rb")

    def exists(self, path: str) -> bool:
        return self.absolute(path).is_file()

    def size(self, path: str) -> int | None:
        try:
            return self.absolute(path).stat().st_size
        except OSError:
            return None

    def delete(self, path: str) -> None:
        self.absolute(path).unlink(missing_ok=True)

    def files(self, folder: str) -> Iterator[str]:
        """Relative paths of every file under `folder`, temporary files included (the doctor wants them)."""
        top = self.absolute(folder)
        for dirpath, _, names in os.walk(top):
            for name in sorted(names):
                yield str(Path(dirpath, name).relative_to(self.root))

    def listing(self, folder: str) -> dict[str, float]:
        """Every file under `folder` with when it was last written (seconds since the epoch)."""
        found: dict[str, float] = {}
        for relative in self.files(folder):
            try:
                found[relative] = self.absolute(relative).stat().st_mtime
            except FileNotFoundError:
                continue  # a temp file renamed into place since the walk
        return found

    def _write_atomically(self, target: Path, data: bytes) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        except OSError as exc:
            raise StudioError(
                f"Cannot write to the data folder {self.root} ({exc.strerror}); make it writable or set STUDIO_DATA_DIR.",
                "storage_unwritable",
            ) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise StudioError(
                f"Could not save the image in {self.root} ({exc.strerror}); free some disk space or pick another STUDIO_DATA_DIR. Nothing was kept.",
                "storage_failed",
            ) from None
