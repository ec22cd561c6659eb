"""How lineage reads on the pages: which images a `?lineage=ID` link shows, the chain an edit came down,
and the "Edit of #12 with #13 · masked" caption every page uses for an edit. No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from studio.core.errors import StudioError
from studio.services.studio import Studio

# (role, gallery image id or None, file name) for each input of an edit, as the records list them.
Source = tuple[str, int | None, str | None]


@dataclass(frozen=True)
class LineageScope:
    """What the Gallery shows for `?lineage=ID`: the images, a sentence saying so, or why it cannot."""

    image_ids: tuple[int, ...] = ()
    text: str | None = None
    problem: str | None = None


def lineage_scope(studio: Studio, image_id: int) -> LineageScope:
    try:
        lineage = studio.lineage(image_id)
    except StudioError as exc:
        return LineageScope(problem=f"{exc.message} Showing everything instead.")
    text = (f"Lineage of image #{lineage.image_id}: " + " → ".join(f"#{i}" for i in lineage.chain)
            + ", with every edit made from it.")
    return LineageScope(tuple(sorted(lineage.image_ids)), text)


def chain_text(studio: Studio, image_id: int) -> str:
    """"Lineage: #1 → #4 → #9": the edited image at each step from the original to this one."""
    return "Lineage: " + " → ".join(f"#{i}" for i in studio.lineage(image_id).chain)


def edit_caption(sources: Iterable[Source], name: Callable[[str], str] = str) -> str | None:
    """"Edit of #12 with #13 · masked" (None for a generation that is no edit). `name` shows an uploaded
    file's name (a page passes its Markdown escape)."""
    sources = list(sources)
    images = [f"#{image_id}" if image_id else name(filename or "an upload") for role, image_id, filename in sources if role == "image"]
    if not images:
        return None
    masked = any(role == "mask" for role, _, _ in sources)
    return f"Edit of {images[0]}" + (f" with {', '.join(images[1:])}" if images[1:] else "") + (" · masked" if masked else "")


def sources_of(generation: object) -> list[Source]:
    """The inputs of a loaded generation (an edit's `sources` rows) as plain tuples."""
    return [(s.role, s.image_id, s.filename) for s in getattr(generation, "sources", [])]
