"""Content addressing, shared by every storage backend: a file's path is its sha256 under its folder.

Its own module so the backends (local.py, s3.py) and the interface that picks one (storage.py) import it
without importing each other."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

IMAGES_FOLDER = "images"  # originals (and gallery images an edit was made from)
UPLOADS_FOLDER = "uploads"  # edit inputs that did not come from the gallery


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the storage root
    sha256: str
    bytes: int
    created: bool  # False when the same bytes were already stored (content addressing)


def content_path(data: bytes, extension: str, folder: str) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return f"{folder}/{digest[:2]}/{digest}.{extension}", digest
