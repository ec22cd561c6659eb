"""A page's requests as background jobs: sent at once, followed by status boxes that count the seconds and
show partial images, and their results shown as they land.

A request is a job of the process's pool (studio.services.jobs), not of the script run that sent it: a click,
a page switch or a closed tab ends that script run, but the job goes on and lands in the gallery. The page
keeps the ids of the jobs it sent in the session. The button, the status lines and the results sit in the
page's own fragment (a press reruns only that part), and a nested fragment refreshes the status lines once a
second while any job runs. A second click on Generate while the same request still runs is asked about
before it is sent again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Hashable

import streamlit as st

from studio.core.errors import StudioError
from studio.core.request import ValidationError
from studio.services.jobs import JobView
from studio.services.studio import Outcome, Studio
from views.components.jobs_tray import job_pool, jobs_sent_signal, note_sent
from views.components.fragments import in_fragment_rerun
from views.components.literal import literal

Submit = Callable[[], int]  # records the job and returns its id; raises for bad input, nothing recorded then


@dataclass
class Sent:
    job_id: int
    label: str
    fingerprint: Hashable  # what makes two requests "the same request"
    settled: JobView | None = None  # its final state, once it ended
    current: JobView | None = None  # as of the last look, while it runs
    shown: bool = False
    errors: list[str] = field(default_factory=list)


def _sent(page: str) -> list[Sent]:
    return st.session_state.setdefault(f"{page}_jobs", [])


def _problems(page: str) -> list[str]:
    return st.session_state.setdefault(f"{page}_problems", [])


def start(page: str, label: str, fingerprint: Hashable, submit: Submit) -> None:
    """Record and queue the job; what is wrong with the request is shown instead (nothing is sent)."""
    try:
        job_id = submit()
    except ValidationError as exc:  # nothing was sent: every field to change, one line each
        _problems(page).extend(exc.problems)
        return
    except StudioError as exc:
        _problems(page).append(exc.message)
        return
    _sent(page).append(Sent(job_id, label, fingerprint))
    note_sent()


def send_many(page: str, studio: Studio, submit: Callable[[], list[tuple[int, str]]]) -> None:
    """Several jobs at once (a batch file): `submit` returns (job id, label) for each one it queued."""
    _refresh(page, studio)
    if not is_running(page):
        session_results(page).clear()
        _sent(page).clear()
    _problems(page).clear()
    try:
        queued = submit()
    except ValidationError as exc:
        _problems(page).extend(exc.problems)
        return
    except StudioError as exc:
        _problems(page).append(exc.message)
        return
    _sent(page).extend(Sent(job_id, label, ("batch", job_id)) for job_id, label in queued)
    if queued:
        note_sent()


def is_running(page: str, fingerprint: Hashable | None = None) -> bool:
    """Whether a job of this page (the same request, given its fingerprint) is still queued or running."""
    return any(sent.settled is None and (fingerprint is None or sent.fingerprint == fingerprint) for sent in _sent(page))


def send(page: str, studio: Studio, label: str, fingerprint: Hashable, submit: Submit) -> bool:
    """Send, unless the same request is still running: then ask first (a second one is billed again).
    Returns whether it asked."""
    _refresh(page, studio)
    if is_running(page, fingerprint):
        _ask_again(page, label, fingerprint, submit)
        return True
    if not is_running(page):  # a request sent while none runs starts a fresh set of results to show
        session_results(page).clear()
        _sent(page).clear()
    _problems(page).clear()
    start(page, label, fingerprint, submit)
    return False


@st.dialog("This request is still running")
def _ask_again(page: str, label: str, fingerprint: Hashable, submit: Submit) -> None:
    st.write("The same request is still running. Send it again? A second request is billed again; "
             "both results are shown when they come back.")
    again, wait = st.columns(2)
    if again.button("Send it again", type="primary", key=f"{page}_send_again"):
        start(page, label, fingerprint, submit)
        st.rerun()
    if wait.button("Wait for the first", key=f"{page}_wait"):
        st.rerun()


def _refresh(page: str, studio: Studio) -> int:
    """Settle the page's jobs that ended (their generations join the results); returns how many just ended."""
    open_ = [sent for sent in _sent(page) if sent.settled is None]
    if not open_:
        return 0
    views = {view.id: view for view in job_pool(studio).views([sent.job_id for sent in open_])}
    ended = 0
    for sent in open_:
        view = views.get(sent.job_id)
        if view is None:
            continue
        if view.status in ("queued", "running"):
            sent.current = view
            continue
        sent.settled = view
        ended += 1
        if view.generation_id is not None and view.generation_id not in session_results(page):
            session_results(page).append(view.generation_id)
    return ended


def follow(page: str) -> None:
    """A status box per job of this page: counting while it runs (with the newest partial image), then done,
    failed or cancelled (as of the last `_refresh`)."""
    for sent in _sent(page):
        view = sent.settled or sent.current
        if view is not None:
            _status_box(sent, view)


def _landed(page: str, studio: Studio) -> list[Outcome]:
    """The outcomes of the page's jobs that ended since the last look."""
    finished = []
    for sent in _sent(page):
        if sent.settled is not None and not sent.shown and sent.settled.generation_id is not None:
            sent.shown = True
            outcome = studio.outcome(sent.settled.generation_id)
            if outcome is not None:
                finished.append(outcome)
    return finished


def _status_box(sent: Sent, view: JobView) -> None:
    took = f"{view.elapsed_s:.1f} s"
    if view.status == "queued":
        status_line("running", f"{sent.label} queued (job #{sent.job_id}, {view.elapsed_s:.0f} s)")
    elif view.status == "running":
        status_line("running", f"{sent.label} {view.elapsed_s:.0f} s (job #{sent.job_id})")
        if view.partial is not None:
            st.image(view.partial[1], caption=f"Live preview: partial image {view.partial[0] + 1}", width=512)
    elif view.status == "succeeded":
        status_line("complete", f"{sent.label} done in {took}")
    else:
        word = {"cancelled": "cancelled", "interrupted": "interrupted"}.get(view.status, "failed")
        status_line("error", f"{sent.label} {word} after {took}")
        if view.generation_id is None and view.error:  # with a generation, its result shows the error
            st.error(literal(view.error))


STATUS_LOOK = {"running": ("blue", "●"), "complete": ("green", "✔"), "error": ("orange", "✖")}


def status_line(state: str, label: str) -> None:
    """One job's state as a line of text (`label` is markdown-safe) behind a coloured mark. Not st.status: it
    sleeps 50 ms per box (its guard against quick updates), which a press redrawing a few boxes cannot afford."""
    color, mark = STATUS_LOOK[state]
    st.markdown(f":{color}[{mark}] {label}")


def live(page: str, studio: Studio, show: Callable[[list[Outcome]], None]) -> None:
    """The page's status lines, refreshed once a second by a nested fragment while a job runs (only they: the
    results, images and all, are drawn by the calling run); when a job ends the whole page runs once more,
    which shows its result and, once none runs, stops the refreshing. Called inside the page's fragment."""
    for problem in _problems(page):  # said once, in the run after the click
        st.error(literal(problem))
    _problems(page).clear()
    jobs_sent_signal(page)  # a job just sent from the page's fragment: the tray shows it without a page run
    _refresh(page, studio)
    if is_running(page):
        st.fragment(_ticking, run_every=1.0)(page, studio)
    else:
        follow(page)
    show(_landed(page, studio))


def _ticking(page: str, studio: Studio) -> None:
    if _refresh(page, studio) and in_fragment_rerun():
        st.rerun()  # a job ended: the whole page, so that its result shows
    follow(page)


def session_results(page: str) -> list[int]:
    """The generation ids this page's requests came back with in this session, in the order they came back."""
    return st.session_state.setdefault(f"{page}_results", [])
