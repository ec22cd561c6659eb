"""Above a prompt box: the history picker (every prompt sent, most recent first, searchable, a thumbnail of what
each made) and, on Generate, which generation the prompt in the box is a version of.

The prompt's origin is kept in the session: set when the box's text came from the gallery ("use these
settings", see handoff.py) or from the history, and moved to each single generation sent from it, so
iterating on a prompt records each step's parent. "Start a new prompt" forgets it."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from studio.services.prompt_history import PromptEntry, prompt_history
from studio.services.studio import Outcome, Studio

ORIGIN = "prompt_origin"  # the generation id the Generate prompt box's text descends from
ADVANCE = "prompt_origin_advance"  # the last send was one request from the origin: its result is the next origin


def prompt_origin() -> int | None:
    return st.session_state.get(ORIGIN)


def set_origin(generation_id: int | None) -> None:
    st.session_state[ORIGIN] = generation_id


def note_send(requests: int) -> None:
    """Called as a send goes out: only a single request's result becomes the next version's parent."""
    st.session_state[ADVANCE] = requests == 1 and prompt_origin() is not None


def advance_origin(finished: Sequence[Outcome]) -> None:
    """After a single request sent from an origin came back: it is what the next edit descends from."""
    origin = prompt_origin()
    if origin is None or not st.session_state.get(ADVANCE):
        return
    children = [o for o in finished if getattr(o.generation, "prompt_parent_id", None) == origin]
    if len(children) == 1:
        set_origin(children[0].generation_id)
        st.session_state[ADVANCE] = False


def _use(key: str, entry: PromptEntry, origin: bool) -> None:
    st.session_state[key] = entry.prompt
    if origin:
        set_origin(entry.generation_id)


def prompt_tools(studio: Studio, key: str, origin: bool = False) -> None:
    """The history popover for the prompt box keyed `key`; with `origin`, the version line and its reset."""
    history, note = st.columns([1, 3], vertical_alignment="center")
    popover = history.popover("Prompt history", icon=":material/history:", width="stretch", key=f"{key}_history_open", on_change="rerun")
    with popover:
        if not popover.open:  # read only when opened: no query, no thumbnails on every run of the page
            st.caption("Opening…")
        search = st.text_input("Search your prompts", key=f"{key}_history_search", placeholder="words in the prompt")
        entries = prompt_history(studio, search) if popover.open else []
        if popover.open and not entries:
            st.caption("No prompt matches those words." if search.strip() else "Prompts you send are listed here.")
        for position, entry in enumerate(entries):
            thumb, text, use = st.columns([2, 7, 3], vertical_alignment="center")
            if entry.thumbnail:
                thumb.image(entry.thumbnail, width=56)
            else:
                thumb.caption("no image")
            text.text(entry.short)
            text.caption(f"last sent {entry.last_sent:%Y-%m-%d %H:%M} · generation #{entry.generation_id}")
            use.button("Use", key=f"{key}_history_use_{position}", on_click=_use, args=(key, entry, origin),
                       help="Put this prompt in the box")
    current = prompt_origin() if origin else None
    if current is not None:
        note.caption(f"Editing the prompt of generation #{current}: what you send is recorded as its next version.")
        note.button("Start a new prompt", key=f"{key}_origin_reset", on_click=set_origin, args=(None,),
                    help="Send the next prompt as a new one, not as a version of this generation's")

