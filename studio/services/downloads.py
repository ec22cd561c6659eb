"""What a Download button hands the browser: one file name for an image wherever it is offered, and
its bytes read only when the button is pressed (from a folder or a bucket)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from studio.files.storage import Location


@dataclass(frozen=True)
class Download:
    file_name: str
    mime: str
    data: Callable[[], bytes]


def image_download(generation_id: int, batch_index: int, format: str, location: Location) -> Download:
    return Download(f"studio-{generation_id}-{batch_index + 1}.{format}", "image/svg+xml" if format == "svg" else f"image/{format}", location.read_bytes)
