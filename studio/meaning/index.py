"""A compact brute-force vector index: every vector of a gallery as one int8 row (256 bytes) in memory,
scored against a query with one pass over the matrix (numpy's einsum reads the int8 rows in blocks, so no
float copy of the whole matrix is made). At 100,000 prompts that is 25.6 MB and a few tens of
milliseconds (see bench/semantic.py), with no database extension to install on SQLite or PostgreSQL.

A vector is stored as its int8 quantization (each row scaled so its largest component is ±127); the
scale is not kept because rows are renormalised when loaded, which is all a cosine needs."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from studio.meaning.model import DIMENSIONS

BYTES = DIMENSIONS  # one int8 per dimension


def encode(vectors: np.ndarray) -> list[bytes]:
    """Unit vectors (n × 256 float32) to what the database keeps: 256 bytes each."""
    peak = np.abs(vectors).max(axis=1, keepdims=True)
    scaled = np.divide(vectors * 127.0, peak, out=np.zeros_like(vectors), where=peak > 0)
    return [row.tobytes() for row in np.rint(scaled).astype(np.int8)]


def decode(blobs: Sequence[bytes]) -> np.ndarray:
    """Stored bytes back to unit float32 vectors (for a query made of stored vectors)."""
    rows = np.frombuffer(b"".join(blobs), dtype=np.int8).reshape(len(blobs), BYTES).astype(np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


@dataclass(frozen=True)
class Hit:
    generation_id: int
    score: float  # cosine similarity of the closest of the generation's texts, -1 … 1


class VectorIndex:
    """The vectors of one gallery: row ids (the database's), their generation ids and the int8 matrix.
    Appended to by id as new rows are stored; replaced whole when rows were deleted. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matrix = np.zeros((0, BYTES), dtype=np.int8)
        self._inverse_norms = np.zeros(0, dtype=np.float32)
        self._generations = np.zeros(0, dtype=np.int64)
        self._size = 0
        self._distinct: tuple[int, int] = (0, 0)  # (size, distinct generations) when last counted
        self.last_id = 0  # the highest row id loaded
        self.refresh_lock = threading.Lock()  # held by whoever brings the index up to date
        self.stale = False  # it was seen to hold a deleted generation: count the stored rows at the next search
        self.counted_at = float("-inf")  # when the stored rows were last counted (time.monotonic)

    def __len__(self) -> int:
        return self._size

    @property
    def generation_count(self) -> int:
        """How many generations have vectors here (counted again only after the index changed)."""
        with self._lock:
            if self._distinct[0] != self._size:
                self._distinct = (self._size, len(np.unique(self._generations[: self._size])))
            return self._distinct[1]

    @property
    def nbytes(self) -> int:
        """Memory the loaded rows take (matrix, norms, generation ids)."""
        return self._size * (BYTES + 4 + 8)

    def replace(self, rows: Sequence[tuple[int, int, bytes]]) -> None:
        """Load every (row id, generation id, vector bytes) afresh."""
        with self._lock:
            self._size, self.last_id = 0, 0
            self._append(rows)

    def add(self, rows: Sequence[tuple[int, int, bytes]]) -> None:
        """Append rows stored since the last load (ids above `last_id`)."""
        with self._lock:
            self._append(rows)

    def _append(self, rows: Sequence[tuple[int, int, bytes]]) -> None:
        if not rows:
            return
        count = len(rows)
        need = self._size + count
        if need > len(self._matrix):  # grow by doubling, so appending one at a time stays cheap
            capacity = max(need, 2 * len(self._matrix), 1024)
            self._matrix = _grown(self._matrix, capacity)
            self._inverse_norms = _grown(self._inverse_norms, capacity)
            self._generations = _grown(self._generations, capacity)
        block = np.frombuffer(b"".join(_exact(blob) for _, _, blob in rows), dtype=np.int8).reshape(count, BYTES)
        norms = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float32, casting="unsafe"))
        window = slice(self._size, need)
        self._matrix[window] = block
        self._inverse_norms[window] = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        self._generations[window] = [generation_id for _, generation_id, _ in rows]
        self._size = need
        self.last_id = max(self.last_id, max(row_id for row_id, _, _ in rows))

    def vectors_of(self, generation_id: int) -> np.ndarray:
        """The unit vectors stored for one generation (none: an empty array)."""
        with self._lock:
            picked = np.flatnonzero(self._generations[: self._size] == generation_id)
            rows = self._matrix[picked].astype(np.float32) * self._inverse_norms[picked, None]
        return rows

    def nearest(self, query: np.ndarray, limit: int, min_score: float = -1.0, exclude: int | None = None) -> list[Hit]:
        """The `limit` generations closest to a unit query vector (a generation scores by its closest text),
        best first, leaving out those below `min_score` and the generation `exclude`."""
        with self._lock:
            size = self._size
            if not size or limit <= 0:
                return []
            scores = np.einsum("ij,j->i", self._matrix[:size], query.astype(np.float32), dtype=np.float32, casting="unsafe")
            scores *= self._inverse_norms[:size]
            generations = self._generations[:size]
            # A generation has a few rows (its prompt, its revised prompts): a few times `limit` rows hold
            # the `limit` best generations.
            take = min(size, limit * 4 + 16)
            top = np.argpartition(-scores, take - 1)[:take] if take < size else np.arange(size)
            top = top[np.argsort(-scores[top], kind="stable")]
            best: dict[int, float] = {}
            for row in top:
                generation_id = int(generations[row])
                score = float(scores[row])
                if score < min_score:
                    break
                if generation_id != exclude and generation_id not in best:
                    best[generation_id] = score
                    if len(best) == limit:
                        break
        return [Hit(generation_id, score) for generation_id, score in best.items()]


def _grown(array: np.ndarray, capacity: int) -> np.ndarray:
    bigger = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


def _exact(blob: bytes) -> bytes:
    """A stored vector of the wrong length (a damaged row) counts as zeros rather than shifting the rest."""
    blob = bytes(blob)
    return blob if len(blob) == BYTES else bytes(BYTES)
