"""A prompt template on Generate: how many prompts it makes, which, and what they cost, shown as it is typed;
above the limit the user sets, a confirmation before anything is sent."""

from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st

from studio.core.request import ImageRequest, ValidationError
from studio.core.template import DEFAULT_CONFIRM_LIMIT, MAX_COMBINATIONS
from studio.services.templates import TemplatePreview, preview_template
from studio.services.studio import Studio
from views.components.literal import literal

EXPAND_KEY = "template_expand"
LIMIT_KEY = "template_confirm_limit"
CONFIRM_KEY = "template_confirm"  # the requests a confirmation is asked for
SHOWN = 50  # prompts listed in the preview; the count says how many there are


def template_toggle() -> bool:
    return st.toggle("Expand {a|b} groups", value=True, key=EXPAND_KEY, persist_state="session",
                     help="`{red|green} fox in {snow|rain}` sends one request per combination (4 here). "
                          "Write `\\{` `\\}` `\\|` for a literal brace or bar, or turn this off to send the prompt as typed.")


def template_plan(studio: Studio, request: ImageRequest, expand: bool) -> TemplatePreview | None:
    """The preview of the prompt box as a template, drawn under it; None when it is sent as typed (no brace or
    backslash, or expansion off). Raises nothing: a malformed template is shown here, and `blocked` tells the button."""
    st.session_state.pop("template_problems", None)
    if not expand or not any(mark in request.prompt for mark in "{}\\"):
        return None
    limit = int(st.session_state.get(LIMIT_KEY) or DEFAULT_CONFIRM_LIMIT)
    try:
        plan = preview_template(studio, request.prompt, request, limit)
    except ValidationError as exc:  # the template, or a field of its requests: said now, and nothing is sent
        st.session_state["template_problems"] = exc.problems
        for problem in exc.problems:
            st.error(literal(problem))
        if any("group" in p or "`{`" in p or "`}`" in p for p in exc.problems):
            st.caption("Braces meant as text? Turn off “Expand {a|b} groups” to send the prompt as typed.")
        return None
    if not plan.variants[0].picks and plan.count == 1:
        return plan  # escapes only: one prompt, nothing to preview
    with st.container(border=True):
        st.markdown(f"**Template:** {literal(plan.summary)}")
        listed = "\n".join(f"{i}. {v.prompt}" for i, v in enumerate(plan.variants[:SHOWN], start=1))
        more = f"\n… and {plan.count - SHOWN} more" if plan.count > SHOWN else ""
        with st.expander(f"The {plan.count} prompt(s)", expanded=plan.count <= 6):
            st.text(listed + more)
        st.number_input("Ask before sending more than this many prompts", min_value=1, max_value=MAX_COMBINATIONS,
                        value=DEFAULT_CONFIRM_LIMIT, step=1, key=LIMIT_KEY, persist_state="session")
    return plan


def blocked() -> bool:
    """Whether the template shown is malformed (nothing may be sent)."""
    return bool(st.session_state.get("template_problems"))


def ask_to_confirm(plan: TemplatePreview) -> None:
    """Generate was pressed on a template above the limit: ask (below the button) before sending."""
    st.session_state[CONFIRM_KEY] = tuple(plan.requests)


def confirmation(plan: TemplatePreview | None, send_all: Callable[[Sequence[ImageRequest]], object]) -> None:
    """The question asked by `ask_to_confirm`, until it is answered; a template changed meanwhile is asked about again."""
    pending = st.session_state.get(CONFIRM_KEY)
    if pending is None:
        return
    if plan is None or tuple(plan.requests) != pending:
        del st.session_state[CONFIRM_KEY]
        return
    with st.container(border=True):
        st.warning(f"This template makes **{plan.count}** prompts, more than the {plan.confirm_limit} you set to send "
                   f"without asking. Each is its own request, billed on its own: {literal(plan.cost_text)}.")
        go, cancel = st.columns(2)
        if go.button(f"Send all {plan.count}", type="primary", key="template_send_all"):
            del st.session_state[CONFIRM_KEY]
            send_all(plan.requests)
        elif cancel.button("Cancel", key="template_cancel"):
            del st.session_state[CONFIRM_KEY]
            st.rerun()
