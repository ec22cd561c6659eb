"""The jobs tray, in the sidebar of every page: the gallery's queued and running jobs with their elapsed time
and newest partial image, a cancel button each, and a toast when one this session saw finishes. A fragment
refreshes only the tray, once a second while any job is active; when one ends the whole page runs once, so
its result shows wherever the user is (the Gallery lists it)."""

from __future__ import annotations

import streamlit as st

from studio.core.errors import StudioError
from studio.services.jobs import JobPool, JobView, shared_pool
from studio.services.studio import Studio
from views.components.fragments import in_fragment_rerun
from views.components.literal import literal
from views.components.session import current_studio

REFRESH_S = 1.0


def job_pool(studio: Studio) -> JobPool:
    """This server process's pool for the gallery (made, and a dead process's jobs settled, on first use)."""
    return shared_pool(studio)


def session_jobs_tray() -> None:
    """The tray for this session's gallery (app.py draws it after the page, on every page)."""
    jobs_tray(current_studio())


def jobs_tray(studio: Studio) -> None:
    try:
        pool = job_pool(studio)
        every = REFRESH_S if pool.active() else None
    except StudioError as exc:  # the database is away: the page itself says so; the tray says it briefly
        st.sidebar.caption(f"Jobs: {literal(exc.message)}")
        return
    with st.sidebar:
        st.fragment(_tray, run_every=every)(pool, every is not None)


def _tray(pool: JobPool, refreshing: bool) -> None:
    try:
        jobs = pool.active()
    except StudioError as exc:
        st.caption(f"Jobs: {literal(exc.message)}")
        return
    ended = _note_ended(pool, jobs)
    st.subheader("Jobs")
    if not jobs:
        st.caption("No job queued or running.")
    for job in jobs:
        _job_card(pool, job)
    if refreshing and (ended or not jobs) and in_fragment_rerun():
        # A result landed: the whole page runs again so it shows there (the Gallery, a page's results), the
        # toast with it; and when no job is left, that run stops the refreshing. Not during the page's own
        # run: it has just drawn the page (a press of Generate would otherwise wait for a second run).
        st.session_state["jobs_tray_toasts"] = ended
        st.rerun()
    for message in st.session_state.pop("jobs_tray_notes", []):  # what a Cancel did
        st.toast(message, icon=":material/cancel:")
    cancelled_here: set[int] = st.session_state.setdefault("jobs_cancelled_here", set())
    for view in st.session_state.pop("jobs_tray_toasts", []) + ended:
        if view.id not in cancelled_here:  # its Cancel already said what happened
            _toast(view)


def _job_card(pool: JobPool, job: JobView) -> None:
    with st.container(border=True, key=f"job_card_{job.id}"):
        state = "running" if job.status == "running" else "queued"
        st.caption(f"Job #{job.id} · {state} · {job.elapsed_s:.0f} s")
        st.text(job.label[:80] + ("…" if len(job.label) > 80 else ""))
        if job.partial is not None:
            st.image(job.partial[1], caption=f"partial image {job.partial[0] + 1}", width="stretch")
        st.button("Cancel", key=f"cancel_job_{job.id}", on_click=_cancel, args=(pool, job.id),
                  help="A queued job is never sent; a running one's answer is not kept (its cost is unknown).")


def _cancel(pool: JobPool, job_id: int) -> None:
    st.session_state.setdefault("jobs_tray_notes", []).append(pool.cancel(job_id))
    st.session_state.setdefault("jobs_cancelled_here", set()).add(job_id)


def _note_ended(pool: JobPool, jobs: list[JobView]) -> list[JobView]:
    """The jobs this session saw active that have ended since (each said once)."""
    watched: set[int] = st.session_state.setdefault("jobs_tray_watched", set())
    active = {job.id for job in jobs}
    gone = sorted(watched - active)
    watched.intersection_update(active)
    watched.update(active)
    return pool.views(gone) if gone else []


def _toast(view: JobView) -> None:
    prompt = literal(view.label[:40])
    if view.status == "succeeded":
        st.toast(f"Job #{view.id} done: {prompt} (generation #{view.generation_id})", icon=":material/check_circle:")
    elif view.status == "cancelled":
        st.toast(f"Job #{view.id} cancelled: {prompt}", icon=":material/cancel:")
    else:
        st.toast(f"Job #{view.id} {view.status}: {prompt}", icon=":material/error:")
