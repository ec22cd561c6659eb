"""The jobs tray, in the sidebar of every page: the gallery's queued and running jobs with their elapsed time
and newest partial image, a cancel button each, and a toast when one this session saw finishes. The tray is
a fragment with a small clock element (jobs_clock/clock.js) that reruns only the tray, once a second while
any job is active, and at once when a page's own fragment sent a job (`jobs_sent_signal`): pressing
Generate reruns that fragment, not the page, and the tray still shows the new job. When a job ends the
whole page runs once, so its result shows wherever the user is (the Gallery lists it)."""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from studio.core.errors import StudioError
from studio.services.jobs import JobPool, JobView, shared_pool
from studio.services.studio import Studio
from views.components.fragments import in_fragment_rerun, rerun_page_if_changed_outside
from views.components.literal import literal
from views.components.session import current_studio

REFRESH_S = 1.0
SENT = "jobs_sent_seq"  # how many jobs this session sent: the signal's count


@functools.cache
def _clock_js() -> str:
    return (Path(__file__).parent / "jobs_clock" / "clock.js").read_text(encoding="utf-8")


# Not style-isolated: it shows nothing, and needs no shadow root (the Gallery's grid is the page's one).
_clock = st.components.v2.component("studio_jobs_clock", html="<span hidden></span>", js=_clock_js(), isolate_styles=False)


def note_sent() -> None:
    """A page queued a job for this session (drawn by its next `jobs_sent_signal`)."""
    st.session_state[SENT] = st.session_state.get(SENT, 0) + 1


def jobs_sent_signal(page: str) -> None:
    """In a page's fragment: tells the tray, in the browser, that a job was just sent from it."""
    _clock(key=f"jobs_signal_{page}", data={"role": "signal", "seq": st.session_state.get(SENT, 0)}, height=0)


def job_pool(studio: Studio) -> JobPool:
    """This server process's pool for the gallery (made, and a dead process's jobs settled, on first use)."""
    return shared_pool(studio)


def session_jobs_tray() -> None:
    """The tray for this session's gallery (app.py draws it after the page, on every page)."""
    jobs_tray(current_studio())


def jobs_tray(studio: Studio) -> None:
    try:
        pool = job_pool(studio)
    except StudioError as exc:  # the database is away: the page itself says so; the tray says it briefly
        st.sidebar.caption(f"Jobs: {literal(exc.message)}")
        return
    with st.sidebar:
        st.fragment(_tray)(pool)


def _tray(pool: JobPool) -> None:
    rerun_page_if_changed_outside()  # a page's field changed in the moment of a tick: the page runs for it
    try:
        jobs = pool.active()
    except StudioError as exc:
        st.caption(f"Jobs: {literal(exc.message)}")
        _tick(False)
        return
    ended = _note_ended(pool, jobs)
    st.subheader("Jobs")
    if not jobs:
        st.caption("No job queued or running.")
    for job in jobs:
        _job_card(pool, job)
    if ended and in_fragment_rerun():
        # A result landed: the whole page runs again so it shows there (the Gallery, a page's results), the
        # toast with it. Not during the page's own run: it has just drawn the page.
        st.session_state["jobs_tray_toasts"] = ended
        st.rerun()
    _tick(bool(jobs))
    for message in st.session_state.pop("jobs_tray_notes", []):  # what a Cancel did
        st.toast(message, icon=":material/cancel:")
    cancelled_here: set[int] = st.session_state.setdefault("jobs_cancelled_here", set())
    for view in st.session_state.pop("jobs_tray_toasts", []) + ended:
        if view.id not in cancelled_here:  # its Cancel already said what happened
            _toast(view)


def _tick(active: bool) -> None:
    """The tray's clock: another look in REFRESH_S while a job is active (or when a page sends one)."""
    runs = st.session_state["jobs_tray_runs"] = st.session_state.get("jobs_tray_runs", 0) + 1  # new data: armed again
    _clock(key="jobs_clock", data={"role": "clock", "active": active, "every_ms": int(REFRESH_S * 1000), "n": runs},
           on_tick_change=lambda: None, height=0)


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
