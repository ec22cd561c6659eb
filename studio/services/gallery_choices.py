"""What the Gallery's filters and tiles offer: the models and sizes in use, the collections, the
comparisons, and each edit's caption. Read through the studio's browse records; no Streamlit here."""

from __future__ import annotations

from typing import Callable, Iterable

from studio.services.lineage_view import edit_caption
from studio.services.studio import Studio


def distinct_values(studio: Studio, name: str) -> list[str]:
    """Every value a column takes in the gallery (a scan of every row: cache it on the page)."""
    return studio.browse.distinct_values(name)


def collections(studio: Studio) -> dict[int, str]:
    return dict(studio.browse.collections())


def comparisons(studio: Studio) -> dict[int, str]:
    return dict(studio.browse.compare_groups())


def edit_captions(studio: Studio, generation_ids: Iterable[int], name: Callable[[str], str] = str) -> dict[int, str]:
    """generation id -> "Edit of #12 with #13 · masked", for the edits among these generations."""
    captions = {}
    for generation_id, sources in studio.browse.edit_sources(set(generation_ids)).items():
        caption = edit_caption(sources, name)
        if caption:
            captions[generation_id] = caption
    return captions
