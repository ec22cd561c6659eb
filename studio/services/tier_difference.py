"""Did the dearer tier change the picture at all? A perceptual difference score for each pair of adjacent
quality tiers in a row of a Compare grid (low ↔ medium, medium ↔ high), from the images already saved.

It is computed when a saved comparison is shown, never while a request runs, from each image's
perceptual hash (`files/fingerprint.py`). Hashes are cached in memory per sha256 (files are content
addressed, so a sha256 is one picture wherever it is stored): re-opening a grid costs nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

from studio.files.fingerprint import HASH_BITS, Fingerprint, bits_apart, perceptual_hash
from studio.services.compare import CellResult, grid_rows
from studio.services.studio import SavedImage

# Of the hash's 256 bits: the same picture re-encoded as JPEG moves up to about 4; the demo endpoint's
# extra detail per tier (a ring of small dots) moves 6 to 40; an unrelated picture about 128.
NEARLY_IDENTICAL_BITS = 8
CHANGED_IN_PLACES_BITS = 48
UNRELATED_BITS = HASH_BITS // 2  # similarity 0
CACHE_SIZE = 4096  # 4,096 hashes of 32 bytes each

_hashes: OrderedDict[str, Fingerprint] = OrderedDict()
_lock = threading.Lock()


def image_hash(image: SavedImage) -> Fingerprint:
    """The perceptual hash of a saved image, read and hashed once per sha256 per process."""
    with _lock:
        found = _hashes.get(image.sha256)
        if found is not None:
            _hashes.move_to_end(image.sha256)
            return found
    computed = perceptual_hash(image.path.read_bytes())
    with _lock:
        _hashes[image.sha256] = computed
        while len(_hashes) > CACHE_SIZE:
            _hashes.popitem(last=False)
    return computed


def similarity(bits: float) -> float:
    """1.0 for the same picture, 0.0 for pictures as different as two unrelated ones."""
    return max(0.0, 1.0 - bits / UNRELATED_BITS)


def verdict(bits: float) -> str:
    if bits <= NEARLY_IDENTICAL_BITS:
        return "nearly identical"
    if bits <= CHANGED_IN_PLACES_BITS:
        return "changed in places"
    return "changed a lot"


@dataclass(frozen=True)
class PairDifference:
    """Two neighbouring cells of one grid row and how far apart their pictures are."""

    left: str  # the cells' labels, e.g. "quality low"
    right: str
    bits: float | None  # mean differing hash bits over the images paired by batch index; None: nothing to compare
    reason: str = ""  # why there is no score

    @property
    def similarity(self) -> float | None:
        return None if self.bits is None else similarity(self.bits)

    @property
    def label(self) -> str:
        if self.bits is None:
            return self.reason
        return f"{verdict(self.bits)} · {similarity(self.bits):.2f} similar"


def compare_images(left: Sequence[SavedImage], right: Sequence[SavedImage]) -> tuple[float | None, str]:
    """Mean differing bits of image 1 with image 1, image 2 with image 2, ... (None and why when none pair)."""
    pairs = list(zip(sorted(left, key=lambda i: i.batch_index), sorted(right, key=lambda i: i.batch_index)))
    if not pairs:
        return None, "nothing to compare: a cell has no image"
    try:
        distances = [bits_apart(image_hash(a), image_hash(b)) for a, b in pairs]
    except Exception:  # a file gone from its folder or bucket, or one Pillow cannot read: a score is never worth an error page
        return None, "not compared: an image file cannot be read"
    return sum(distances) / len(distances), ""


def pair_difference(left: CellResult, right: CellResult) -> PairDifference:
    if left.outcome is None or right.outcome is None or left.status != "succeeded" or right.status != "succeeded":
        return PairDifference(_tier(left), _tier(right), None, "nothing to compare: a cell did not succeed")
    bits, reason = compare_images(left.outcome.images, right.outcome.images)
    return PairDifference(_tier(left), _tier(right), bits, reason)


def row_differences(cells: Sequence[CellResult], quality_count: int, column_count: int) -> list[list[PairDifference]]:
    """For each row of the grid as the page lays it out, the difference of each pair of adjacent tiers."""
    by_position = {cell.position: cell for cell in cells}
    found = []
    for row in grid_rows(quality_count, column_count):
        present = [by_position[p] for p in row if p in by_position]
        found.append([pair_difference(a, b) for a, b in zip(present, present[1:])])
    return found


def _tier(cell: CellResult) -> str:
    return cell.quality
