"""The Gallery's grid: one components-v2 element (grid.html, grid.css, grid.js beside this file, no
iframe, nothing from a CDN) for every thumbnail of the window of keyset pages, inside a fragment so a
scroll, a click or a bulk action reruns the grid only, never the whole page. Selection lives in the
browser; a bulk action arrives with the keys it acts on (views/components/gallery_toolbar.py)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from studio.core.errors import StudioError
from studio.services.gallery import GalleryService
from studio.services.gallery_link import GalleryView
from studio.services.gallery_tiles import parse_key
from studio.services.gallery_window import CHUNK, GalleryWindow
from studio.services.studio import Studio
from views.components.fragments import in_fragment_rerun
from views.components.literal import literal

HERE = Path(__file__).parent
WINDOW = "g_window"  # the session's GalleryWindow
OPEN = "g_open"  # the key of the item the lightbox shows


@functools.cache
def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


_grid = st.components.v2.component("studio_gallery_grid", html=_asset("grid.html"), css=_asset("grid.css"), js=_asset("grid.js"))
# The lightbox's keys; its hint shows once the listener is on (so no key press is lost before it).
keys = st.components.v2.component(
    "studio_gallery_keys", js=_asset("keys.js"),
    html='<span class="hint" hidden>← → previous / next · f favourite · Esc closes</span>',
    css=".hint { font-size: 14px; opacity: 0.65; font-family: var(--st-font, sans-serif); }")

# Bulk actions other features add to the selection bar: op -> (label, handler(library, keys) -> notice).
EXTRA_ACTIONS: dict[str, tuple[str, Callable[[GalleryService, list[str]], str]]] = {}


def current_window(library: GalleryService, view: GalleryView) -> GalleryWindow:
    """The session's window for this view (search, filters, sort, jump): kept across reruns, opened
    afresh when the view changes, re-read after its rows changed (here, or by a job of any session)."""
    window: GalleryWindow | None = st.session_state.get(WINDOW)
    chunk = max(CHUNK, view.per_page)
    if window is None or (window.filters, window.sort, window.anchor, window.chunk) != (view.filters, view.sort, view.after, chunk):
        epoch = window.epoch if window else 0
        window = GalleryWindow(view.filters, view.sort, chunk, view.after, epoch=epoch)
        try:
            window.open(library)
        except StudioError as exc:  # a damaged cursor in a link: say so and start at the top
            st.warning(literal(exc.message))
            window = GalleryWindow(view.filters, view.sort, chunk, None, epoch=epoch + 1).open(library)
        st.session_state[WINDOW] = window
    elif window.behind:
        window.refresh(library)
    return window


def held_window() -> GalleryWindow | None:
    return st.session_state.get(WINDOW)


def mark_changed() -> None:
    """Rows the window shows changed (a favourite, a delete): re-read its pages on the next run."""
    window = held_window()
    if window is not None:
        window.stale = True


def grid_element(library: GalleryService, window: GalleryWindow, on_action: Callable[[], None]) -> None:
    data = window.data() | {
        "ack": st.session_state.get("g_ack", 0), "cleared": st.session_state.get("g_cleared", 0),
        "done": st.session_state.get("g_done", 0),
        "paused": "open" in st.query_params,  # the image dialog covers the grid: no prefetch meanwhile
        "extra": [{"op": op, "label": label} for op, (label, _) in EXTRA_ACTIONS.items()],
    }
    for page in data["pages"]:
        page["tiles"] = [_once(tile) for tile in page["tiles"]]
    _grid(key="g_grid", data=data, on_more_change=functools.partial(_more, library), on_open_change=_open,
          on_action_change=on_action, on_missing_change=_missing, height="content")


SENT = "g_sent"  # tile key -> the thumbnail source this browser page was sent (it keeps them by key)
MAX_SENT = 4000  # the browser keeps as many (grid.js, SOURCES_KEPT); beyond that, sent again


def _once(tile: dict[str, Any]) -> dict[str, Any]:
    """The tile without its thumbnail when this browser page already has that one: a scroll step then
    carries only the new page's thumbnails, not the whole window's again."""
    sent: dict[str, Any] = st.session_state.setdefault(SENT, {})
    src = tile.get("src")
    if not src:
        return tile
    if sent.get(tile["k"]) is src or sent.get(tile["k"]) == src:
        return {name: value for name, value in tile.items() if name != "src"}
    if len(sent) >= MAX_SENT:
        sent.clear()
    sent[tile["k"]] = src
    return tile


def _missing() -> None:
    """The browser lost some thumbnails it was sent (a reload of the element, its own limit): send again."""
    asked = event("missing")
    keys_ = asked.get("keys") if isinstance(asked, dict) else None
    sent: dict[str, Any] = st.session_state.get(SENT, {})
    if isinstance(keys_, list):
        for key in keys_[:MAX_SENT]:
            if isinstance(key, str):
                sent.pop(key, None)


def event(name: str) -> Any:
    """The grid's latest value for an event (read in its on_<name>_change callback)."""
    state = st.session_state.get("g_grid")
    try:
        return state[name] if state is not None else None
    except (KeyError, TypeError):
        return None


def _more(library: GalleryService) -> None:
    ask, window = event("more"), held_window()
    if not isinstance(ask, dict) or window is None:
        return
    index = ask.get("index") if isinstance(ask.get("index"), int) else None
    if ask.get("dir") == "prev":
        window.earlier(library, index)
    else:
        window.more(library, index)
    if isinstance(ask.get("seq"), int):
        st.session_state["g_ack"] = ask["seq"]


def _open() -> None:
    asked = event("open")
    key = asked.get("key") if isinstance(asked, dict) else None
    if isinstance(key, str) and parse_key(key) is not None:
        open_item(key)


def open_item(key: str) -> None:
    # In the URL, so a reload or a shared link opens the same image.
    st.query_params["open"] = key
    st.session_state[OPEN] = key
    st.session_state.pop("confirm_delete", None)


def close_item() -> None:
    if "open" in st.query_params:
        del st.query_params["open"]
    st.session_state.pop(OPEN, None)
    st.session_state.pop("confirm_delete", None)


def opened_key(view: GalleryView) -> str | None:
    """The item the lightbox shows: the one stepped to with ←/→, else the one in the URL."""
    if view.open is None:
        st.session_state.pop(OPEN, None)
        return None
    return st.session_state.get(OPEN) or view.open


def rerun_fragment() -> None:
    """Rerun the fragment this run is (the grid, the dialog), or the page when the whole page is running."""
    st.rerun(scope="fragment" if in_fragment_rerun() else "app")
