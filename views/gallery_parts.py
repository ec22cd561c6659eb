"""Streamlit glue for the Gallery page: the controls bound to the URL, the grid, the detail dialog,
the bulk actions. Every action calls one GalleryService method; nothing here touches SQL or files itself."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import streamlit as st

from views.common import literal, settings
from studio.core.config import load_providers
from studio.core.errors import StudioError
from studio.db.browse import PAGE_SIZES, SORTS, STATUSES, GalleryFilter, GalleryItem, Page
from studio.services.gallery_link import GalleryView, parse_view, view_params
from studio.services.gallery import GalleryService, describe_replacements, request_settings
from studio.services.prompt_diff import diff_html
from studio.core.request import BACKGROUNDS, OUTPUT_FORMATS, QUALITIES
from studio.services.studio import Studio

ALL = "All"
COLUMNS = 6
DIFF_STYLE = "<style>del{background:#ffd7d5;text-decoration:line-through}ins{background:#ccffd8;text-decoration:none}</style>"
# Widget keys of the Generate page, and what each takes when the generation left the field unset.
GENERATE_DEFAULTS: dict[str, Any] = {
    "prompt": "", "size": "auto", "quality": "auto", "n": 1, "background": "auto", "output_format": "png",
    "moderation": "auto", "output_compression": 100, "response_format": None,
}


def library_for(studio: Studio) -> GalleryService:
    return GalleryService(studio)


# --- the view, kept in the URL ---------------------------------------------------------------------

def current_view() -> GalleryView:
    """The view in the URL. When the URL changed from outside (a link, back/forward), the widgets take it."""
    params = st.query_params.to_dict()
    view, problems = parse_view(params)
    for problem in problems:
        st.warning(literal(problem))
    if st.session_state.get("g_params") != view_params(view):
        _widgets_from(view)
    return view


def _widgets_from(view: GalleryView) -> None:
    f = view.filters
    st.session_state.update({
        "g_q": f.search, "g_model": f.model or ALL, "g_quality": f.quality or ALL, "g_size": f.size or ALL,
        "g_background": f.background or ALL, "g_output_format": f.output_format or ALL, "g_status": f.status or ALL,
        "g_dates": tuple(d for d in (f.date_from, f.date_to) if d), "g_fav": f.favourites,
        "g_collection": f.collection_id or 0, "g_compare": f.compare_group_id or 0, "g_sort": view.sort, "g_per": view.per_page,
    })


def controls(library: GalleryService, view: GalleryView) -> GalleryView:
    """Search, filters, sort and page size; a change starts again at page 1."""
    top = st.columns([4, 1.4, 1])
    top[0].text_input("Search prompts", key="g_q", placeholder="words from the prompt or revised_prompt",
                      help="Every word must appear (as the start of a word), in the prompt or the revised_prompt.")
    top[1].selectbox("Sort", list(SORTS), key="g_sort", format_func=SORTS.get)
    top[2].selectbox("Per page", PAGE_SIZES, key="g_per")
    with st.expander("Filters", expanded=not replace(view.filters, search="").is_empty()):
        row = st.columns(4)
        row[0].selectbox("model", [ALL, *_distinct(library, library.records.engine.url.render_as_string(), "model")], key="g_model")
        row[1].selectbox("quality", [ALL, *[q for q in QUALITIES if q != "auto"]], key="g_quality")
        row[2].selectbox("size", [ALL, *_distinct(library, library.records.engine.url.render_as_string(), "size")], key="g_size")
        row[3].selectbox("status", [ALL, *STATUSES], key="g_status")
        row = st.columns(4)
        row[0].selectbox("background", [ALL, *[b for b in BACKGROUNDS if b != "auto"]], key="g_background")
        row[1].selectbox("output_format", [ALL, *OUTPUT_FORMATS], key="g_output_format")
        row[2].date_input("Date range", key="g_dates", help="From the first day to the last, both included.")
        collections = dict(library.browse.collections())
        # 0 stands for "All": a None value would show as an empty choice.
        row[3].selectbox("Collection", [0, *collections], key="g_collection",
                         format_func=lambda c: ALL if not c else collections.get(c, f"#{c}"))
        row = st.columns([1, 3])
        row[0].toggle("Favourites only", key="g_fav")
        comparisons = dict(library.browse.compare_groups())
        row[1].selectbox("Comparison", [0, *comparisons], key="g_compare",
                         format_func=lambda c: ALL if not c else comparisons.get(c, f"#{c}"),
                         help="The images of one run of the Compare page.")
    state = st.session_state
    dates = state.get("g_dates") or ()
    dates = dates if isinstance(dates, (tuple, list)) else (dates,)
    filters = GalleryFilter(
        search=state["g_q"].strip(),
        model=_value(state["g_model"]), quality=_value(state["g_quality"]), size=_value(state["g_size"]),
        background=_value(state["g_background"]), output_format=_value(state["g_output_format"]),
        status=_value(state["g_status"]), date_from=dates[0] if len(dates) > 0 else None,
        date_to=dates[1] if len(dates) > 1 else (dates[0] if len(dates) == 1 else None),
        favourites=bool(state["g_fav"]), collection_id=state.get("g_collection") or None,
        compare_group_id=state.get("g_compare") or None, lineage=view.filters.lineage,
    )
    chosen = replace(view, filters=filters, sort=state["g_sort"], per_page=int(state["g_per"]))
    if (chosen.filters, chosen.sort, chosen.per_page) != (view.filters, view.sort, view.per_page):
        chosen = chosen.first_page()
    return chosen


@st.cache_data(ttl=20, show_spinner=False)
def _distinct(_library: GalleryService, database_url: str, name: str) -> list[str]:
    # A scan of every row (~30 ms at 100,000): kept for a few seconds instead of run on every rerun.
    return _library.browse.distinct_values(name)


def _value(choice: Any) -> Any:
    return None if choice == ALL else choice


def write_url(view: GalleryView) -> None:
    params = view_params(view)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    st.session_state["g_params"] = params


def _go(view: GalleryView) -> None:
    write_url(view)


# --- the grid --------------------------------------------------------------------------------------

def selection_key(item: GalleryItem) -> str:
    return f"sel-{item.generation_id}-{item.image_id or 0}"


def selected_items() -> list[tuple[int, int | None]]:
    items = []
    for key, value in st.session_state.items():
        if isinstance(key, str) and key.startswith("sel-") and value:
            _, generation_id, image_id = key.split("-")
            items.append((int(generation_id), int(image_id) or None))
    return sorted(items)


def clear_selection() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("sel-")]:
        del st.session_state[key]


def edit_caption(sources: list[tuple[str, int | None, str | None]]) -> str | None:
    """"Edit of #12 with #13 · masked", the same words as the Generate and Edit pages use."""
    images = [f"#{image_id}" if image_id else literal(filename or "an upload") for role, image_id, filename in sources if role == "image"]
    if not images:
        return None
    masked = any(role == "mask" for role, _, _ in sources)
    return f"Edit of {images[0]}" + (f" with {', '.join(images[1:])}" if images[1:] else "") + (" · masked" if masked else "")


def grid(library: GalleryService, page: Page) -> None:
    cells = st.columns(COLUMNS)
    sources = library.browse.edit_sources({item.generation_id for item in page.items})
    for position, item in enumerate(page.items):
        with cells[position % COLUMNS], st.container(border=True):
            thumb = library.thumbnail_source(item.image_id, item.path, item.thumbnail_path)
            if thumb is not None:
                st.image(thumb, width="stretch")
            elif item.image_id is not None:
                st.warning("The file of this image is missing; `python -m studio doctor` settles it.")
            elif item.status == "failed":
                st.error(literal((item.error_message or "The request failed.")[:160]))
            else:
                st.info(f"{item.status}: no image yet" if item.status == "pending" else "no image kept")
            edit = edit_caption(sources.get(item.generation_id, []))
            if edit:
                st.caption(edit)
            star = "★ " if item.favourite else ""
            st.caption(f"{star}#{item.generation_id} · {item.created_at:%Y-%m-%d %H:%M} · {literal(item.model)}")
            st.text(item.prompt[:160] + ("…" if len(item.prompt) > 160 else ""))
            with st.container(horizontal=True, vertical_alignment="center"):  # lighter than columns in a tile
                st.checkbox("Select", key=selection_key(item))
                st.button("Open", key=f"open-{item.generation_id}-{item.image_id or 0}", on_click=_open,
                          args=(item.generation_id, item.image_id))
                if item.image_id is not None:
                    st.page_link("views/edit.py", label="Edit", icon=":material/brush:",
                                 query_params={"source_image": str(item.image_id)})


def _open(generation_id: int, image_id: int | None) -> None:
    # In the URL, so a reload or a shared link opens the same image.
    st.query_params["open"] = f"{generation_id}-{image_id or 0}"
    st.session_state.pop("confirm_delete", None)


def _close() -> None:
    if "open" in st.query_params:
        del st.query_params["open"]
    st.session_state.pop("confirm_delete", None)


def open_detail(library: GalleryService) -> None:
    """The detail dialog stays open across reruns until it is closed or its item deleted."""
    opened = st.query_params.get("open", "")
    generation_id, _, image_id = opened.partition("-")
    if generation_id.isdigit() and image_id.isdigit():
        detail_dialog(library, int(generation_id), int(image_id) or None)


def pager(view: GalleryView, page: Page) -> None:
    left, middle, right = st.columns([1, 2, 1])
    if left.button("← Previous", disabled=not page.prev_cursor, key="g_prev"):
        _go(replace(view, after=None, before=page.prev_cursor, page=max(1, view.page - 1)))
        st.rerun()
    middle.caption(f"Page {view.page} · {len(page.items)} shown")
    if right.button("Next →", disabled=not page.next_cursor, key="g_next"):
        _go(replace(view, after=page.next_cursor, before=None, page=view.page + 1))
        st.rerun()


# --- the detail view -------------------------------------------------------------------------------

@st.dialog("Image", width="large", on_dismiss=_close)
def detail_dialog(library: GalleryService, generation_id: int, image_id: int | None) -> None:
    try:
        detail = library.detail(generation_id, image_id)
    except StudioError as exc:
        st.warning(literal(exc.message))
        _close()
        return
    generation, image = detail.generation, detail.image
    picture, side = st.columns([3, 2])
    with picture:
        if image is not None and detail.file_exists:
            st.image(detail.src, width="stretch")
        elif image is not None:
            st.warning("The file of this image is missing. Run `python -m studio doctor --fix` to settle it.")
        else:
            st.error(f"This request {generation.status}: {literal(generation.error_message or 'no image came back')}")
    with side:
        st.caption(f"Generation #{generation.id} · {generation.created_at:%Y-%m-%d %H:%M} · {literal(generation.model)} · {generation.status}")
        edit = edit_caption(library.browse.edit_sources([generation.id]).get(generation.id, []))
        if edit:
            st.caption(edit)
        if image is not None:
            st.page_link("views/edit.py", label="Edit this image", icon=":material/brush:",
                         query_params={"source_image": str(image.id)})
            st.page_link("views/gallery.py", label="Lineage: its originals and edits", icon=":material/account_tree:",
                         query_params={"lineage": str(image.id)})
        _actions(library, generation, image, detail)
    prompt_html, revised_html = diff_html(generation.prompt, image.revised_prompt if image else None)
    left, right = st.columns(2)
    left.markdown("**prompt**")
    left.html(DIFF_STYLE + f"<div>{prompt_html}</div>")
    right.markdown("**revised_prompt**")
    right.html(DIFF_STYLE + f"<div>{revised_html or '<i>not returned</i>'}</div>")
    st.caption("Words only in the prompt are struck through; words the model added are highlighted.")
    facts = request_settings(generation) | {
        "status": generation.status, "provider": generation.provider, "base_url_host": generation.base_url_host,
        "created_at": f"{generation.created_at:%Y-%m-%d %H:%M:%S}", "response_size": generation.response_size,
        "response_quality": generation.response_quality, "response_background": generation.response_background,
        "response_output_format": generation.response_output_format, "input_tokens": generation.input_tokens,
        "output_tokens": generation.output_tokens, "total_tokens": generation.total_tokens,
        "latency_s": round(generation.latency_s, 2) if generation.latency_s is not None else None,
        "cost (estimate)": library.cost_text(generation),
    }
    if image is not None:
        facts |= {"file": image.path, "format": image.format, "width x height": f"{image.width}x{image.height}",
                  "bytes": image.bytes, "sha256": image.sha256, "collections": ", ".join(detail.collections) or None}
    if generation.error_code:
        facts |= {"error_code": generation.error_code, "http_status": generation.http_status}
    # st.dataframe shows each cell as plain text (st.table would render Markdown in prompts and names).
    st.dataframe({"field": list(facts), "value": ["not set" if v is None else str(v) for v in facts.values()]},
                 hide_index=True, width="stretch")
    if generation.usage:
        with st.expander("usage (as returned)"):
            st.json(generation.usage)


def _actions(library: GalleryService, generation: Any, image: Any, detail: Any) -> None:
    row = st.columns(2)
    if image is not None:
        label = "★ Unfavourite" if image.favourite else "☆ Favourite"
        if row[0].button(label, key="d_fav"):
            library.favourite([image.id], not image.favourite)
            st.rerun()
        if detail.file_exists:
            row[1].download_button("Download original", data=functools.partial(detail.absolute_path.read_bytes),
                                   file_name=f"studio-{generation.id}-{image.batch_index + 1}.{image.format}",
                                   mime=f"image/{image.format}", key="d_download", on_click="ignore")
    row = st.columns(2)
    if row[0].button("Use these settings", key="d_use", help="Opens Generate with this prompt and these settings"):
        st.session_state["pending_settings"] = {"generation_id": generation.id, **_generate_values(generation)}
        _close()
        st.switch_page("views/generate.py")
    if row[1].button("Compare tiers", key="d_compare", help="Opens Compare with this prompt and these settings, over quality tiers"):
        st.session_state["pending_compare"] = {"generation_id": generation.id, **_compare_values(generation)}
        _close()
        st.switch_page("views/compare.py")
    if st.button("Delete…", key="d_delete"):
        st.session_state["confirm_delete"] = (generation.id, image.id if image else None)
    if st.session_state.get("confirm_delete") == (generation.id, image.id if image else None):
        what = "this image and its file" if image else "this failed request"
        st.warning(f"Delete {what}? This cannot be undone.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete", type="primary", key="d_confirm"):
            removed = library.delete([(generation.id, image.id if image else None)])
            _close()
            st.session_state["gallery_notice"] = f"Deleted from generation #{generation.id} ({removed} file(s) removed; files other images share are kept)."
            st.rerun()
        if no.button("Keep it", key="d_keep"):
            st.session_state.pop("confirm_delete", None)
            st.rerun()
    if image is not None:
        with st.form("d_collection", border=False):
            name = st.text_input("Add to collection", placeholder="collection name (new or existing)")
            if st.form_submit_button("Add"):
                try:
                    library.add_to_collection(name, [image.id])
                    st.success(f"Added to “{literal(name.strip())}”.")
                except StudioError as exc:
                    st.warning(literal(exc.message))


def _generate_values(generation: Any) -> dict[str, Any]:
    settings = request_settings(generation)
    values = {key: settings.get(key) if settings.get(key) is not None else default for key, default in GENERATE_DEFAULTS.items()}
    values["model"] = generation.model
    if generation.provider in load_providers():
        values["provider"] = generation.provider
    return values


def _compare_values(generation: Any) -> dict[str, Any]:
    settings = request_settings(generation)
    values = {f"compare_{key}": settings.get(key) or GENERATE_DEFAULTS[key] for key in ("prompt", "size", "background", "output_format", "moderation")}
    values["model"] = generation.model
    if generation.provider in load_providers():
        values["provider"] = generation.provider
    return values


def apply_pending_settings(slot: str = "pending_settings") -> list[str]:
    """On the Generate (or Compare) page, before its widgets: put in the settings "use these settings"
    (or "compare tiers") chose, and return one line per field it replaced, for the page to tell the user."""
    pending = st.session_state.pop(slot, None)
    if not pending:
        return []
    generation_id = pending.pop("generation_id", None)
    # A widget not drawn yet in this session shows its default: compare with that, not with "unset".
    base = settings()
    defaults = {**GENERATE_DEFAULTS, **{f"compare_{k}": v for k, v in GENERATE_DEFAULTS.items()},
                "model": base.model, "provider": base.provider.key}
    lines = describe_replacements({k: st.session_state.get(k, defaults.get(k)) for k in pending}, pending)
    st.session_state.update(pending)
    return [f"Settings from generation #{generation_id}:"] + (lines or ["nothing changed; they were already set."])


# --- bulk actions ----------------------------------------------------------------------------------

def toolbar(library: GalleryService) -> None:
    chosen = selected_items()
    images = [image_id for _, image_id in chosen if image_id is not None]
    with st.container(horizontal=True):
        st.caption(f"{len(chosen)} selected" if chosen else "Select images to act on several at once.")
        if st.button("★ Favourite", disabled=not images, key="b_fav"):
            library.favourite(images, True)
            st.session_state["gallery_notice"] = f"Marked {len(images)} image(s) as favourites."
            st.rerun()
        if st.button("☆ Unfavourite", disabled=not images, key="b_unfav"):
            library.favourite(images, False)
            st.rerun()
        if st.button("Export zip", disabled=not images, key="b_export"):
            st.session_state["export_zip"] = library.export_zip(images)
        if st.button("Delete selected…", disabled=not chosen, key="b_delete"):
            st.session_state["confirm_bulk_delete"] = chosen
        if st.button("Clear selection", disabled=not chosen, key="b_clear"):
            clear_selection()
            st.rerun()
    if st.session_state.get("export_zip"):
        st.download_button("Download the zip (originals + metadata.jsonl)", st.session_state["export_zip"],
                           file_name="image-studio-export.zip", mime="application/zip", key="b_download",
                           on_click="ignore")
    pending = st.session_state.get("confirm_bulk_delete")
    if pending:
        st.warning(f"Delete {len(pending)} selected item(s) and their files? This cannot be undone.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete them", type="primary", key="b_confirm"):
            removed = library.delete(pending)
            st.session_state.pop("confirm_bulk_delete")
            clear_selection()
            st.session_state["gallery_notice"] = f"Deleted {len(pending)} item(s); {removed} file(s) removed."
            st.rerun()
        if no.button("Keep them", key="b_keep"):
            st.session_state.pop("confirm_bulk_delete")
            st.rerun()


def importer(library: GalleryService) -> None:
    with st.expander("Import a zip"):
        upload = st.file_uploader("A zip exported from an Image Studio gallery", type=["zip"], key="g_import")
        if upload is not None and st.button("Import", key="g_import_go"):
            try:
                report = library.import_zip(upload)  # read as a file: no second copy of the zip in memory
            except StudioError as exc:
                st.error(literal(exc.message))
                return
            st.success(f"Imported {report.added} image(s); skipped {report.skipped_duplicates} already in the gallery.")
            for problem in report.problems:
                st.warning(literal(problem))


def notice() -> None:
    message = st.session_state.pop("gallery_notice", None)
    if message:
        st.success(message)


def lineage_filter(studio: Studio, view: GalleryView) -> GalleryView:
    """Resolve ?lineage=ID into the images of that lineage, and say what is shown (with a way out)."""
    if view.filters.lineage is None:
        return view
    try:
        lineage = studio.lineage(view.filters.lineage)
    except StudioError as exc:
        st.warning(f"{literal(exc.message)} Showing everything instead.")
        return replace(view, filters=replace(view.filters, lineage=None)).first_page()
    st.info(f"Lineage of image #{lineage.image_id}: " + " → ".join(f"#{i}" for i in lineage.chain)
            + ", with every edit made from it.")
    if st.button("Show everything", key="g_lineage_clear"):
        _go(replace(view, filters=replace(view.filters, lineage=None), sort="newest").first_page())
        st.rerun()
    return replace(view, filters=replace(view.filters, image_ids=tuple(sorted(lineage.image_ids))))
