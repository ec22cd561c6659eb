"""What the Edit page takes in: reference images (from the gallery or uploaded) and the mask, each
problem returned as a line to show rather than raised."""

from __future__ import annotations

import hashlib
from typing import Sequence

from studio.core.errors import StudioError
from studio.core.request import ValidationError
from studio.files.mask import changed_fraction, mask_from_drawing, mask_from_upload
from studio.services.edits import MAX_EDIT_IMAGES, EditImage, read_image
from studio.services.studio import Studio

__all__ = ["MAX_EDIT_IMAGES", "EditImage", "changed_fraction", "gather_images", "image_fingerprint", "mask_from_drawing", "read_mask_upload"]


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


def read_mask_upload(data: bytes, size: tuple[int, int]) -> tuple[bytes | None, list[str]]:
    """An uploaded PNG mask in the API's convention, or the problems with it."""
    try:
        return mask_from_upload(data, size), []
    except ValidationError as exc:
        return None, exc.problems


def image_fingerprint(image: EditImage) -> tuple[int | None, str]:
    """What makes two reference images the same input: where it came from and its bytes."""
    return image.image_id, hashlib.sha256(image.file.data).hexdigest()
