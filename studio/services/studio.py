"""The studio's use cases: what the CLI, the pages and the tests call, the same way."""

from __future__ import annotations

import concurrent.futures
import functools
import re
import time
from dataclasses import dataclass, replace
from typing import Any, Sequence


from studio.provider.capabilities import Capabilities
from studio.provider.client import Client, StreamingRejected, make_client, send_request
from studio.core.config import DEMO_PROVIDER, Provider, Settings, clean_key, key_problem
from studio.provider.demo import shared_base_url
from studio.services.edits import EditImage, check_inputs, read_image
from studio.services.job_link import JobLink
from studio.core.errors import StudioError
from studio.files.filemeta import embed_metadata, file_metadata
from studio.db.browse import BrowseRecords
from studio.db.errors import READ_ONLY_MESSAGE, database_errors
from studio.db.generations import GenerationRecords
from studio.db.images import ImageRecords
from studio.db.lineage import Lineage
from studio.db.values import clean_revised_prompt
from studio.files.imagefile import inspect_image
from studio.db.models import Generation, Image
from studio.core.request import ImageRequest, ValidationError, validate
from studio.core.wire import InputFile, PartialCallback, ReturnedImage
from studio.files.storage import Location, Storage, open_storage
from studio.services.thumbnails import make_thumbnails_soon

DEMO_API_KEY = "demo-key"  # the in-process demo endpoint takes any key; this one is no secret
SAVE_WORKERS = 4


@functools.cache
def _savers() -> concurrent.futures.ThreadPoolExecutor:
    """Threads that write a batch's files side by side (see Studio._save_all)."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=SAVE_WORKERS, thread_name_prefix="studio-save")


@dataclass(frozen=True)
class SavedImage:
    id: int
    batch_index: int
    path: Location  # a Path in a local folder, an S3Object (str() is its s3:// URL) in a bucket
    width: int
    height: int
    format: str
    sha256: str
    bytes: int
    revised_prompt: str | None
    src: str = ""  # what st.image and a browser load: a local file's path or a presigned URL


@dataclass(frozen=True)
class Outcome:
    generation: Generation
    images: list[SavedImage]
    error: StudioError | None = None

    @property
    def generation_id(self) -> int:
        return self.generation.id

    @property
    def status(self) -> str:
        return self.generation.status

    @property
    def note(self) -> str | None:
        """What a user should know about a generation that succeeded, e.g. that fewer images came back than asked."""
        return self.generation.error_message if self.generation.status == "succeeded" else None


def demo_provider(provider: Provider) -> Provider:
    """The demo preset with the address of this process's own demo endpoint, started on first use."""
    if provider.key != DEMO_PROVIDER or provider.base_url:
        return provider
    return replace(provider, base_url=shared_base_url())


def redact(text: str, secret: str | None) -> str:
    """Belt and braces: a provider may echo part of the key in an error message."""
    return text.replace(secret, "[redacted]") if secret and len(secret) >= 4 else text


class Studio:
    def __init__(self, settings: Settings, records: GenerationRecords, storage: Storage):
        self.settings = settings
        self.records = records
        self.browse = BrowseRecords(records.engine)
        self.images = ImageRecords(records.engine)
        self.storage = storage

    @classmethod
    def open(cls, settings: Settings) -> "Studio":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings = replace(settings, provider=demo_provider(settings.provider))
        studio = cls(settings, GenerationRecords.open(settings.database_url), open_storage(settings.storage_url, settings.data_dir))
        studio.records.settle_interrupted(older_than_s=settings.request_window_s)
        return studio

    def with_settings(self, settings: Settings) -> "Studio":
        """The same gallery and storage, talking to another provider or model."""
        return Studio(replace(settings, provider=demo_provider(settings.provider)), self.records, self.storage)

    def client(self) -> Client:
        settings = self.settings
        key = DEMO_API_KEY if settings.provider.key == DEMO_PROVIDER else clean_key(settings.api_key)
        if not key:
            raise StudioError(settings.missing_key_message(), "no_api_key")
        problem = key_problem(key)
        if problem:  # refused here: sent, it would fail as "could not reach the provider" or worse
            raise StudioError(problem, "malformed_key")
        return make_client(settings.base_url, key, settings.timeout_s, settings.max_retries)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(self.settings.data_dir)

    def streams(self) -> bool | None:
        """Whether the current provider streams: False once it refused, True once it did, None untried."""
        return self.capabilities.streams(self.settings.provider)

    def generate(self, request: ImageRequest, on_partial: PartialCallback | None = None, job: JobLink | None = None) -> Outcome:
        """Validate, send, save the files, then commit the rows. Raises ValidationError before any request
        for bad input; every request that was sent is recorded, succeeded or failed.
        With `request.stream`, `on_partial(index, bytes)` sees each partial image as it arrives."""
        request = validate(request, self.settings.provider.accepts_response_format)
        return self._run(request, "generations", None, None, on_partial, job)

    def edit(
        self, request: ImageRequest, images: Sequence[EditImage], mask: bytes | None = None,
        on_partial: PartialCallback | None = None, job: JobLink | None = None,
    ) -> Outcome:
        """An edit of one or more reference images (the first one is the one edited), with an optional mask
        in the API's convention (see studio.mask). Saved like a generation, with links to its sources."""
        problems: list[str] = []  # the fields' and the files' problems are reported together
        try:
            request = validate(request, self.settings.provider.accepts_response_format, edit=True)
        except ValidationError as exc:
            problems.extend(exc.problems)
        try:
            check_inputs(images, mask)
        except ValidationError as exc:
            problems.extend(exc.problems)
        if problems:
            raise ValidationError(problems)
        return self._run(request, "edits", images, mask, on_partial, job)

    def lineage(self, image_id: int) -> Lineage:
        return self.records.lineage(image_id)

    def image(self, image_id: int) -> SavedImage:
        """One gallery image, e.g. to open it on the Edit page."""
        return self._saved_image(self.records.get_image(image_id))

    def edit_source(self, image_id: int) -> EditImage:
        """A gallery image as a reference image for an edit, linked to it for lineage."""
        saved = self.image(image_id)
        try:
            data = saved.path.read_bytes()
        except OSError:
            raise StudioError(f"The file of image #{image_id} is missing from the gallery's storage; pick another image.", "file_missing") from None
        return read_image(f"image-{image_id}.{saved.format}", data, image_id=image_id)

    def _store_sources(self, images: Sequence[EditImage], mask: bytes | None) -> list[dict[str, Any]]:
        """Keep an edit's input files before sending (gallery images already are: same bytes, same file)."""
        rows = []
        for position, item in enumerate(images):
            stored = self.storage.put(item.file.data, item.format, folder="images" if item.image_id else "uploads")
            rows.append({"position": position, "role": "image", "image_id": item.image_id, "filename": item.file.filename,
                         "path": stored.path, "sha256": stored.sha256, "width": item.width, "height": item.height,
                         "format": item.format, "bytes": stored.bytes})
        if mask is not None:
            facts = inspect_image(mask)
            stored = self.storage.put(mask, facts.format, folder="uploads")
            rows.append({"position": len(images), "role": "mask", "image_id": None, "filename": "mask.png",
                         "path": stored.path, "sha256": stored.sha256, "width": facts.width, "height": facts.height,
                         "format": facts.format, "bytes": stored.bytes})
        return rows

    def _run(
        self, request: ImageRequest, endpoint: str, images: Sequence[EditImage] | None, mask: bytes | None,
        on_partial: PartialCallback | None, job: JobLink | None = None,
    ) -> Outcome:
        self.records.check_writable()  # a read-only gallery: say so before a file is stored or a request sent
        client = self.client()
        provider = self.settings.provider
        if request.stream and self.streams() is False:
            request = replace(request, stream=False, partial_images=None)  # learnt earlier: it would be refused
        sources = self._store_sources(images, mask) if images is not None else []
        with database_errors():
            pending = self.records.start_generation(request, provider.key, provider.host, endpoint, sources)
        if job is not None:  # a background job: link it to its generation before the request goes
            job.recorded(pending.id)
        files = [item.file for item in images] if images is not None else None
        mask_file = InputFile("mask.png", mask, "image/png") if mask is not None else None
        started = time.perf_counter()
        written: list[str] = []
        try:
            try:
                result = send_request(client, request, images=files, mask=mask_file, on_partial=on_partial)
                if request.stream:
                    self.capabilities.note_stream(provider, True)
            except StreamingRejected:
                # Same request without streaming; remembered so the next one is not refused first.
                self.capabilities.note_stream(provider, False)
                with database_errors():
                    self.records.note_stream_fallback(pending)
                request = replace(request, stream=False, partial_images=None)
                result = send_request(client, request, images=files, mask=mask_file)
            if job is not None:
                job.check()  # cancelled while it ran: the answer is not kept
            rows, rejected = self._save_all(result.images, written, request)
            note = _short_batch_note(request.n or 1, len(result.images), rejected)
        except Exception as exc:  # recorded whatever it is: the prompt must not be lost
            exc = job.cancelled_error(exc) if job is not None else exc  # an abort reads as the cancel it was
            for path in written:  # a batch is kept whole or not at all
                self.storage.delete(path)
            if not isinstance(exc, StudioError):
                exc = StudioError(f"The request failed unexpectedly ({type(exc).__name__}); try again.", "unexpected")
            error = StudioError(redact(exc.message, clean_key(self.settings.api_key)), exc.code, exc.http_status)
            with database_errors():
                generation = self.records.fail_generation(pending, error, time.perf_counter() - started)
            return Outcome(generation, [], error)
        try:
            with database_errors():
                generation = self.records.finish_generation(pending, result, rows, note)
        except StudioError:
            # The rows could not be committed: take the new files back; the pending row is settled
            # as interrupted at the next start, so the prompt stays in the history.
            for path in written:
                self.storage.delete(path)
            raise
        # Thumbnails are made just after, off the caller's path: a decode + resize + encode per image would
        # add a third to a fast request, and the full image is what the caller shows first.
        outcome = Outcome(generation, self.saved_images(generation))
        make_thumbnails_soon(self.storage, self.images, [(image.id, image.path) for image in generation.images])
        return outcome

    def _save_all(self, images: Sequence[ReturnedImage], written: list[str],
                  request: ImageRequest) -> tuple[list[dict[str, Any]], list[tuple[int, StudioError]]]:
        """Every usable image of a batch into storage, and the (index, reason) of each item that is not an
        image the gallery can keep. One bad item does not cost the others, which were paid for; when none is
        usable the first reason is raised. A storage failure still fails the whole batch.

        Each write ends in an fsync (or an upload) that waits on the disk (or the network) without the GIL: a
        batch's writes go side by side, so n images cost about one wait, not n. Returns only once every write
        has ended, so a failure leaves nothing half-done behind."""
        if len(images) == 1:
            outcomes = [self._save(0, images[0], written, request)]
        else:
            futures = [_savers().submit(self._save, index, item, written, request) for index, item in enumerate(images)]
            concurrent.futures.wait(futures)
            outcomes = [future.result() for future in futures]  # a storage failure is raised, after all have finished
        rows = [row for row in outcomes if isinstance(row, dict)]
        rejected = [(index, problem) for index, problem in enumerate(outcomes) if isinstance(problem, StudioError)]
        if not rows:
            raise rejected[0][1]
        return rows, rejected

    def _save(self, index: int, item: ReturnedImage, written: list[str], request: ImageRequest) -> dict[str, Any] | StudioError:
        """The stored image's row, or why this item is not an image the gallery can keep."""
        if item.problem is not None:
            return item.problem
        data = item.data
        revised_prompt = clean_revised_prompt(item.revised_prompt)  # text only, storable: never costs the image
        try:
            facts = inspect_image(data)
        except StudioError as exc:
            return exc
        # The prompt and settings go inside the file before hashing, so the stored bytes carry them.
        data = embed_metadata(data, facts.format, file_metadata(request, revised_prompt, provider=self.settings.provider.key))
        stored = self.storage.put(data, facts.format)
        if stored.created:
            written.append(stored.path)
        return {
            "batch_index": index,
            "path": stored.path,
            "sha256": stored.sha256,
            "width": facts.width,
            "height": facts.height,
            "format": facts.format,
            "bytes": stored.bytes,
            "revised_prompt": revised_prompt,
        }

    def saved_images(self, generation: Generation) -> list[SavedImage]:
        return [self._saved_image(image) for image in generation.images]

    def _saved_image(self, image: Image) -> SavedImage:
        return SavedImage(
            id=image.id,
            batch_index=image.batch_index,
            path=self.storage.absolute(image.path),
            width=image.width,
            height=image.height,
            format=image.format,
            sha256=image.sha256,
            bytes=image.bytes,
            revised_prompt=image.revised_prompt,
            src=self.storage.source(image.path),
        )

    def outcome(self, generation_id: int) -> Outcome | None:
        try:
            generation = self.records.get(generation_id)
        except StudioError:
            return None
        return self.outcome_of(generation)

    def latest(self) -> Outcome | None:
        newest = self.records.recent(1)
        return self.outcome_of(newest[0]) if newest else None

    @property
    def read_only_notice(self) -> str | None:
        """What every page says when the gallery opened read-only: browsing works, saving does not."""
        return READ_ONLY_MESSAGE if self.records.read_only else None

    def outcome_of(self, generation: Generation) -> Outcome:
        """A stored generation as the outcome pages and the CLI show: a failed one carries its error."""
        error = StudioError(generation.error_message or "failed", generation.error_code or "error", generation.http_status) if generation.status == "failed" else None
        return Outcome(generation, self.saved_images(generation), error)

    def recent(self, limit: int = 20) -> list[Outcome]:
        return [self.outcome_of(g) for g in self.records.recent(limit)]


def _short_batch_note(asked: int, returned: int, rejected: Sequence[tuple[int, StudioError]]) -> StudioError | None:
    """What a success must say when the batch is smaller than asked: the provider sent fewer, or some of what
    it sent could not be kept (said per image, so the user knows why)."""
    kept = returned - len(rejected)
    if not rejected:
        return StudioError(f"{returned} of {asked} images returned: the provider sent fewer than asked.",
                           "fewer_images") if returned < asked else None
    # "…; nothing was kept." is true of a request, not of this batch: only the reason is said.
    reasons = "; ".join(f"image {index + 1}: {re.sub(r'[;.]? *(nothing was kept|try again)[.;]?', '', problem.message).rstrip(' .;')}"
                        for index, problem in rejected)
    return StudioError(f"{kept} of {asked} images kept: the provider sent {returned}, and {len(rejected)} could not be kept "
                       f"({reasons})", "fewer_images")
