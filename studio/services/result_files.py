"""Whether a result's image files are still where its rows say (in a folder or a bucket), so a page
names the missing one instead of failing on it (and shows no server path)."""

from __future__ import annotations

from typing import Iterable

from studio.services.studio import SavedImage


def missing_images(images: Iterable[SavedImage]) -> set[int]:
    """The ids of the images whose file is gone (one stat, or one HEAD request in a bucket, per image)."""
    return {image.id for image in images if not image.path.is_file()}


def missing_message(image_id: int) -> str:
    return f"The file of image {image_id} is missing; run `python -m studio doctor` to see what else is, and `--fix` to settle it."
