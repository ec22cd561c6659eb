"""Fragments and the page around them. Whether this script run is a fragment's own rerun (its timer's tick, a
widget inside it) or the page's full run: a fragment that asks for the whole page when something changed need
not ask during a full run, which is drawing the whole page anyway (a second run would only delay the page).
And whether a fragment's own rerun also carries a change made outside it, which the page must run for."""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx


def in_fragment_rerun() -> bool:
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def changed_outside() -> bool:
    """Whether this fragment's own rerun also carries a change to a widget outside the fragment.

    Streamlit's browser side sends the widget changes of one moment as one rerun, and when one of them is a
    fragment's own event (the jobs tray's clock, the Gallery grid asking for a page) the whole batch reruns
    that fragment alone: a search or a field changed in that moment reached the session, but the page was
    not run for it (the box said "lighthouse", the grid and the URL did not). Streamlit has no public way to
    ask which widgets changed, so this reads its session state: the version is pinned, and
    the batch tests in tests/test_e2e_gallery.py and tests/test_e2e_jobs.py fail if this stops seeing
    the change."""
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return False
    state = ctx.session_state._state  # SafeSessionState -> SessionState
    widgets = state._new_widget_state
    for widget_id in list(widgets.states):
        metadata = widgets.widget_metadata.get(widget_id)
        if metadata is not None and metadata.fragment_id not in ctx.fragment_ids_this_run and state._widget_changed(widget_id):
            return True
    return False


def rerun_page_if_changed_outside() -> None:
    """First thing in a fragment that runs on its own events: the page runs instead when one came with them."""
    if changed_outside():
        st.rerun()


def press_with_page(pressed: bool, key: str) -> bool:
    """A button in a fragment that sends what the page's last full run drew: when the press came in one rerun
    with a change outside the fragment (a prompt committed on blur as the button was pressed), the page runs
    first, so what is sent is what the page now shows, and the press is kept for that run."""
    kept = bool(st.session_state.pop(key, False))
    if pressed and changed_outside():
        st.session_state[key] = True
        st.rerun()
    return pressed or kept
