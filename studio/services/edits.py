"""Inputs of an edit: reference images (uploaded or from the gallery) read and checked before sending."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from studio.files.imagefile import DamagedImage, ImageTooLarge, decode_whole
from studio.core.wire import InputFile
from studio.files.mask import mask_from_upload
from studio.core.request import ValidationError

MAX_EDIT_IMAGES = 16
MAX_INPUT_BYTES = 50 * 1024 * 1024
INPUT_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


@dataclass(frozen=True)
class EditImage:
    """One reference image: its bytes as sent, what Pillow says it is, and the gallery image it came from."""

    file: InputFile
    width: int
    height: int
    format: str  # png, jpeg or webp
    image_id: int | None = None  # None: uploaded, not (yet) in the gallery

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


def read_image(filename: str, data: bytes, image_id: int | None = None) -> EditImage:
    """Check one reference image (PNG, WebP or JPEG under 50 MB, judged by its bytes, not its name)."""
    if len(data) >= MAX_INPUT_BYTES:
        raise ValidationError([f"{filename} is {len(data) / 2**20:.0f} MB; each image must be under 50 MB. Resize or compress it."])
    try:
        fmt, width, height = decode_whole(data)  # decoded in full: verify() passed a JPEG cut to a third
    except DamagedImage:
        raise ValidationError([f"{filename} is cut short or damaged: it does not decode whole. Upload the file again or re-save it."]) from None
    except ImageTooLarge:
        raise ValidationError([f"{filename} has too many pixels to open safely; resize it below 3840x2160 first."]) from None
    except Exception:
        raise ValidationError([f"{filename} is not an image that can be opened; upload a PNG, WebP or JPEG."]) from None
    if fmt not in INPUT_FORMATS:
        raise ValidationError([f"{filename} is a {fmt} image; edits take PNG, WebP or JPEG. Convert it first."])
    kind = INPUT_FORMATS[fmt]
    return EditImage(InputFile(filename, data, f"image/{kind}"), width, height, kind, image_id)


def check_inputs(images: Sequence[EditImage], mask: bytes | None) -> None:
    """Raise ValidationError listing every problem with the set of reference images and the mask."""
    problems = []
    if not images:
        problems.append("An edit needs at least one reference image; upload one or pick one from the gallery.")
    elif len(images) > MAX_EDIT_IMAGES:
        problems.append(f"{len(images)} reference images were given; use at most {MAX_EDIT_IMAGES}.")
    if mask is not None and images:
        try:
            mask_from_upload(mask, images[0].size)  # raises ValidationError unless it is a mask the API takes
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
