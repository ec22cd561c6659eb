"""Where image files live: a local folder (the default) or an S3-compatible bucket, by configuration.

Both keep files content-addressed by sha256 under the same relative paths (`images/ab/abcd….png`,
`thumbs/…`), and the gallery stores only those relative paths: a gallery moves between a folder and a
bucket by copying the files (`python -m studio migrate-storage`) without touching a row.

This module is the interface the rest of the studio uses (`Storage`, `open_storage`); the backends are
`local.py` and `s3.py`, which import neither this module nor each other (content addressing is in
`content.py`). A local file is renamed into place once whole; an S3 PUT is atomic by itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Iterator, Protocol, Union

from studio.core.errors import StudioError
from studio.files.content import IMAGES_FOLDER, UPLOADS_FOLDER, StoredFile, content_path
from studio.files.local import LocalStorage

__all__ = ["IMAGES_FOLDER", "UPLOADS_FOLDER", "LocalStorage", "Location", "Storage", "StoredFile", "StoredObject",
           "content_path", "open_storage", "read_location"]


class StoredObject(Protocol):
    """A file in object storage, with the few Path methods the studio uses on a stored file."""

    name: str
    suffix: str

    def read_bytes(self) -> bytes: ...
    def is_file(self) -> bool: ...
    def exists(self) -> bool: ...


Location = Union[Path, StoredObject]  # what `absolute()` returns: a real Path for a local folder


class Storage(Protocol):
    url: str  # where the files are: a folder or s3://bucket/prefix (for messages and the CLI)
    remote: bool  # True when each existence check is a network round trip

    def put(self, data: bytes, extension: str, folder: str = IMAGES_FOLDER) -> StoredFile:
        """Store bytes at their content address (a no-op when the same bytes are there already)."""
    def put_file(self, relative: str, data: bytes) -> None:
        """Write bytes at exactly `relative` (copying a gallery's files from another storage)."""
    def read(self, path: str) -> bytes: ...
    def open(self, path: str) -> BinaryIO: ...
    def exists(self, path: str) -> bool: ...
    def size(self, path: str) -> int | None:
        """The file's size in bytes, or None when it is not there."""
    def delete(self, path: str) -> None: ...
    def absolute(self, path: str) -> Location: ...
    def source(self, path: str, download_name: str | None = None) -> str: ...
    def files(self, folder: str) -> Iterator[str]: ...
    def listing(self, folder: str) -> dict[str, float]:
        """Every file under `folder` (temp files included) with its modification time, in one listing
        (one paginated request on object storage, not one per file)."""


def open_storage(url: str | None, data_dir: Path) -> Storage:
    """The storage STUDIO_STORAGE_URL names: `s3://bucket/prefix`, a folder, or (unset) the data dir."""
    if url and url.startswith("s3://"):
        from studio.files.s3 import S3Storage  # boto3 is imported only by those who use it

        return S3Storage.from_url(url)
    if url and "://" in url and not url.startswith("file://"):
        raise StudioError(
            f"STUDIO_STORAGE_URL={url!r} is not supported; use a folder or s3://bucket/prefix.", "bad_storage_url"
        )
    return LocalStorage(Path(url.removeprefix("file://")).expanduser() if url else data_dir)


def read_location(location: str) -> bytes:
    """The bytes at a path or an `s3://bucket/key` URL (what the CLI prints as an image's `path`).
    Raises FileNotFoundError (or OSError) as reading a local file would."""
    if location.startswith("s3://"):
        bucket, _, key = location.removeprefix("s3://").partition("/")
        return open_storage(f"s3://{bucket}", Path(".")).read(key)
    return Path(location).read_bytes()
