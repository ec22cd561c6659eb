"""Files the command line names by path (a local file, or an s3:// URL as `generate` prints for a bucket): an
image or mask to edit, and the prompt and settings an image file carries inside it (`inspect`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.errors import StudioError
from studio.files.filemeta import read_metadata
from studio.files.storage import read_location
from studio.services.intake import embedded_problems


def read_input(location: str, what: str) -> bytes:
    try:
        return read_location(location)
    except OSError as exc:
        raise StudioError(f"Cannot read the {what} {location} ({exc.strerror or 'not found'}); check the path.",
                          "unreadable_file") from None


@dataclass(frozen=True)
class Inspection:
    metadata: dict[str, Any]
    problems: list[str]  # values the gallery could not hold: an import or the doctor would leave them out


def inspect_file(location: str) -> Inspection:
    """The metadata inside an image file; a StudioError (one line, naming the file) when there is none to show."""
    try:
        data = read_location(location)
    except OSError:
        raise StudioError(f"there is no file {location}; give the path of a PNG, JPEG or WebP image.", "no_file") from None
    try:
        metadata = read_metadata(data)
    except StudioError as exc:  # not an image, or metadata that is not a JSON object
        raise StudioError(f"{location}: {exc.message}", exc.code) from None
    if metadata is None:
        raise StudioError(f"{location} carries no Image Studio metadata.", "no_metadata")
    return Inspection(metadata, embedded_problems(metadata))
