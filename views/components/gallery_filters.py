"""The Gallery's search, filters, sort and page size, bound to the URL so a reload or a shared link
reopens the same view; and the `?lineage=ID` scope with its way out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from studio.core.request import BACKGROUNDS, COMPLEXITIES, OUTPUT_FORMATS, QUALITIES
from studio.services.gallery_choices import collections, comparisons, distinct_values
from studio.core.browsing import PAGE_SIZES, SEARCH_MODES, SORTS, STATUSES, GalleryFilter
from studio.services.gallery_link import GalleryView, check_cursors, parse_view, view_params
from studio.services.lineage_view import lineage_scope
from studio.services.meaning import notice as meaning_notice
from studio.services.studio import Studio
from views.components.literal import literal

ALL = "All"


def current_view() -> GalleryView:
    """The view in the URL. When the URL changed from outside (a link, back/forward), the widgets take it."""
    view, problems = parse_view(st.query_params.to_dict())
    view, cursor_problem = check_cursors(view)
    for problem in problems + ([cursor_problem] if cursor_problem else []):
        st.warning(literal(problem))
    if _widget_params(st.session_state.get("g_params")) != _widget_params(view_params(view)):
        _widgets_from(view)
    return view


def _widget_params(params: dict[str, str] | None) -> dict[str, str] | None:
    # The open image is the grid's to set (a click writes it at once), not the widgets': a URL that differs
    # only there was not changed from outside, and the widgets keep what was just entered in them.
    return None if params is None else {name: value for name, value in params.items() if name != "open"}


def _widgets_from(view: GalleryView) -> None:
    f = view.filters
    st.session_state.update({
        "g_q": f.search, "g_model": f.model or ALL, "g_quality": f.quality or ALL, "g_size": f.size or ALL,
        "g_background": f.background or ALL, "g_output_format": f.output_format or ALL, "g_complexity": f.complexity or ALL, "g_frames": f.frame_count or 0, "g_status": f.status or ALL,
        "g_dates": tuple(d for d in (f.date_from, f.date_to) if d), "g_fav": f.favourites,
        "g_collection": f.collection_id or 0, "g_compare": f.compare_group_id or 0, "g_sort": view.sort, "g_per": view.per_page,
        "g_mode": f.mode,
    })


def controls(studio: Studio, view: GalleryView) -> None:
    """Search, filters, sort and page size (what they say is read by `chosen_view`, before they are drawn), and
    what a search by meaning shows. `view` is the chosen view."""
    top = st.columns([4, 1.3, 1.4, 1])
    top[0].text_input("Search prompts", key="g_q", placeholder="words from the prompt, or what the picture showed",
                      help="words: every word must appear (as the start of a word), in the prompt or the revised_prompt. "
                           "meaning: prompts that say the same thing in other words, closest first.")
    top[1].radio("Search by", SEARCH_MODES, key="g_mode", horizontal=True)
    top[2].selectbox("Sort", list(SORTS), key="g_sort", format_func=SORTS.get)
    top[3].selectbox("Per page", PAGE_SIZES, key="g_per")
    with st.expander("Filters", expanded=not replace(view.filters, search="", mode="words").is_empty()):
        row = st.columns(4)
        row[0].selectbox("model", [ALL, *_distinct(studio, studio.settings.database_url, "model")], key="g_model")
        row[1].selectbox("quality", [ALL, *[q for q in QUALITIES if q != "auto"]], key="g_quality")
        row[2].selectbox("size", [ALL, *_distinct(studio, studio.settings.database_url, "size")], key="g_size")
        row[3].selectbox("status", [ALL, *STATUSES], key="g_status")
        row = st.columns(4)
        row[0].selectbox("background", [ALL, *[b for b in BACKGROUNDS if b != "auto"]], key="g_background")
        row[1].selectbox("output_format", [ALL, *OUTPUT_FORMATS], key="g_output_format")
        row[2].date_input("Date range", key="g_dates", help="From the first day to the last, both included.")
        named = collections(studio)
        # 0 stands for "All": a None value would show as an empty choice.
        row[3].selectbox("Collection", [0, *named], key="g_collection", format_func=lambda c: ALL if not c else named.get(c, f"#{c}"))
        row = st.columns([1, 1, 1, 2])
        row[0].toggle("Favourites only", key="g_fav")
        row[1].selectbox("complexity", [ALL, *COMPLEXITIES], key="g_complexity")
        row[2].selectbox("frame_count", [0, *range(2, 17)], key="g_frames", format_func=lambda f: ALL if not f else str(f))
        runs = comparisons(studio)
        row[3].selectbox("Comparison", [0, *runs], key="g_compare", format_func=lambda c: ALL if not c else runs.get(c, f"#{c}"),
                         help="The images of one run of the Compare page.")
    _meaning_notes(studio, view)


WIDGETS = ("g_q", "g_model", "g_quality", "g_size", "g_background", "g_output_format", "g_complexity", "g_status",
           "g_fav", "g_sort", "g_per")


def chosen_view(view: GalleryView) -> GalleryView:
    """The view the search, filters and sort say (a change starts again at page 1), read from their state, so
    the grid can be drawn before them: its thumbnails are on their way while the widgets load."""
    state = st.session_state
    if any(key not in state for key in WIDGETS):  # back from another page: the widgets take the URL's view again
        _widgets_from(view)
    dates = state.get("g_dates") or ()
    dates = dates if isinstance(dates, (tuple, list)) else (dates,)
    filters = GalleryFilter(
        search=state["g_q"].strip(),
        model=_value(state["g_model"]), quality=_value(state["g_quality"]), size=_value(state["g_size"]),
        background=_value(state["g_background"]), output_format=_value(state["g_output_format"]), complexity=_value(state["g_complexity"]),
        frame_count=state.get("g_frames") or None,
        status=_value(state["g_status"]), date_from=dates[0] if len(dates) > 0 else None,
        date_to=dates[1] if len(dates) > 1 else (dates[0] if len(dates) == 1 else None),
        favourites=bool(state["g_fav"]), collection_id=state.get("g_collection") or None,
        compare_group_id=state.get("g_compare") or None, lineage=view.filters.lineage,
        mode=state.get("g_mode") or "words",
    )
    searched = (filters.search, filters.mode) != (view.filters.search, view.filters.mode)
    filters = replace(filters, like=None if searched else view.filters.like)  # new words replace "more like this"
    chosen = replace(view, filters=filters, sort=state["g_sort"], per_page=int(state["g_per"]))
    if (chosen.filters, chosen.sort, chosen.per_page) != (view.filters, view.sort, view.per_page):
        chosen = chosen.first_page()
    return chosen


def _meaning_notes(studio: Studio, view: GalleryView) -> None:
    """What a search by meaning (or "more like this") shows, or what to change; and the way out of "like"."""
    info, problem = meaning_notice(studio, view.filters)
    if problem:
        st.warning(literal(problem))
    elif info:
        st.info(info)
    if view.filters.like is not None and st.button("Show everything", key="g_like_clear"):
        write_url(replace(view, filters=replace(view.filters, like=None)).first_page())
        st.rerun()


@st.cache_data(ttl=20, show_spinner=False)
def _distinct(_studio: Studio, database_url: str, name: str) -> list[str]:
    # A scan of every row (~30 ms at 100,000): kept for a few seconds instead of run on every rerun.
    return distinct_values(_studio, name)


def _value(choice: Any) -> Any:
    return None if choice == ALL else choice


def write_url(view: GalleryView) -> None:
    params = view_params(view)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    st.session_state["g_params"] = params


def lineage_filter(studio: Studio, view: GalleryView) -> GalleryView:
    """Resolve ?lineage=ID into the images of that lineage, and say what is shown (with a way out)."""
    if view.filters.lineage is None:
        return view
    scope = lineage_scope(studio, view.filters.lineage)
    if scope.problem:
        st.warning(literal(scope.problem))
        return replace(view, filters=replace(view.filters, lineage=None)).first_page()
    st.info(scope.text or "")
    if st.button("Show everything", key="g_lineage_clear"):
        write_url(replace(view, filters=replace(view.filters, lineage=None), sort="newest").first_page())
        st.rerun()
    return replace(view, filters=replace(view.filters, image_ids=scope.image_ids))
