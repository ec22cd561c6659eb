"""What becomes of a provider's answer: its images checked and stored, then the generation committed as
succeeded (or, when the request failed, recorded as failed with its files taken back). Shared by a request
answered at once (services/studio.py) and a provider task polled later (services/tasks.py), so both keep
images exactly the same way."""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import threading
import functools
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from studio.core.config import Settings, clean_key
from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.core.wire import ApiResult, ReturnedImage
from studio.db.errors import database_errors
from studio.db.generations import GenerationRecords
from studio.db.images import ImageRecords
from studio.db.vectors import VectorRecords
from studio.db.models import Generation
from studio.db.values import clean_revised_prompt
from studio.files.filemeta import embed_metadata, file_metadata
from studio.files.imagefile import inspect_image, keepable
from studio.files.storage import Location, Storage
from studio.services.meaning_index import index_soon
from studio.services.thumbnails import make_thumbnails_soon

SAVE_WORKERS = 4


@functools.cache
def _savers() -> concurrent.futures.ThreadPoolExecutor:
    """Threads that write a batch's files side by side (see _save_all)."""
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

class Keeper(Protocol):
    """What keeping a result needs of a Studio (services/studio.py)."""

    settings: Settings
    records: GenerationRecords
    images: ImageRecords
    vectors: VectorRecords
    storage: Storage

    def saved_images(self, generation: Generation) -> list[SavedImage]: ...


_committed = itertools.count(1)
_last_commit = 0
# (change number, gallery database URL, the generation committed there), or (change number, None, None) for
# any other change, newest last: lets a cache of gallery totals add what was committed since its read
# instead of reading everything again.
_changes: collections.deque[tuple[int, str | None, int | None]] = collections.deque(maxlen=4096)
_changes_lock = threading.Lock()


def commits_so_far() -> int:
    """How many changes to the gallery's rows this process has made (generations committed as succeeded or
    failed, items deleted): what a cache of gallery totals, or an open Gallery's window, is checked against."""
    return _last_commit


def note_change() -> None:
    """A change to the gallery's rows other than a commit (a delete, an import)."""
    _note(None, None)


def committed_since(change: int, database_url: str) -> list[int] | None:
    """The generations this process committed to that gallery after change number `change` (each once), or
    None when something else changed meanwhile (a delete, an import) or that far back is no longer known."""
    with _changes_lock:
        if _last_commit == change:
            return []
        later = [entry for entry in _changes if entry[0] > change]
        if not later or later[0][0] != change + 1 or any(generation_id is None for _, _, generation_id in later):
            return None
        return [generation_id for _, url, generation_id in later if url == database_url and generation_id is not None]


def _note(database_url: str | None, generation_id: int | None) -> None:
    global _last_commit
    with _changes_lock:
        _last_commit = next(_committed)
        _changes.append((_last_commit, database_url, generation_id))


def redact(text: str, secret: str | None) -> str:
    """Belt and braces: a provider may echo part of the key in an error message."""
    return text.replace(secret, "[redacted]") if secret and len(secret) >= 4 else text


def save_files(studio: Keeper, result: ApiResult, request: ImageRequest,
               written: list[str]) -> tuple[list[dict[str, Any]], StudioError | None]:
    """Every usable image of the answer into storage (each path written is added to `written`): the image rows
    to commit, and what a success must say when fewer were kept than asked."""
    rows, rejected = _save_all(studio, result.images, written, request)
    return rows, _short_batch_note(request.n or 1, len(result.images), rejected)


def commit(studio: Keeper, pending: Generation, result: ApiResult, rows: Sequence[dict[str, Any]],
           note: StudioError | None, written: Sequence[str]) -> Outcome:
    """The generation as succeeded with its images, in one transaction; then its thumbnails, off this path."""
    try:
        with database_errors():
            generation = studio.records.finish_generation(pending, result, rows, note)
        _note(studio.settings.database_url, generation.id)
    except StudioError:
        # The rows could not be committed: take the new files back; the pending row is settled
        # as interrupted at the next start (or its task polled again), so the prompt stays in the history.
        for path in written:
            studio.storage.delete(path)
        raise
    # Thumbnails are made just after, off the caller's path: a decode + resize + encode per image would
    # add a third to a fast request, and the full image is what the caller shows first.
    outcome = Outcome(generation, studio.saved_images(generation))
    make_thumbnails_soon(studio.storage, studio.images, [(image.id, image.path) for image in generation.images])
    index_soon(studio.vectors, [generation.id])  # its prompt's vectors, for search by meaning
    return outcome


def record_failure(studio: Keeper, pending: Generation, exc: Exception, written: Sequence[str], started: float) -> Outcome:
    """The request failed: its files are taken back (a batch is kept whole or not at all), the failure recorded."""
    for path in written:
        studio.storage.delete(path)
    if not isinstance(exc, StudioError):
        exc = StudioError(f"The request failed unexpectedly ({type(exc).__name__}); try again.", "unexpected")
    error = StudioError(redact(exc.message, clean_key(studio.settings.api_key)), exc.code, exc.http_status)
    with database_errors():
        generation = studio.records.fail_generation(pending, error, time.perf_counter() - started)
    _note(studio.settings.database_url, generation.id)  # its tile in an open Gallery says failed, not pending
    index_soon(studio.vectors, [generation.id])  # a refused prompt is found by meaning too
    return Outcome(generation, [], error)


def _save_all(studio: Keeper, images: Sequence[ReturnedImage], written: list[str],
              request: ImageRequest) -> tuple[list[dict[str, Any]], list[tuple[int, StudioError]]]:
    """Every usable image of a batch into storage, and the (index, reason) of each item that is not an
    image the gallery can keep. One bad item does not cost the others, which were paid for; when none is
    usable the first reason is raised. A storage failure still fails the whole batch.

    Each write ends in an fsync (or an upload) that waits on the disk (or the network) without the GIL: a
    batch's writes go side by side, so n images cost about one wait, not n. Returns only once every write
    has ended, so a failure leaves nothing half-done behind."""
    if len(images) == 1:
        outcomes = [_save(studio, 0, images[0], written, request)]
    else:
        futures = [_savers().submit(_save, studio, index, item, written, request) for index, item in enumerate(images)]
        concurrent.futures.wait(futures)
        outcomes = [future.result() for future in futures]  # a storage failure is raised, after all have finished
    rows = [row for row in outcomes if isinstance(row, dict)]
    rejected = [(index, problem) for index, problem in enumerate(outcomes) if isinstance(problem, StudioError)]
    if not rows:
        raise rejected[0][1]
    return rows, rejected

def _save(studio: Keeper, index: int, item: ReturnedImage, written: list[str], request: ImageRequest) -> dict[str, Any] | StudioError:
    """The stored image's row, or why this item is not an image the gallery can keep."""
    if item.problem is not None:
        return item.problem
    data = item.data
    revised_prompt = clean_revised_prompt(item.revised_prompt)  # text only, storable: never costs the image
    try:
        data, _removed = keepable(data)  # an SVG's scripts and external references never reach the disk
        facts = inspect_image(data)
    except StudioError as exc:
        return exc
    # The prompt and settings go inside the file before hashing, so the stored bytes carry them.
    data = embed_metadata(data, facts.format, file_metadata(request, revised_prompt, provider=studio.settings.provider.key))
    stored = studio.storage.put(data, facts.format)
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
