"""What the Edit page takes in: reference images (from the gallery or uploaded) and the mask, each
problem returned as a line to show rather than raised."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from studio.core.errors import StudioError
from studio.core.request import ValidationError
from studio.files.mask import changed_fraction, mask_from_drawing, mask_from_upload
from studio.services.edits import EditImage, read_image
from studio.services.studio import Studio


@dataclass(frozen=True)
class Mask:
    """A mask in the API's convention, and the share of the first image it lets the model change."""

    data: bytes
    changed: float


def gather_images(studio: Studio, gallery_ids: Sequence[int], uploads: Sequence[tuple[str, bytes]]) -> tuple[list[EditImage], list[str]]:
    """Gallery picks first (in the order picked), then uploads (name, bytes); every problem is returned, none raised."""
    images: list[EditImage] = []
    problems: list[str] = []
    for image_id in gallery_ids:
        try:
            images.append(studio.edit_source(image_id))
        except ValidationError as exc:
            problems.extend(exc.problems)
        except StudioError as exc:
            problems.append(exc.message)
    for name, data in uploads:
        try:
            images.append(read_image(name, data))
        except ValidationError as exc:
            problems.extend(exc.problems)
    return images, problems


def read_mask_upload(data: bytes, size: tuple[int, int]) -> tuple[Mask | None, list[str]]:
    """An uploaded PNG mask in the API's convention, or the problems with it."""
    try:
        mask = mask_from_upload(data, size)
    except ValidationError as exc:
        return None, exc.problems
    return Mask(mask, changed_fraction(mask)), []


def drawn_mask(drawing: bytes, size: tuple[int, int]) -> Mask | None:
    """The mask painted over the first image on the canvas, or None while nothing is painted."""
    mask = mask_from_drawing(drawing, size)
    return Mask(mask, changed_fraction(mask)) if mask else None


def image_fingerprint(image: EditImage) -> tuple[int | None, str]:
    """What makes two reference images the same input: where it came from and its bytes."""
    return image.image_id, hashlib.sha256(image.file.data).hexdigest()
