"""Prompt history and prompt versions, as the pages show them.

The history: every distinct prompt the user sent (refused ones too), most recently sent first, searchable by
words, each with a thumbnail of the newest image it made. The versions: a generation's prompt and the
prompts it was edited from (`prompt_parent_id`, set when a prompt from the gallery or the history is edited
and sent), each step with a word diff against the one before (the prompt/revised_prompt diff of `prompt_diff`).
No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from studio.db.prompts import PromptRecords
from studio.services.prompt_diff import diff_html
from studio.services.studio import Studio

HISTORY_LIMIT = 20


@dataclass(frozen=True)
class PromptEntry:
    prompt: str
    generation_id: int  # the newest generation that sent it: what the prompt box's next version descends from
    last_sent: datetime
    thumbnail: str | None  # what st.image loads (a thumbnail, else the image); None: it made no image

    @property
    def short(self) -> str:
        text = " ".join(self.prompt.split())
        return text if len(text) <= 90 else text[:89] + "…"


@dataclass(frozen=True)
class PromptVersion:
    generation_id: int
    prompt: str
    created_at: datetime
    status: str
    thumbnail: str | None
    removed_html: str  # the previous version, words taken out in <del> ("" for the first version)
    added_html: str  # this version, words put in since the previous one in <ins> (escaped HTML)
    changed: bool  # whether the prompt differs from the version before


def _records(studio: Studio) -> PromptRecords:
    return PromptRecords(studio.records.engine)


def _source(studio: Studio, path: str | None, thumbnail_path: str | None) -> str | None:
    if thumbnail_path and (studio.storage.remote or studio.storage.exists(thumbnail_path)):
        return studio.storage.source(thumbnail_path)
    if path and (studio.storage.remote or studio.storage.exists(path)):
        return studio.storage.source(path)
    return None


def prompt_history(studio: Studio, search: str = "", limit: int = HISTORY_LIMIT) -> list[PromptEntry]:
    """The prompts sent, most recent first; `search`: words that must all be in the prompt, in any case."""
    return [PromptEntry(row.prompt, row.generation_id, row.last_sent, _source(studio, row.path, row.thumbnail_path))
            for row in _records(studio).history(search, limit)]


def prompt_versions(studio: Studio, generation_id: int) -> list[PromptVersion]:
    """The versions of a generation's prompt, oldest first (a single version when it has no parent or child)."""
    versions: list[PromptVersion] = []
    previous: str | None = None
    for generation in _records(studio).versions(generation_id):
        image = generation.images[-1] if generation.images else None
        if previous is None:
            removed, added = "", diff_html(generation.prompt, None)[0]
        else:
            removed, added = diff_html(previous, generation.prompt)
        versions.append(PromptVersion(
            generation.id, generation.prompt, generation.created_at, generation.status,
            _source(studio, image.path, image.thumbnail_path) if image else None,
            removed, added, previous is not None and previous != generation.prompt,
        ))
        previous = generation.prompt
    return versions
