"""Image files in a local folder, content-addressed by sha256.

A file is written under a temporary name, flushed to disk and renamed into place, so a reader never
sees half a file and a crash leaves at most a stray temporary file. Same bytes, same file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from studio.errors import StudioError


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the storage root
    sha256: str
    bytes: int
    created: bool  # False when the same bytes were already stored (content addressing)


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)

    def absolute(self, path: str) -> Path:
        return self.root / path

    def put(self, data: bytes, extension: str, folder: str = "images") -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{folder}/{digest[:2]}/{digest}.{extension}"
        target = self.absolute(relative)
        created = not target.exists()
        if created:
            self._write_atomically(target, data)
        return StoredFile(relative, digest, len(data), created)

    def read(self, path: str) -> bytes:
        return self.absolute(path).read_bytes()

    def exists(self, path: str) -> bool:
        return self.absolute(path).is_file()

    def delete(self, path: str) -> None:
        self.absolute(path).unlink(missing_ok=True)

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
