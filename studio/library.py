"""Gallery use cases that touch rows and files together: browse, detail, delete, export and import,
the doctor, thumbnail backfill, and "use these settings". The pages and the CLI call these."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

from studio.config import ConfigError
from studio.errors import StudioError
from studio.filemeta import read_metadata
from studio.gallery import Gallery
from studio.gallery_query import GalleryFilter, GalleryQueries, Page
from studio.imagefile import inspect_image
from studio.models import Generation, Image
from studio.pricing import NO_PRICE, format_usd, generation_cost, load_prices
from studio.request import field_names
from studio.storage import Location, Storage
from studio.thumbnails import THUMBNAIL_FOLDER, save_thumbnail

IMAGES_FOLDER = "images"
METADATA_FILE = "metadata.jsonl"
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
    fixed: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not (self.missing_files or self.stray_files or self.stray_thumbnails or self.missing_thumbnails)


class Library:
    def __init__(self, gallery: Gallery, storage: Storage, data_dir: Path | None = None):
        self.gallery = gallery
        self.storage = storage
        # pricing.toml lives in the data dir, which is the storage root only for a local folder
        self.data_dir = data_dir if data_dir is not None else getattr(storage, "root", None)
        self.queries = GalleryQueries(gallery.engine)

    # --- browsing -------------------------------------------------------------------------------

    def page(self, filters: GalleryFilter, sort: str = "newest", limit: int = 24, after: str | None = None,
             before: str | None = None) -> Page:
        return self.queries.page(filters, sort, limit, after, before)

    def detail(self, generation_id: int, image_id: int | None) -> Detail:
        generation = self.gallery.get(generation_id)
        image = next((i for i in generation.images if i.id == image_id), None)
        if image_id is not None and image is None:
            raise StudioError(f"Image {image_id} is no longer in the gallery.", "not_found")
        path = self.storage.absolute(image.path) if image else None
        collections = self.queries.collections_of(image.id) if image else []
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
        return self.queries.set_favourite(image_ids, value)

    def add_to_collection(self, name: str, image_ids: Iterable[int]) -> int:
        return self.queries.add_to_collection(name, image_ids)

    def delete(self, items: Sequence[tuple[int, int | None]]) -> int:
        """Delete the items (rows first, then the files no other row shares); returns files removed."""
        unused = self.queries.delete(items)
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
            for image, generation in self.queries.images_with_generations(image_ids):
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
        Files in the zip without a metadata line come in with the metadata they carry inside."""
        report = ImportReport()
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError):
            raise StudioError("That file is not a zip archive; pick a zip exported from a gallery.", "bad_zip") from None
        with archive:
            names = set(archive.namelist())
            records = []
            if METADATA_FILE in names:
                for number, line in enumerate(archive.read(METADATA_FILE).decode("utf-8").splitlines(), 1):
                    if line.strip():
                        try:
                            records.append(json.loads(line))
                        except json.JSONDecodeError:
                            report.problems.append(f"{METADATA_FILE} line {number} is not JSON; skipped.")
            listed = {r.get("file") for r in records}
            records += [{"file": n} for n in sorted(names) if n not in listed and n != METADATA_FILE and not n.endswith("/")]
            groups: dict[Any, list[tuple[dict[str, Any], bytes]]] = {}
            seen: set[str] = set()
            for record in records:
                if not record.get("file") or record["file"] not in names:
                    if record.get("file"):
                        report.problems.append(f"{record['file']} is listed but not in the zip; skipped.")
                    continue
                data = archive.read(record["file"])
                digest = hashlib.sha256(data).hexdigest()
                if digest in seen:
                    report.skipped_duplicates += 1
                    continue
                seen.add(digest)
                groups.setdefault(record.get("generation_id") or f"file:{record['file']}", []).append((record, data))
        known = self.queries.known_sha256(seen)
        for members in groups.values():
            fresh = [(r, d) for r, d in members if hashlib.sha256(d).hexdigest() not in known]
            report.skipped_duplicates += len(members) - len(fresh)
            if fresh:
                try:
                    self._add_files(fresh)
                    report.added += len(fresh)
                except StudioError as exc:
                    report.problems.append(f"{fresh[0][0]['file']}: {exc.message}")
        return report

    def _add_files(self, members: Sequence[tuple[dict[str, Any], bytes]]) -> int:
        """One generation for files that came from one request; fields from the record, else from the file."""
        first, first_data = members[0]
        source = first if "prompt" in first else (read_metadata(first_data) or {})
        generation = generation_fields(source)
        images = []
        for index, (record, data) in enumerate(members):
            facts = inspect_image(data)
            stored = self.storage.put(data, facts.format)
            revised = record["revised_prompt"] if "revised_prompt" in record else (read_metadata(data) or {}).get("revised_prompt")
            images.append({
                "batch_index": record.get("batch_index", index), "path": stored.path, "sha256": stored.sha256,
                "width": facts.width, "height": facts.height, "format": facts.format, "bytes": stored.bytes,
                "revised_prompt": revised, "favourite": bool(record.get("favourite", False)),
                "thumbnail_path": save_thumbnail(self.storage, data),
            })
        return self.queries.add_generation(generation, images)

    # --- upkeep ---------------------------------------------------------------------------------

    def doctor(self, fix: bool = False) -> DoctorReport:
        """Compare rows and files. With fix: rows whose file is gone are dropped (the generation and its
        prompt stay), stray originals are taken back into the gallery with the metadata inside them
        (an image is never deleted here), stray thumbnails and temp files are removed, and missing
        thumbnails are rebuilt."""
        report = DoctorReport()
        rows = self.queries.file_rows()
        used_paths = {path for _, path, _, _ in rows}
        used_thumbs = {thumb for _, _, thumb, _ in rows if thumb}
        missing_ids = []
        need_thumb: dict[str, list[int]] = {}
        originals, thumbnails = self._files(IMAGES_FOLDER), self._files(THUMBNAIL_FOLDER)
        listed = set(originals) | set(thumbnails)  # one listing, not a request per row (object storage)
        listed_folders = (IMAGES_FOLDER + "/", THUMBNAIL_FOLDER + "/")

        def present(relative: str) -> bool:
            return relative in listed if relative.startswith(listed_folders) else self.storage.exists(relative)

        for image_id, path, thumb, _ in rows:
            if not present(path):
                report.missing_files.append(path)
                missing_ids.append(image_id)
            elif not thumb or not present(thumb):
                need_thumb.setdefault(path, []).append(image_id)
        report.missing_thumbnails = sum(len(ids) for ids in need_thumb.values())
        for relative in originals:
            if Path(relative).name.startswith(".tmp-"):
                report.stray_thumbnails.append(relative)
            elif relative not in used_paths:
                report.stray_files.append(relative)
        report.stray_thumbnails += [p for p in thumbnails if p not in used_thumbs]
        if fix:
            if missing_ids:
                report.stray_thumbnails += sorted(self.queries.delete_image_rows(missing_ids))
            for relative in report.stray_thumbnails:  # first: adopting a stray may make its thumbnail anew
                self.storage.delete(relative)
            adopted = 0
            for relative in report.stray_files:
                data = self.storage.read(relative)
                digest = hashlib.sha256(data).hexdigest()
                if self.queries.known_sha256([digest]):
                    continue  # the same image is in the gallery already; this copy is left for a person
                try:
                    self._add_files([({"file": relative}, data)])
                except StudioError:
                    continue  # not an image the studio keeps; left where it is for a person to look at
                adopted += 1
                if Path(relative).stem != digest:  # stored again under its content address: drop the copy
                    self.storage.delete(relative)
            rebuilt = self.backfill_thumbnails(need_thumb)
            report.fixed = {"rows_dropped": len(missing_ids), "files_adopted": adopted,
                            "strays_removed": len(report.stray_thumbnails), "thumbnails_made": rebuilt}
        return report

    def ensure_thumbnail(self, image_id: int, path: str) -> str | None:
        """The thumbnail of one image, made now if it has none yet (the Gallery calls this as it shows it)."""
        if not self.storage.exists(path):
            return None
        thumbnail = save_thumbnail(self.storage, self.storage.read(path))
        if thumbnail:
            self.queries.set_thumbnail([image_id], thumbnail)
        return thumbnail

    def backfill_thumbnails(self, need: dict[str, list[int]] | None = None) -> int:
        """Make thumbnails for images that have none (or whose thumbnail file is gone)."""
        if need is None:
            need = {}
            for image_id, path, thumb, _ in self.queries.file_rows():
                if self.storage.exists(path) and (not thumb or not self.storage.exists(thumb)):
                    need.setdefault(path, []).append(image_id)
        made = 0
        for path, ids in need.items():
            thumb = save_thumbnail(self.storage, self.storage.read(path))
            if thumb:
                self.queries.set_thumbnail(ids, thumb)
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
    fields["created_at"] = datetime.fromisoformat(created_at) if isinstance(created_at, str) else datetime.now(timezone.utc)
    return fields


def request_settings(generation: Generation) -> dict[str, Any]:
    """The request fields of a generation, by the API's names, for "use these settings"."""
    return {name: getattr(generation, name) for name in field_names() if name != "user"}


def describe_replacements(current: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human lines for each setting that changes, e.g. "quality: low → high"."""
    lines = []
    for name, value in new.items():
        before = current.get(name)
        if before != value:
            shown_before = _short(before)
            lines.append(f"{name}: {shown_before} → {_short(value)}")
    return lines


def _short(value: Any) -> str:
    if value is None or value == "":
        return "(empty)" if value == "" else "(not set)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
