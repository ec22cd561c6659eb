"""Export and import: a zip of the originals plus `metadata.jsonl` (one line per image, every field),
and taking such a zip (or any zip of images) into a gallery without duplicating what it already has."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Sequence


from studio.core.auth import SECRET_FILE
from studio.core.config import Settings
from studio.core.errors import StudioError
from studio.db.archive import ArchiveRecords
from studio.db.engine import database_files
from studio.db.errors import DatabaseError
from studio.files.content import IMAGES_FOLDER, UPLOADS_FOLDER
from studio.files.safe_write import check_new_file, replacing
from studio.files.storage import LocalStorage, open_storage
from studio.provider.capabilities import FILE_NAME as CAPABILITIES_FILE
from studio.files.thumbnails import THUMBNAIL_FOLDER
from studio.services.intake import GENERATION_FIELDS, IMAGE_FIELDS, Member, add_files, line_problems
from studio.services.studio import Studio

METADATA_FILE = "metadata.jsonl"
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # no image the API makes or takes is near this; a bigger member is refused
MAX_COMPRESSION_RATIO = 100  # images barely compress; a member that inflates more than this is a zip bomb
_ZIP_READ_ERRORS = (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError)


@dataclass
class ExportReport:
    zip: str = ""  # where it was written (resolved)
    images: int = 0  # images packed
    generations: int = 0  # generations with a line in metadata.jsonl
    missing: list[str] = field(default_factory=list)  # gallery paths of images whose file was missing: not packed


@dataclass
class ImportReport:
    added: int = 0  # images taken in
    generations: int = 0  # generations taken in (one may have no image left: its file was missing at export)
    skipped_duplicates: int = 0
    problems: list[str] = field(default_factory=list)


class Archive:
    """Export and import over one studio's rows and files."""

    def __init__(self, studio: Studio):
        self.images = studio.images
        self.storage = studio.storage
        self.settings = studio.settings
        self.records = ArchiveRecords(studio.records.engine)

    def export_zip(self, image_ids: Sequence[int]) -> bytes:
        """The zip as bytes (the Gallery's download button)."""
        buffer = io.BytesIO()
        self.write_zip(image_ids, buffer)
        return buffer.getvalue()

    def export_file(self, image_ids: Sequence[int], target: str | Path, force: bool = False) -> ExportReport:
        """Write the zip to `target`, which must not be part of the gallery (see files/safe_write.py);
        written beside it and renamed at the end, so a failed export leaves nothing half-done."""
        resolved = check_export_target(self.settings, Path(target), force)
        with replacing(resolved) as handle:
            report = self.write_zip(image_ids, handle)
        report.zip = str(resolved)
        return report

    def write_zip(self, image_ids: Sequence[int], handle: IO[bytes]) -> ExportReport:
        """The originals plus `metadata.jsonl` (one line per image, every field). An image whose file is
        missing keeps its line (without a file) and is listed in the report; nothing is counted unpacked."""
        report = ExportReport()
        generations: set[int] = set()
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:  # images are compressed already
            lines = []
            for image, generation in self.images.images_with_generations(image_ids):
                name = f"{IMAGES_FOLDER}/{generation.id}-{image.batch_index + 1}-{image.sha256[:12]}.{image.format}"
                record = {"file": name, "generation_id": generation.id, "image_id": image.id}
                record.update({k: _jsonable(getattr(generation, k)) for k in GENERATION_FIELDS})
                record.update({k: getattr(image, k) for k in IMAGE_FIELDS})
                try:  # streamed object by object: an export never holds more than one image in memory
                    with self.storage.open(image.path) as source, archive.open(name, "w") as packed:
                        shutil.copyfileobj(source, packed, 1024 * 1024)
                    report.images += 1
                except FileNotFoundError:
                    record["file"] = None
                    report.missing.append(image.path)
                generations.add(generation.id)
                lines.append(json.dumps(record, ensure_ascii=False))
            archive.writestr(METADATA_FILE, "\n".join(lines) + "\n")
        report.generations = len(generations)
        return report

    def import_zip(self, source: str | Path | IO[bytes] | bytes) -> ImportReport:
        """Add the generations of an exported zip, skipping those the gallery has already (db/archive.py:
        by generation, so two with identical image bytes both come in; safe with imports running at once).
        Files in the zip without a metadata line come in with the metadata they carry inside. Two passes
        keep memory flat: first every member is hashed as a stream, then each is read when it is added."""
        report = ImportReport()
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError):
            raise StudioError("That file is not a zip archive; pick a zip exported from a gallery.", "bad_zip") from None
        with archive:
            infos = {info.filename: info for info in archive.infolist()}
            if len(infos) < len(archive.infolist()):  # a zip appended to: zipfile reads the last of each name
                counts = Counter(info.filename for info in archive.infolist())
                report.problems += [f"{name} is in the zip {count} times (it was appended to); only the last copy was read. "
                                    "Unpack it and zip the files again under distinct names to import the others."
                                    for name, count in counts.items() if count > 1]
            records = self._metadata_records(archive, infos, report)
            listed = {r.get("file") for r in records}
            records += [{"file": n} for n in sorted(infos) if n not in listed and n != METADATA_FILE and not n.endswith("/")]
            groups: dict[Any, list[Member]] = {}
            lines_seen: set[tuple[Any, str]] = set()
            for index, record in enumerate(records):
                name = record.get("file")
                generation_id = record.get("generation_id")
                key = generation_id if isinstance(generation_id, (int, str)) and generation_id != "" else f"file:{name or index}"
                if not name:  # an image whose file was missing when the zip was made: its generation still counts
                    if "prompt" in record:
                        groups.setdefault(key, []).append(Member(f"generation {generation_id}", record, None))
                    continue
                if name not in infos:
                    report.problems.append(f"{name} is listed but not in the zip; skipped.")
                    continue
                if (key, name) in lines_seen:  # the same line twice: one image, not two
                    report.skipped_duplicates += 1
                    continue
                lines_seen.add((key, name))
                problem = _member_problem(infos[name])
                if problem is None:
                    try:
                        digest = _hash_member(archive, name)
                    except _ZIP_READ_ERRORS as exc:
                        problem = f"cannot be read from the zip ({exc}); skipped."
                if problem:
                    report.problems.append(f"{name} {problem}")
                    continue
                groups.setdefault(key, []).append(Member(name, record, lambda n=name: archive.read(n), digest))
            for members in groups.values():
                self._add_group(archive, members, report)
        return report

    def _add_group(self, archive: zipfile.ZipFile, members: list[Member], report: ImportReport) -> None:
        """One generation (each member is read only now, one at a time, as it is stored); whatever goes
        wrong is a problem line and the import goes on with the next."""
        first = members[0].name
        try:
            added = add_files(self.records, self.storage, members, report.problems)
        except StudioError as exc:  # the file checks name the member; others are said about the group's first
            named = any(m.name in exc.message for m in members)
            report.problems.append(exc.message if named else f"{first}: {exc.message}")
            return
        except _ZIP_READ_ERRORS as exc:
            report.problems.append(f"{first}: cannot be read from the zip ({exc}); skipped.")
            return
        except (DatabaseError, ValueError, TypeError) as exc:  # last resort: values.py should have said why
            report.problems.append(f"{first}: its metadata does not fit the gallery ({type(exc).__name__}); skipped. "
                                   "Fix that line in metadata.jsonl or remove it to import the file with the metadata inside it.")
            return
        if added is None:
            report.skipped_duplicates += len(members)
            return
        report.generations += 1
        report.added += sum(1 for m in members if m.load is not None)
        missing = sum(1 for m in members if m.load is None)
        if missing:
            report.problems.append(f"{first}: {missing} image(s) had no file when the zip was made (missing from the gallery "
                                   "that exported it); the generation came in with its prompt and settings, without them.")

    @staticmethod
    def _metadata_records(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], report: ImportReport) -> list[dict[str, Any]]:
        """The usable lines of metadata.jsonl; each unusable one becomes a problem line, and the import goes on."""
        if METADATA_FILE not in infos:
            return []
        problem = _member_problem(infos[METADATA_FILE])
        if problem:
            report.problems.append(f"{METADATA_FILE} {problem} The files come in with the metadata inside them.")
            return []
        try:
            raw = archive.read(METADATA_FILE)
        except _ZIP_READ_ERRORS as exc:
            report.problems.append(f"{METADATA_FILE} cannot be read from the zip ({exc}); the files come in with the metadata inside them.")
            return []
        records = []
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (ValueError, RecursionError):  # not JSON, not UTF-8, a 5,000-digit number, nesting past the limit
                report.problems.append(f"{METADATA_FILE} line {number} is not JSON; skipped.")
                continue
            problems = line_problems(record)
            if problems:
                file = record.get("file") if isinstance(record, dict) else None
                where = f"{METADATA_FILE} line {number}" + (f" ({file})" if isinstance(file, str) and file else "")
                report.problems.append(f"{where}: {'; '.join(problems)}. Fix or remove that line; skipped.")
                continue
            records.append(record)
        return records


def check_export_target(settings: Settings, target: Path, force: bool = False) -> Path:
    """Where an export may be written, resolved; a StudioError when it would touch the gallery itself.
    Needs only the settings, so the CLI checks before it opens (and so touches) the database."""
    files = database_files(settings.database_url)
    roots = {settings.data_dir}
    storage = open_storage(settings.storage_url, settings.data_dir)
    if isinstance(storage, LocalStorage):
        roots.add(storage.root)
    folders = [root / folder for root in roots for folder in (IMAGES_FOLDER, THUMBNAIL_FOLDER, UPLOADS_FOLDER)]
    own = [settings.data_dir / name for name in (SECRET_FILE, CAPABILITIES_FILE, "providers.toml", "pricing.toml")]
    return check_new_file(target, files, folders, force, settings_files=own)


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member is refused before reading it (its sizes as the zip states them), or None."""
    if info.file_size > MAX_MEMBER_BYTES:
        return f"is {info.file_size / 1024 / 1024:.0f} MB unpacked, over the {MAX_MEMBER_BYTES // 1024 // 1024} MB limit; skipped."
    if info.file_size > 1024 * 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        return f"unpacks to over {MAX_COMPRESSION_RATIO} times its packed size, which no image does; skipped."
    return None


def _hash_member(archive: zipfile.ZipFile, name: str) -> str:
    """sha256 of a member, streamed in chunks (zipfile stops at the stated size and checks the CRC)."""
    digest = hashlib.sha256()
    with archive.open(name) as member:
        for chunk in iter(lambda: member.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
