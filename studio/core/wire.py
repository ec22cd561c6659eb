"""The types that cross the provider boundary: what a request uploads and what the provider's answer
becomes. They live in core so that the gallery's records and the edit inputs can name them without
importing the client (and with it `openai`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from studio.core.errors import StudioError

# Called with (partial_image_index, image bytes) as each partial image of a streamed request arrives.
PartialCallback = Callable[[int, bytes], None]


@dataclass(frozen=True)
class ReturnedImage:
    data: bytes
    revised_prompt: Any  # as the provider sent it (values.clean_revised_prompt makes it storable text)
    # Why this item of the answer could not be read (bad base64, no data, a failed download); `data` is then
    # empty. One unusable item must not cost the batch's other, paid-for images.
    problem: StudioError | None = None


@dataclass(frozen=True)
class ApiResult:
    images: list[ReturnedImage]
    created: int | None
    usage: dict[str, Any] | None
    size: str | None
    quality: str | None
    background: str | None
    output_format: str | None
    latency_s: float


@dataclass(frozen=True)
class InputFile:
    """A file to upload to /images/edits. The MIME type is always sent: without it some servers
    take the upload for application/octet-stream and refuse it."""

    filename: str
    data: bytes
    mime: str

    def as_tuple(self) -> tuple[str, bytes, str]:
        return (self.filename, self.data, self.mime)


@dataclass(frozen=True)
class TaskRef:
    """A provider-side task that will deliver a request's images: kept with the request before it is polled,
    so that another process can poll it again (a paid image is never lost)."""

    task_id: str
    poll_path: str  # relative to the base URL, e.g. "/tasks/abc"
    submitted_at: float  # unix seconds
    expires_at: float | None = None  # unix seconds, when the provider said


@dataclass(frozen=True)
class TaskState:
    """One poll's answer: the normalised status (core/task_api.py), the provider's own word, and its reason."""

    status: str
    word: str
    message: str | None = None
    progress: Any = None


TaskCallback = Callable[[TaskRef], None]  # the task id is known: store it before anything else happens
TaskStatusCallback = Callable[[TaskState], None]  # each poll's status, e.g. to show or store it
