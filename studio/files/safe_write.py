"""Writing a file the user names (an export zip) without ever harming what is already there.

The target is checked first: never the gallery's own database (or its -wal/-shm/-journal siblings) or a
file in its image folders, however it is spelt (`..`, a symlink, a hard link); never an existing file
unless the caller says so, and then only an earlier zip. The bytes go to a temporary file beside the
target, flushed, and renamed over it at the end, so a failure half-way leaves the old file (or nothing)."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

from studio.core.errors import StudioError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
TEMPORARY_PREFIX = ".tmp-export-"  # + mkstemp's random part; not the target's name, which may be as long as a name can be


def real(path: Path) -> Path:
    """The path with `~`, `..` and every symlink resolved (the file need not exist)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def check_new_file(target: Path, protected_files: Sequence[Path], protected_folders: Sequence[Path],
                   force: bool = False, example: str = "~/gallery-export.zip",
                   settings_files: Sequence[Path] = ()) -> Path:
    """The resolved target, or a StudioError saying in one line what to change. `settings_files` are the
    gallery's own files beside its database (the sign-in secret, providers.toml ...): an export must not
    replace them, nor create one where none is yet (the next start would read a zip as its settings).
    Only an existing regular file can be replaced; a FIFO or a device is never opened (reading a FIFO's
    first bytes to see whether it is a zip would wait for a writer forever)."""
    try:
        return _check_new_file(target, protected_files, protected_folders, force, example, settings_files)
    except OSError as exc:  # a name too long for the file system, a folder that cannot be looked into
        raise StudioError(f"{target} cannot be used ({exc.strerror}); pick another path, e.g. {example}.",
                          "export_bad_target") from None


def _check_new_file(target: Path, protected_files: Sequence[Path], protected_folders: Sequence[Path],
                    force: bool, example: str, settings_files: Sequence[Path]) -> Path:
    resolved = real(target)
    for protected in protected_files:
        if resolved == real(protected) or _same_file(target, protected):
            raise StudioError(f"{target} is the gallery's own database file ({protected.name}); "
                              f"export to a file outside the data folder, e.g. {example}.", "export_onto_gallery")
    for protected in settings_files:
        if resolved == real(protected) or _same_file(target, protected):
            raise StudioError(f"{target} is one of the gallery's own settings files ({protected.name}); "
                              f"export to a file outside the data folder, e.g. {example}.", "export_onto_gallery")
    for folder in protected_folders:
        if resolved.is_relative_to(real(folder)):
            raise StudioError(f"{target} is inside the gallery's image storage ({real(folder)}); "
                              f"export to a file outside it, e.g. {example}.", "export_onto_gallery")
    if resolved.is_dir():
        raise StudioError(f"{target} is a folder; give a file name in it, e.g. {Path(target) / 'gallery.zip'}.", "export_target_folder")
    if resolved.parent.exists() and not resolved.parent.is_dir():
        raise StudioError(f"{resolved.parent} is a file, not a folder; pick another path, e.g. {example}.", "export_no_folder")
    if not resolved.parent.is_dir():
        raise StudioError(f"The folder {resolved.parent} does not exist; create it first or pick another path.", "export_no_folder")
    if os.path.lexists(target):
        if not resolved.is_file():  # a FIFO, a device, a socket: never opened, never replaced
            raise StudioError(f"{target} is not a regular file (a pipe or a device); export to a file, e.g. {example}.",
                              "export_exists")
        if not force:
            raise StudioError(f"{target} already exists; pick a new name, or add --force to replace it.", "export_exists")
        if not _is_zip(resolved):
            raise StudioError(f"{target} exists and is not a zip; --force only replaces an earlier export. Pick another name.",
                              "export_exists")
    return resolved


@contextmanager
def replacing(target: Path) -> Iterator[BinaryIO]:
    """A handle on a temporary file beside `target`, renamed onto it when the block ends without error
    (and removed when it does not)."""
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMPORARY_PREFIX)
    except OSError as exc:
        raise StudioError(f"Cannot write in {target.parent} ({exc.strerror}); pick a folder you can write to.",
                          "export_unwritable") from None
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise StudioError(f"Could not write {target} ({exc.strerror}); free some disk space or pick another folder. "
                          "Nothing was replaced.", "export_failed") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # a hard link to the database is the database
    except OSError:
        return False


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) in ZIP_MAGIC
    except OSError:
        return False

