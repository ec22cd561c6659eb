"""The studio's use cases: what the CLI, the pages and the tests call, the same way."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Sequence


from studio.provider.capabilities import Capabilities
from studio.provider.client import Client, StreamingRejected, make_client, send_request
from studio.provider.tasks import TaskPending
from studio.core.config import DEMO_PROVIDER, Provider, Settings, clean_key, key_problem
from studio.provider.demo import shared_base_url
from studio.services.edits import EditImage, check_inputs, read_image
from studio.services.job_link import JobLink
from studio.core.errors import StudioError
from studio.db.browse import BrowseRecords
from studio.db.errors import READ_ONLY_MESSAGE, database_errors
from studio.db.generations import GenerationRecords
from studio.db.images import ImageRecords
from studio.db.lineage import Lineage
from studio.db.vectors import VectorRecords
from studio.files.imagefile import inspect_image
from studio.db.models import Generation, Image
from studio.core.catalog import Catalog, load_catalog
from studio.core.request import ImageRequest, ValidationError, validate
from studio.core.wire import InputFile, PartialCallback
from studio.files.storage import Storage, open_storage
from studio.services.results import Outcome, SavedImage, commit, record_failure, redact, save_files
from studio.services.tasks import following

__all__ = ["Outcome", "SavedImage", "Studio", "demo_provider", "redact"]  # Outcome and SavedImage live in services/results.py

DEMO_API_KEY = "demo-key"  # the in-process demo endpoint takes any key; this one is no secret


def demo_provider(provider: Provider) -> Provider:
    """The demo preset with the address of this process's own demo endpoint, started on first use."""
    if provider.key != DEMO_PROVIDER or provider.base_url:
        return provider
    return replace(provider, base_url=shared_base_url())


class Studio:
    def __init__(self, settings: Settings, records: GenerationRecords, storage: Storage):
        self.settings = settings
        self.records = records
        self.browse = BrowseRecords(records.engine)
        self.images = ImageRecords(records.engine)
        self.vectors = VectorRecords(records.engine)  # prompt vectors, for search by meaning
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

    @property
    def catalog(self) -> Catalog:
        """The model catalog, with this data folder's catalog.toml layered over the shipped one."""
        return load_catalog(self.settings.data_dir)

    def streams(self) -> bool | None:
        """Whether the current provider streams: False once it refused, True once it did, None untried."""
        return self.capabilities.streams(self.settings.provider)

    def generate(self, request: ImageRequest, on_partial: PartialCallback | None = None,
                 prompt_parent_id: int | None = None, job: JobLink | None = None) -> Outcome:
        """Validate, send, save the files, then commit the rows. Raises ValidationError before any request
        for bad input; every request that was sent is recorded, succeeded or failed.
        With `request.stream`, `on_partial(index, bytes)` sees each partial image as it arrives.
        `prompt_parent_id`: the generation whose prompt this one's was edited from (its prompt versions);
        `job`: the background job that runs it (services/jobs.py), for its link and its cancel."""
        request = validate(request, self.settings.provider.accepts_response_format, catalog=self.catalog)
        return self._run(request, "generations", None, None, on_partial, prompt_parent_id, job)

    def edit(
        self, request: ImageRequest, images: Sequence[EditImage], mask: bytes | None = None,
        on_partial: PartialCallback | None = None, job: JobLink | None = None,
    ) -> Outcome:
        """An edit of one or more reference images (the first one is the one edited), with an optional mask
        in the API's convention (see studio.mask). Saved like a generation, with links to its sources."""
        request = self.check_edit(request, images, mask)
        return self._run(request, "edits", images, mask, on_partial, job=job)

    def check_edit(self, request: ImageRequest, images: Sequence[EditImage], mask: bytes | None) -> ImageRequest:
        """The edit's request, validated; raises ValidationError with the fields' and the files' problems
        together, before anything is recorded or sent."""
        problems: list[str] = []
        try:
            request = validate(request, self.settings.provider.accepts_response_format, edit=True, catalog=self.catalog)
        except ValidationError as exc:
            problems.extend(exc.problems)
        try:
            check_inputs(images, mask)
        except ValidationError as exc:
            problems.extend(exc.problems)
        if mask is not None and request.output_format == "gif":  # OpenAI's reference: gif output takes no mask
            problems.append("gif output takes no mask; remove the mask or pick another output_format.")
        if problems:
            raise ValidationError(problems)
        return request

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
        on_partial: PartialCallback | None, prompt_parent_id: int | None = None, job: JobLink | None = None,
    ) -> Outcome:
        self.records.check_writable()  # a read-only gallery: say so before a file is stored or a request sent
        client = self.client()
        provider = self.settings.provider
        if request.stream and (self.streams() is False or provider.tasks.sends_as_task(request.model)):
            # Learnt earlier that it would be refused, or sent as a provider task (task paths do not stream).
            request = replace(request, stream=False, partial_images=None)
        sources = self._store_sources(images, mask) if images is not None else []
        with database_errors():
            pending = self.records.start_generation(request, provider.key, provider.host, endpoint, sources, prompt_parent_id)
        if job is not None:  # a background job: link it to its generation before the request goes
            job.recorded(pending.id)
        files = [item.file for item in images] if images is not None else None
        mask_file = InputFile("mask.png", mask, "image/png") if mask is not None else None
        started = time.perf_counter()
        written: list[str] = []
        with following(self.records, pending) as task:  # a provider task's id is kept before it is polled
            hooks = {"tasks": provider.tasks, "on_task": task.keep, "on_task_status": task.status}
            try:
                try:
                    result = send_request(client, request, images=files, mask=mask_file, on_partial=on_partial, **hooks)
                    if request.stream:
                        self.capabilities.note_stream(provider, True)
                except StreamingRejected:
                    # Same request without streaming; remembered so the next one is not refused first.
                    self.capabilities.note_stream(provider, False)
                    with database_errors():
                        self.records.note_stream_fallback(pending)
                    request = replace(request, stream=False, partial_images=None)
                    result = send_request(client, request, images=files, mask=mask_file, **hooks)
                if job is not None:
                    job.check()  # cancelled while it ran: the answer is not kept
                rows, note = save_files(self, result, request, written)
            except TaskPending as exc:  # not done in time: the row stays pending with its task id, to be resumed
                return task.kept(exc)
            except Exception as exc:  # recorded whatever it is: the prompt must not be lost
                exc = job.cancelled_error(exc) if job is not None else exc  # an abort reads as the cancel it was
                return record_failure(self, pending, exc, written, started)
            return commit(self, pending, result, rows, note, written)

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
