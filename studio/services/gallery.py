"""Gallery use cases that touch rows and files together: browse, detail, delete, export and import,
the doctor and thumbnail backfill. The pages and the CLI call these."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from studio.core.errors import StudioError
from studio.files.filemeta import read_metadata
from studio.db.browse import GalleryFilter, Page
from studio.files.imagefile import inspect_image
from studio.db.models import Generation, Image
from studio.core.pricing import NO_PRICE, format_usd, generation_cost, load_prices
from studio.files.storage import Location, Storage
from studio.files.thumbnails import THUMBNAIL_FOLDER, save_thumbnail
from studio.services.studio import Studio

IMAGES_FOLDER = "images"
UPLOADS_FOLDER = "uploads"  # edit inputs that did not come from the gallery
METADATA_FILE = "metadata.jsonl"
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # no image the API makes or takes is near this; a bigger member is refused
MAX_COMPRESSION_RATIO = 100  # images barely compress; a member that inflates more than this is a zip bomb
GENERATION_FIELDS = tuple(c.key for c in Generation.__table__.columns if c.key != "id")
IMAGE_FIELDS = ("batch_index", "sha256", "width", "height", "format", "bytes", "revised_prompt", "favourite")


@dataclass(frozen=True)
class Detail:
    generation: Generation
    image: Image | None
    collections: list[str]
    file_exists: bool
    absolute_path: Location | None  # a Path, or an S3Object (str() is its s3:// URL)
    src: str | None = None  # what st.image and the browser load: the file's path or a presigned URL


@dataclass
class ImportReport:
    added: int = 0
    skipped_duplicates: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class DoctorReport:
    missing_files: list[str] = field(default_factory=list)  # rows whose original is gone
    stray_files: list[str] = field(default_factory=list)  # originals no row points to
    stray_thumbnails: list[str] = field(default_factory=list)  # thumbnails and temp files nothing uses
    missing_thumbnails: int = 0
    missing_sources: list[str] = field(default_factory=list)  # files edits were made from that are gone
    stray_uploads: list[str] = field(default_factory=list)  # uploaded edit inputs no edit keeps any more
    in_flight: list[str] = field(default_factory=list)  # too young to judge: in flight, left alone
    fixed: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not (self.missing_files or self.stray_files or self.stray_thumbnails or self.missing_thumbnails
                    or self.missing_sources or self.stray_uploads)


class GalleryService:
    """The gallery's use cases over one studio's rows and files (built from the `Studio` that owns them)."""

    def __init__(self, studio: Studio):
        self.records = studio.records
        self.browse = studio.browse
        self.storage = studio.storage
        self.settings = studio.settings
        self.data_dir = studio.settings.data_dir  # pricing.toml and the in-flight window live with the settings

    # --- browsing -------------------------------------------------------------------------------

    def page(self, filters: GalleryFilter, sort: str = "newest", limit: int = 24, after: str | None = None,
             before: str | None = None) -> Page:
        return self.browse.page(filters, sort, limit, after, before)

    def detail(self, generation_id: int, image_id: int | None) -> Detail:
        generation = self.records.get(generation_id)
        image = next((i for i in generation.images if i.id == image_id), None)
        if image_id is not None and image is None:
            raise StudioError(f"Image {image_id} is no longer in the gallery.", "not_found")
        path = self.storage.absolute(image.path) if image else None
        collections = self.browse.collections_of(image.id) if image else []
        exists = bool(path and path.is_file())
        return Detail(generation, image, collections, exists, path, self.storage.source(image.path) if image and exists else None)

    def thumbnail_source(self, image_id: int | None, path: str | None, thumbnail_path: str | None) -> str | None:
        """What a gallery tile shows: its thumbnail (made now if it has none), or None when the image's
        file is gone. In object storage the row is trusted without a request per tile (the doctor checks
        files), so a page of thumbnails costs no round trips; a local file is checked, which is cheap."""
        if thumbnail_path and (self.storage.remote or self.storage.exists(thumbnail_path)):
            return self.storage.source(thumbnail_path)
        if image_id is None or not path:
            return None
        made = self.ensure_thumbnail(image_id, path)  # a backfill, one image at a time
        return self.storage.source(made) if made else None

    def cost_text(self, generation: Generation) -> str:
        """The estimated cost of a generation as the pages show it, from the editable price table."""
        if generation.status != "succeeded":
            return "nothing (the request did not succeed)"
        try:
            cost = generation_cost(load_prices(self.data_dir), generation, len(generation.images))
        except ConfigError as exc:
            return f"unknown: the price table needs a change ({exc})"
        if cost is None:
            return NO_PRICE
        basis = "from the usage tokens" if cost.basis == "tokens" else "from the per-image price"
        return f"{format_usd(cost.usd)} for the request's {len(generation.images)} image(s), estimated {basis}"

    # --- changes --------------------------------------------------------------------------------

    def favourite(self, image_ids: Iterable[int], value: bool = True) -> int:
        return self.browse.set_favourite(image_ids, value)

    def add_to_collection(self, name: str, image_ids: Iterable[int]) -> int:
        return self.browse.add_to_collection(name, image_ids)

    def delete(self, items: Sequence[tuple[int, int | None]]) -> int:
        """Delete the items (rows first, then the files no other row shares); returns files removed."""
        unused = self.browse.delete(items)
        for path in unused:
            self.storage.delete(path)
        return len(unused)

    # --- export and import ----------------------------------------------------------------------

    def export_zip(self, image_ids: Sequence[int], target: str | Path | IO[bytes] | None = None) -> bytes | None:
        """A zip of the originals plus `metadata.jsonl` (one line per image, every field). Written to
        `target` if given, else returned as bytes. Images whose file is missing are listed, not packed."""
        buffer = io.BytesIO() if target is None else target
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # images are compressed already
            lines = []
            for image, generation in self.browse.images_with_generations(image_ids):
                name = f"{IMAGES_FOLDER}/{generation.id}-{image.batch_index + 1}-{image.sha256[:12]}.{image.format}"
                record = {"file": name, "generation_id": generation.id, "image_id": image.id}
                record.update({k: _jsonable(getattr(generation, k)) for k in GENERATION_FIELDS})
                record.update({k: getattr(image, k) for k in IMAGE_FIELDS})
                try:  # streamed object by object: an export never holds more than one image in memory
                    with self.storage.open(image.path) as source, archive.open(name, "w") as packed:
                        shutil.copyfileobj(source, packed, 1024 * 1024)
                except FileNotFoundError:
                    record["file"] = None
                lines.append(json.dumps(record, ensure_ascii=False))
            archive.writestr(METADATA_FILE, "\n".join(lines) + "\n")
        return buffer.getvalue() if target is None else None  # type: ignore[union-attr]

    def import_zip(self, source: str | Path | IO[bytes] | bytes) -> ImportReport:
        """Add the images of an exported zip; an image whose sha256 the gallery has already is skipped.
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
            records = self._metadata_records(archive, infos, report)
            listed = {r.get("file") for r in records}
            records += [{"file": n} for n in sorted(infos) if n not in listed and n != METADATA_FILE and not n.endswith("/")]
            groups: dict[Any, list[tuple[dict[str, Any], str]]] = {}
            digests: dict[str, str] = {}  # member name -> sha256
            seen: set[str] = set()
            for record in records:
                name = record.get("file")
                if not name:
                    continue
                if name not in infos:
                    report.problems.append(f"{name} is listed but not in the zip; skipped.")
                    continue
                problem = _member_problem(infos[name])
                if problem is None:
                    try:
                        digests[name] = _hash_member(archive, name)
                    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
                        problem = f"cannot be read from the zip ({exc}); skipped."
                if problem:
                    report.problems.append(f"{name} {problem}")
                    continue
                if digests[name] in seen:
                    report.skipped_duplicates += 1
                    continue
                seen.add(digests[name])
                generation_id = record.get("generation_id")
                key = generation_id if isinstance(generation_id, (int, str)) and generation_id != "" else f"file:{name}"
                groups.setdefault(key, []).append((record, name))
            known = self.browse.known_sha256(seen)
            for members in groups.values():
                fresh = [(r, n) for r, n in members if digests[n] not in known]
                report.skipped_duplicates += len(members) - len(fresh)
                if not fresh:
                    continue
                try:  # each member is read only now, one at a time, as it is stored
                    self._add_files([(r, lambda n=n: archive.read(n)) for r, n in fresh])
                    report.added += len(fresh)
                except StudioError as exc:
                    report.problems.append(f"{fresh[0][1]}: {exc.message}")
                except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
                    report.problems.append(f"{fresh[0][1]}: cannot be read from the zip ({exc}); skipped.")
                except (SQLAlchemyError, ValueError, TypeError):
                    report.problems.append(f"{fresh[0][1]}: its metadata does not fit the gallery; skipped. "
                                           "Fix that line in metadata.jsonl or remove it to import the file with the metadata inside it.")
        return report

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
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            report.problems.append(f"{METADATA_FILE} cannot be read from the zip ({exc}); the files come in with the metadata inside them.")
            return []
        records = []
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                report.problems.append(f"{METADATA_FILE} line {number} is not JSON; skipped.")
                continue
            problem = _record_problem(record)
            if problem:
                report.problems.append(f"{METADATA_FILE} line {number} {problem}; skipped.")
                continue
            records.append(record)
        return records

    def _add_files(self, members: Sequence[tuple[dict[str, Any], Callable[[], bytes]]]) -> int:
        """One generation for files that came from one request; fields from the record, else from the file.
        Each file's bytes are fetched as it is stored, so only one is held at a time."""
        first, _ = members[0]
        source = first if "prompt" in first else None
        images = []
        for index, (record, load) in enumerate(members):
            data = load()
            if source is None:
                source = read_metadata(data) or {}
            facts = inspect_image(data)
            stored = self.storage.put(data, facts.format)
            revised = record["revised_prompt"] if "revised_prompt" in record else (read_metadata(data) or {}).get("revised_prompt")
            images.append({
                "batch_index": record.get("batch_index", index), "path": stored.path, "sha256": stored.sha256,
                "width": facts.width, "height": facts.height, "format": facts.format, "bytes": stored.bytes,
                "revised_prompt": revised, "favourite": bool(record.get("favourite", False)),
                "thumbnail_path": save_thumbnail(self.storage, data),
            })
            del data
        return self.browse.add_generation(generation_fields(source or {}), images)

    # --- upkeep ---------------------------------------------------------------------------------

    def doctor(self, fix: bool = False, now: float | None = None) -> DoctorReport:
        """Compare rows and files. With fix: rows whose file is gone are dropped (the generation and its
        prompt stay), stray originals are taken back into the gallery with the metadata inside them
        (an image is never deleted here), stray thumbnails, uploads no edit keeps and temp files are
        removed, and missing thumbnails are rebuilt. A file younger than the longest a request can run
        may belong to a request still being saved: it is reported as in flight and left alone."""
        report = DoctorReport()
        cutoff = (time.time() if now is None else now) - self.request_window_s()
        rows = self.browse.file_rows()
        sources = self.browse.source_paths()  # edits keep their inputs: a gallery image's file or an upload
        used_paths = {path for _, path, _, _ in rows} | sources
        used_thumbs = {thumb for _, _, thumb, _ in rows if thumb}
        missing_ids = []
        need_thumb: dict[str, list[int]] = {}
        originals, thumbnails = self._listing(IMAGES_FOLDER), self._listing(THUMBNAIL_FOLDER)
        uploads = self._listing(UPLOADS_FOLDER)
        listed = set(originals) | set(thumbnails) | set(uploads)  # one listing, not a request per row (object storage)
        listed_folders = (IMAGES_FOLDER + "/", THUMBNAIL_FOLDER + "/", UPLOADS_FOLDER + "/")

        def present(relative: str) -> bool:
            return relative in listed if relative.startswith(listed_folders) else self.storage.exists(relative)

        for image_id, path, thumb, _ in rows:
            if not present(path):
                report.missing_files.append(path)
                missing_ids.append(image_id)
            elif not thumb or not present(thumb):
                need_thumb.setdefault(path, []).append(image_id)
        report.missing_thumbnails = sum(len(ids) for ids in need_thumb.values())
        report.missing_sources = sorted(p for p in sources if not present(p))
        for listing, used, strays in ((originals, used_paths, report.stray_files), (thumbnails, used_thumbs, report.stray_thumbnails),
                                      (uploads, used_paths, report.stray_uploads)):
            for relative, modified in sorted(listing.items()):
                if relative in used:
                    continue
                if modified > cutoff:  # perhaps a request writing it now, or written and not yet committed
                    report.in_flight.append(relative)
                elif Path(relative).name.startswith(".tmp-"):
                    report.stray_thumbnails.append(relative)
                else:
                    strays.append(relative)
        if fix:
            if missing_ids:
                report.stray_thumbnails += sorted(self.browse.delete_image_rows(missing_ids))
            for relative in report.stray_thumbnails + report.stray_uploads:  # first: adopting a stray may make its thumbnail anew
                self.storage.delete(relative)
            adopted = 0
            for relative in report.stray_files:
                try:
                    data = self.storage.read(relative)
                except FileNotFoundError:
                    continue  # gone since the listing
                digest = hashlib.sha256(data).hexdigest()
                if self.browse.known_sha256([digest]):
                    continue  # the same image is in the gallery already; this copy is left for a person
                try:
                    self._add_files([({"file": relative}, lambda data=data: data)])
                except (StudioError, SQLAlchemyError, ValueError, TypeError):
                    continue  # not an image (or metadata) the studio keeps; left where it is for a person to look at
                adopted += 1
                if Path(relative).stem != digest:  # stored again under its content address: drop the copy
                    self.storage.delete(relative)
            rebuilt = self.backfill_thumbnails(need_thumb)
            report.fixed = {"rows_dropped": len(missing_ids), "files_adopted": adopted,
                            "strays_removed": len(report.stray_thumbnails) + len(report.stray_uploads),
                            "thumbnails_made": rebuilt}
        return report

    def request_window_s(self) -> float:
        return self.settings.request_window_s

    def _listing(self, folder: str) -> dict[str, float]:
        """Every file under `folder` (temp files included) with when it was last written, in one listing."""
        storage: Any = self.storage
        found: dict[str, float] = {}
        if storage.remote:  # a bucket's listing carries each object's LastModified: no request per object
            start = len(storage.key(""))
            with storage._errors("list"):
                pages = storage.client.get_paginator("list_objects_v2").paginate(
                    Bucket=storage.bucket, Prefix=storage.key(folder.rstrip("/") + "/"))
                for page in pages:
                    for entry in page.get("Contents", []):
                        found[entry["Key"][start:]] = entry["LastModified"].timestamp()
            return found
        for relative in storage.files(folder):
            try:
                found[relative] = storage.absolute(relative).stat().st_mtime
            except FileNotFoundError:
                continue  # a temp file renamed into place since the walk
        return found

    def ensure_thumbnail(self, image_id: int, path: str) -> str | None:
        """The thumbnail of one image, made now if it has none yet (the Gallery calls this as it shows it)."""
        if not self.storage.exists(path):
            return None
        thumbnail = save_thumbnail(self.storage, self.storage.read(path))
        if thumbnail:
            self.browse.set_thumbnail([image_id], thumbnail)
        return thumbnail

    def backfill_thumbnails(self, need: dict[str, list[int]] | None = None) -> int:
        """Make thumbnails for images that have none (or whose thumbnail file is gone)."""
        if need is None:
            need = {}
            for image_id, path, thumb, _ in self.browse.file_rows():
                if self.storage.exists(path) and (not thumb or not self.storage.exists(thumb)):
                    need.setdefault(path, []).append(image_id)
        made = 0
        for path, ids in need.items():
            thumb = save_thumbnail(self.storage, self.storage.read(path))
            if thumb:
                self.browse.set_thumbnail(ids, thumb)
                made += len(ids)
        return made

    def _files(self, folder: str) -> list[str]:
        return sorted(self.storage.files(folder))


def generation_fields(source: dict[str, Any]) -> dict[str, Any]:
    """Generation columns from an export record or from the metadata inside a file."""
    fields = {k: source[k] for k in GENERATION_FIELDS if k in source}
    fields.setdefault("prompt", source.get("prompt") or "(recovered file: no prompt inside)")
    fields.setdefault("model", source.get("model") or "unknown")
    fields.setdefault("provider", source.get("provider") or "import")
    fields.setdefault("base_url_host", "")
    fields["status"] = "succeeded"
    created_at = fields.get("created_at")
    try:  # the metadata inside a file is not checked like an export's lines: a bad date becomes "now"
        fields["created_at"] = datetime.fromisoformat(created_at) if isinstance(created_at, str) else datetime.now(timezone.utc)
    except ValueError:
        fields["created_at"] = datetime.now(timezone.utc)
    return fields


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


_RECORD_TYPES: dict[str, tuple[type, ...]] = {"file": (str,), "batch_index": (int,), "favourite": (bool,),
                                              "revised_prompt": (str, type(None))}


def _record_problem(record: Any) -> str | None:
    """Why a metadata.jsonl record cannot be used, said so a person can fix the line; None when it can."""
    if not isinstance(record, dict):
        return f"is {type(record).__name__}, not an object with a \"file\" field"
    for name, types in _RECORD_TYPES.items():
        if name in record and (not isinstance(record[name], types) or (name == "batch_index" and isinstance(record[name], bool))):
            return f"has a \"{name}\" of the wrong kind ({json.dumps(record[name])[:40]})"
    for column in Generation.__table__.columns:
        value = record.get(column.key)
        if column.key not in GENERATION_FIELDS or value is None:
            continue
        if column.key == "created_at":
            try:
                parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                parsed = None
            if parsed is None:
                return f"has a \"created_at\" that is not an ISO date and time ({json.dumps(value)[:40]})"
            continue
        try:
            expected = column.type.python_type
        except NotImplementedError:
            continue
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if expected in (dict, list) and isinstance(value, (dict, list)):
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f"has a \"{column.key}\" of the wrong kind ({json.dumps(value)[:40]})"
    return None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
