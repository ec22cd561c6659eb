"""Whether this script run is a fragment's own rerun (its timer's tick, a widget inside it) or the page's
full run: a fragment that asks for the whole page when something changed need not ask during a full run,
which is drawing the whole page anyway (a second run would only delay the page)."""

from streamlit.runtime.scriptrunner import get_script_run_ctx


def in_fragment_rerun() -> bool:
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)
