"""The embedding model: WordLlama's 256-dimension `l2_supercat` weights and its tokenizer, both shipped
inside the `wordllama` wheel and read from there. Nothing is ever downloaded: the library is told to look
in its own package folder with downloads disabled, and the files are checked first, so a broken install
is a clear error, never a quiet request to a model hub. Loaded once per process (about 0.7 s, 16 MB)."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError

CONFIG = "l2_supercat"
DIMENSIONS = 256
MODEL = f"wordllama-{CONFIG}-{DIMENSIONS}"  # stored beside each vector: vectors of another model are not compared
MAX_CHARS = 4000  # a prompt is at most 32,000 characters; the first few thousand say what it shows
_lock = threading.Lock()
_loaded: list = []  # the one model of this process


def package_files() -> tuple[Path, Path]:
    """The weights and the tokenizer inside the installed wheel."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or spec.origin is None:
        raise StudioError("Search by meaning needs the wordllama package, which is not installed; "
                          "run `pip install -r requirements.txt`.", "meaning_model_missing")
    root = Path(spec.origin).parent
    return root / "weights" / f"{CONFIG}_{DIMENSIONS}.safetensors", root / "tokenizers" / f"{CONFIG}_tokenizer_config.json"


def problem() -> str | None:
    """Why the model cannot run here (a package or file missing), or None. Reads no weights."""
    try:
        weights, tokenizer = package_files()
    except StudioError as exc:
        return exc.message
    missing = [path.name for path in (weights, tokenizer) if not path.is_file()]
    if missing:
        return (f"The meaning model's files are missing from the wordllama package ({', '.join(missing)}); "
                "reinstall it with `pip install -r requirements.txt`.")
    return None


def _model():  # type: ignore[no-untyped-def]
    with _lock:
        if not _loaded:
            trouble = problem()
            if trouble:
                raise StudioError(trouble, "meaning_model_missing")
            weights, _ = package_files()
            from wordllama import WordLlama

            # cache_dir is the package itself: its weights/ and tokenizers/ folders are where the loader looks.
            _loaded.append(WordLlama.load(config=CONFIG, dim=DIMENSIONS, cache_dir=weights.parent.parent, disable_download=True))
        return _loaded[0]


def embed(texts: list[str]) -> np.ndarray:
    """One unit-length float32 row per text (a text without a single token gives a row of zeros)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(_model().embed([text[:MAX_CHARS] for text in texts], norm=False, batch_size=256), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
