"""The doctor: do the gallery's rows and files agree? With `fix`, settle what it finds without ever
deleting an image (`python -m studio doctor [--fix]`)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path


from studio.core.errors import StudioError
from studio.db.archive import ArchiveRecords
from studio.db.errors import DatabaseError
from studio.files.content import IMAGES_FOLDER, UPLOADS_FOLDER
from studio.files.thumbnails import THUMBNAIL_FOLDER
from studio.services.intake import Member, add_files
from studio.services.studio import Studio
from studio.services.thumbnails import backfill_thumbnails


@dataclass
class DoctorReport:
    missing_files: list[str] = field(default_factory=list)  # rows whose original is gone
    stray_files: list[str] = field(default_factory=list)  # originals no row points to
    stray_thumbnails: list[str] = field(default_factory=list)  # thumbnails and temp files nothing uses
    missing_thumbnails: int = 0
    missing_sources: list[str] = field(default_factory=list)  # files edits were made from that are gone
    stray_uploads: list[str] = field(default_factory=list)  # uploaded edit inputs no edit keeps any more
    in_flight: list[str] = field(default_factory=list)  # too young to judge: in flight, left alone
    problems: list[str] = field(default_factory=list)  # what fixing met: e.g. a stray file's unusable metadata
    fixed: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not (self.missing_files or self.stray_files or self.stray_thumbnails or self.missing_thumbnails
                    or self.missing_sources or self.stray_uploads)


def doctor(studio: Studio, fix: bool = False, now: float | None = None) -> DoctorReport:
    """Compare rows and files. With fix: rows whose file is gone are dropped (the generation and its
    prompt stay), stray originals are taken back into the gallery with the metadata inside them
    (an image is never deleted here), stray thumbnails, uploads no edit keeps and temp files are
    removed, and missing thumbnails are rebuilt. A file younger than the longest a request can run
    may belong to a request still being saved: it is reported as in flight and left alone."""
    images, storage = studio.images, studio.storage
    report = DoctorReport()
    cutoff = (time.time() if now is None else now) - studio.settings.request_window_s
    rows = images.file_rows()
    sources = images.source_paths()  # edits keep their inputs: a gallery image's file or an upload
    used_paths = {path for _, path, _, _ in rows} | sources
    used_thumbs = {thumb for _, _, thumb, _ in rows if thumb}
    missing_ids = []
    need_thumb: dict[str, list[int]] = {}
    # One listing per folder, not a request per row (object storage).
    originals, thumbnails, uploads = (storage.listing(f) for f in (IMAGES_FOLDER, THUMBNAIL_FOLDER, UPLOADS_FOLDER))
    listed = set(originals) | set(thumbnails) | set(uploads)
    listed_folders = (IMAGES_FOLDER + "/", THUMBNAIL_FOLDER + "/", UPLOADS_FOLDER + "/")

    def present(relative: str) -> bool:
        return relative in listed if relative.startswith(listed_folders) else storage.exists(relative)

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
            report.stray_thumbnails += sorted(images.delete_image_rows(missing_ids))
        for relative in report.stray_thumbnails + report.stray_uploads:  # first: adopting a stray may make its thumbnail anew
            storage.delete(relative)
        adopted = 0
        for relative in report.stray_files:
            try:
                data = storage.read(relative)
            except FileNotFoundError:
                continue  # gone since the listing
            digest = hashlib.sha256(data).hexdigest()
            if images.known_sha256([digest]):
                continue  # the same image is in the gallery already; this copy is left for a person
            try:
                added = add_files(ArchiveRecords(studio.records.engine), storage, [Member(relative, {}, lambda data=data: data, digest)],
                                  report.problems)
            except StudioError as exc:  # not an image the studio keeps: left where it is for a person to look at
                report.problems.append(f"{relative}: {exc.message} Left where it is.")
                continue
            except (DatabaseError, ValueError, TypeError) as exc:  # last resort: values.py should have caught it
                report.problems.append(f"{relative}: could not be taken in ({type(exc).__name__}); left where it is.")
                continue
            if added is None:
                continue  # another process took the same bytes in meanwhile
            adopted += 1
            if Path(relative).stem != digest:  # stored again under its content address: drop the copy
                storage.delete(relative)
        rebuilt = backfill_thumbnails(storage, images, need_thumb)
        report.fixed = {"rows_dropped": len(missing_ids), "files_adopted": adopted,
                        "strays_removed": len(report.stray_thumbnails) + len(report.stray_uploads),
                        "thumbnails_made": rebuilt}
    return report
