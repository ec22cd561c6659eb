"""Where image files live: a local folder (the default) or an S3-compatible bucket, by configuration.

Both keep files content-addressed by sha256 under the same relative paths (`images/ab/abcd….png`,
`thumbs/…`), and the gallery stores only those relative paths: a gallery moves between a folder and a
bucket by copying the files (`python -m studio migrate-storage`) without touching a row.

A local file is written under a temporary name, flushed to disk and renamed into place, so a reader
never sees half a file and a crash leaves at most a stray temporary file. An S3 PUT is atomic by itself.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol, Union

from studio.core.errors import StudioError


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the storage root
    sha256: str
    bytes: int
    created: bool  # False when the same bytes were already stored (content addressing)


def content_path(data: bytes, extension: str, folder: str) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return f"{folder}/{digest[:2]}/{digest}.{extension}", digest


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

    def put(self, data: bytes, extension: str, folder: str = "images") -> StoredFile: ...
    def read(self, path: str) -> bytes: ...
    def open(self, path: str) -> BinaryIO: ...
    def exists(self, path: str) -> bool: ...
    def delete(self, path: str) -> None: ...
    def absolute(self, path: str) -> Location: ...
    def source(self, path: str, download_name: str | None = None) -> str: ...
    def files(self, folder: str) -> Iterator[str]: ...


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

    def put(self, data: bytes, extension: str, folder: str = "images") -> StoredFile:
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
