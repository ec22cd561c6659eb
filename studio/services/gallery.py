"""The Gallery's use cases over one studio's rows and files: a page, an item's detail, favourites,
collections, delete and the cost shown beside an image. Export and import
(`archive.py`), the doctor (`doctor.py`) and thumbnails (`thumbnails.py`) have their own modules; the
service hands them on so the pages and the CLI call one object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Sequence

from studio.core.config import ConfigError
from studio.core.errors import StudioError
from studio.core.pricing import NO_PRICE, format_usd, generation_cost, load_prices
from studio.core.browsing import GalleryFilter, Page
from studio.db.models import Generation, Image
from studio.files.storage import Location
from studio.services import meaning, thumbnails
from studio.services.archive import Archive, ExportReport, ImportReport
from studio.services.doctor import DoctorReport, doctor
from studio.services.results import note_change
from studio.services.studio import Studio


@dataclass(frozen=True)
class Detail:
    generation: Generation
    image: Image | None
    collections: list[str]
    file_exists: bool
    absolute_path: Location | None  # a Path, or an S3Object (str() is its s3:// URL)
    src: str | None = None  # what st.image and the browser load: the file's path or a presigned URL


class GalleryService:
    """The gallery's use cases over one studio's rows and files (built from the `Studio` that owns them)."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.records = studio.records
        self.browse = studio.browse
        self.images = studio.images
        self.storage = studio.storage
        self.settings = studio.settings
        self.data_dir = studio.settings.data_dir  # pricing.toml and the in-flight window live with the settings

    # --- browsing -------------------------------------------------------------------------------

    def page(self, filters: GalleryFilter, sort: str = "newest", limit: int = 24, after: str | None = None,
             before: str | None = None) -> Page:
        if meaning.uses_meaning(filters):  # closest in meaning first (studio/services/meaning.py)
            return meaning.ranked_page(self.studio, filters, limit, after, before)
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
        return self.images.set_favourite(image_ids, value)

    def add_to_collection(self, name: str, image_ids: Iterable[int]) -> int:
        return self.images.add_to_collection(name, image_ids)

    def delete(self, items: Sequence[tuple[int, int | None]]) -> int:
        """Delete the items (rows first, then the files no other row shares); returns files removed."""
        unused = self.images.delete(items)
        note_change()  # the spend totals count the images that are left
        for path in unused:
            self.storage.delete(path)
        return len(unused)

    # --- handed on: export and import, the doctor, thumbnails -----------------------------------

    def export_zip(self, image_ids: Sequence[int]) -> bytes:
        return Archive(self.studio).export_zip(image_ids)

    def export_file(self, image_ids: Sequence[int], target: str | Path, force: bool = False) -> ExportReport:
        return Archive(self.studio).export_file(image_ids, target, force)

    def import_zip(self, source: str | Path | IO[bytes] | bytes) -> ImportReport:
        return Archive(self.studio).import_zip(source)

    def doctor(self, fix: bool = False, now: float | None = None) -> DoctorReport:
        return doctor(self.studio, fix, now)

    def request_window_s(self) -> float:
        return self.settings.request_window_s

    def ensure_thumbnail(self, image_id: int, path: str) -> str | None:
        return thumbnails.ensure_thumbnail(self.storage, self.images, image_id, path)

    def backfill_thumbnails(self) -> int:
        """Make thumbnails for images that have none (or whose thumbnail file is gone)."""
        need: dict[str, list[int]] = {}
        for image_id, path, thumb, _ in self.images.file_rows():
            if self.storage.exists(path) and (not thumb or not self.storage.exists(thumb)):
                need.setdefault(path, []).append(image_id)
        return thumbnails.backfill_thumbnails(self.storage, self.images, need)
