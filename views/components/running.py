"""A request running on a worker thread while the page counts the seconds and shows partial images."""

from __future__ import annotations

import concurrent.futures
import time
from typing import Callable, TypeVar

import streamlit as st

from studio.core.request import ValidationError
from studio.provider.client import PartialCallback
from views.components.literal import literal

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def _executor() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="studio-request")


def run_with_preview(label: str, work: Callable[[PartialCallback], T], preview: "st.delta_generator.DeltaGenerator") -> T:
    """Run a request (it can take minutes) on a worker thread while a status element counts the seconds.
    `work` gets an on_partial callback, and each partial image is shown in `preview` (an st.empty()) as it
    arrives. The worker thread only hands the bytes over; this script thread draws them, since Streamlit
    elements belong to the script run."""
    latest: dict[str, tuple[int, bytes]] = {}

    def on_partial(index: int, data: bytes) -> None:
        latest["partial"] = (index, data)

    started = time.monotonic()
    shown = None
    with st.status(label, expanded=False) as status:
        future = _executor().submit(work, on_partial)
        while not future.done():
            concurrent.futures.wait([future], timeout=0.2)
            current = latest.get("partial")
            if current is not None and current is not shown:
                preview.image(current[1], caption=f"Live preview: partial image {current[0] + 1}", width=512)
                shown = current
            status.update(label=f"{label} {time.monotonic() - started:.0f} s")
        status.update(label=f"{label} done in {time.monotonic() - started:.1f} s", state="complete")
    preview.empty()  # the final image takes the preview's place
    return future.result()


def run_and_report(label: str, work: Callable[[PartialCallback], T], preview: "st.delta_generator.DeltaGenerator") -> T | None:
    """run_with_preview, with what went wrong shown as clear lines (never a traceback); None when it failed."""
    try:
        return run_with_preview(label, work, preview)
    except ValidationError as exc:
        for problem in exc.problems:
            st.error(literal(problem))
    except Exception as exc:
        st.error(literal(exc))
    return None
