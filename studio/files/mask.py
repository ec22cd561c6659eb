"""Edit masks in the API's convention: a PNG the size of the first image whose transparent pixels
mark what to change (opaque pixels are kept).

People make masks two ways: by painting over the image on a canvas (painted pixels = the area to
change), or by uploading a PNG already in the API's convention. Both end here as PNG bytes checked
against the first image's size, before any request is sent.
"""

from __future__ import annotations

import io

from PIL import Image

from studio.core.request import ValidationError

PAINTED_ALPHA = 16  # canvas pixels at least this opaque count as painted (anti-aliased stroke edges are faint)


def _open(data: bytes, what: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        raise ValidationError([f"The {what} is not an image Pillow can open; upload a PNG."]) from None
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def mask_from_drawing(drawing: bytes | Image.Image, size: tuple[int, int]) -> bytes | None:
    """Turn a canvas drawing (RGBA; painted pixels mark the area to change) into an API mask of `size`.

    The canvas is usually shown smaller than the image, so the drawing is scaled to the image's size.
    Returns None when nothing was painted: then no mask is sent and the model may change the whole image.
    """
    image = drawing if isinstance(drawing, Image.Image) else _open(drawing, "drawing")
    alpha = image.convert("RGBA").getchannel("A")
    if alpha.getextrema()[1] < PAINTED_ALPHA:
        return None
    painted = alpha.resize(size, Image.Resampling.BILINEAR).point(lambda a: 255 if a >= PAINTED_ALPHA else 0)
    # API convention: alpha 0 where painted (change), 255 elsewhere (keep).
    keep = painted.point(lambda a: 0 if a else 255)
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.putalpha(keep)
    return _png(mask)


def mask_from_upload(data: bytes, size: tuple[int, int]) -> bytes:
    """Check an uploaded mask: a PNG with an alpha channel, some pixels fully transparent, the first image's size."""
    image = _open(data, "mask")
    problems = []
    if image.format != "PNG":
        problems.append(f"The mask is a {image.format} file; upload a PNG (its transparent pixels mark what to change).")
    if image.size != tuple(size):
        problems.append(
            f"The mask is {image.size[0]}x{image.size[1]} but the first image is {size[0]}x{size[1]}; "
            "resize the mask to the first image's size, or draw the mask instead."
        )
    if not problems:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        if not has_alpha or image.convert("RGBA").getchannel("A").getextrema()[0] > 0:
            problems.append(
                "The mask has no transparent pixels, so nothing would change; make the area to change "
                "transparent (alpha 0), or draw the mask instead."
            )
    if problems:
        raise ValidationError(problems)
    return data


def changed_fraction(mask: bytes) -> float:
    """The share of pixels the mask lets the model change (its fully transparent pixels)."""
    alpha = _open(mask, "mask").convert("RGBA").getchannel("A")
    histogram = alpha.histogram()
    return histogram[0] / max(1, sum(histogram))
