"""Requests running on worker threads while the page counts the seconds and shows partial images.

A request is kept in the session while it runs, not in the script run that sent it: a click or a page
switch ends that script run (Streamlit reruns from the top), but the request goes on, and the next run
picks it up again and shows its result. That is also how a second click on Generate is caught: the same
request still running is asked about before it is sent again."""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable

import streamlit as st

from studio.core.errors import StudioError
from studio.core.request import ValidationError
from studio.core.wire import PartialCallback
from studio.services.studio import Outcome
from views.components.literal import literal

Work = Callable[[PartialCallback], Outcome]


@st.cache_resource(show_spinner=False)
def _executor() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="studio-request")


@dataclass
class Running:
    label: str
    fingerprint: Hashable  # what makes two requests "the same request"
    future: concurrent.futures.Future
    started: float = field(default_factory=time.monotonic)
    latest: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # the newest partial image


def _running(page: str) -> list[Running]:
    return st.session_state.setdefault(f"{page}_running", [])


def start(page: str, label: str, fingerprint: Hashable, work: Work) -> None:
    """Send a request on a worker thread; the page follows it with `follow`."""
    entry = Running(label, fingerprint, concurrent.futures.Future())

    def on_partial(index: int, data: bytes) -> None:  # the worker hands the bytes over; the script draws them
        entry.latest["partial"] = (index, data)

    entry.future = _executor().submit(work, on_partial)
    _running(page).append(entry)


def is_running(page: str, fingerprint: Hashable | None = None) -> bool:
    """Whether a request of this page (the same one, given its fingerprint) is still running."""
    return any(not r.future.done() and (fingerprint is None or r.fingerprint == fingerprint) for r in _running(page))


def send(page: str, label: str, fingerprint: Hashable, work: Work) -> bool:
    """Send, unless the same request is still running: then ask first (a second one is billed again).
    Returns whether it asked; the page then shows what runs without waiting, so the dialog can answer."""
    if is_running(page, fingerprint):
        _ask_again(page, label, fingerprint, work)
        return True
    if not is_running(page):  # a request sent while none runs starts a fresh set of results to show
        session_results(page).clear()
    start(page, label, fingerprint, work)
    return False


@st.dialog("This request is still running")
def _ask_again(page: str, label: str, fingerprint: Hashable, work: Work) -> None:
    st.write("The same request is still running. Send it again? A second request is billed again; "
             "both results are shown when they come back.")
    again, wait = st.columns(2)
    if again.button("Send it again", type="primary", key=f"{page}_send_again"):
        start(page, label, fingerprint, work)
        st.rerun()
    if wait.button("Wait for the first", key=f"{page}_wait"):
        st.rerun()


def follow(page: str, wait: bool = True) -> list[Outcome]:
    """Show a status box per request of this page still running and, with `wait`, wait for them in turn
    (a rerun ends the waiting, never the request). Returns the outcomes that came back, failed ones included;
    what went wrong is shown as clear lines under its status box, never a traceback."""
    finished: list[Outcome] = []
    for entry in list(_running(page)):
        preview = st.empty()
        shown = None
        with st.status(entry.label, expanded=False) as status:
            while wait and not entry.future.done():
                concurrent.futures.wait([entry.future], timeout=0.2)
                current = entry.latest.get("partial")
                if current is not None and current is not shown:
                    preview.image(current[1], caption=f"Live preview: partial image {current[0] + 1}", width=512)
                    shown = current
                status.update(label=f"{entry.label} {time.monotonic() - entry.started:.0f} s")
            if not entry.future.done():
                status.update(label=f"{entry.label} still running ({time.monotonic() - entry.started:.0f} s)")
                continue
            outcome, problems = _result(entry)
            took = f"{time.monotonic() - entry.started:.1f} s"
            if problems or (outcome is not None and outcome.error is not None):
                status.update(label=f"{entry.label} failed after {took}", state="error")
            else:
                status.update(label=f"{entry.label} done in {took}", state="complete")
        preview.empty()  # the final image takes the preview's place
        _running(page).remove(entry)
        for problem in problems:
            st.error(literal(problem))
        if outcome is not None:
            finished.append(outcome)
            if outcome.generation_id not in session_results(page):
                session_results(page).append(outcome.generation_id)
    return finished


def _result(entry: Running) -> tuple[Outcome | None, list[str]]:
    try:
        return entry.future.result(), []
    except ValidationError as exc:  # nothing was sent: every field to change, one line each
        return None, list(exc.problems)
    except StudioError as exc:
        return None, [exc.message]
    except Exception as exc:  # never a traceback on the page
        return None, [f"The request failed unexpectedly ({type(exc).__name__}); try again."]


def session_results(page: str) -> list[int]:
    """The generation ids this page's requests came back with in this session, in the order they came back."""
    return st.session_state.setdefault(f"{page}_results", [])
