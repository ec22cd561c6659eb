"""Arena page: two images of one prompt from different tiers, in random order and without their settings;
pick the better one (← / →) or call it a tie (↓). Votes are stored; the Insights page adds them up."""

from __future__ import annotations

import streamlit as st

from studio.core.errors import StudioError
from studio.services.arena import ArenaPair, next_pair, vote
from studio.services.comparisons import recent_comparisons
from views.components.literal import literal
from views.components.session import current_studio, sidebar

studio = current_studio()
sidebar(studio)
st.title("Arena")
st.caption("Which is better? The two images answer the same prompt at different tiers; which tier is hidden until "
           "you vote. Keys: ← left, → right, ↓ tie.")

past = {c.id: c.title for c in recent_comparisons(studio)}
source = st.selectbox("Pairs from", [None, *past], key="arena_source", format_func=lambda g: "any saved comparison" if g is None else past[g],
                      on_change=lambda: st.session_state.pop("arena_pair", None))


def draw() -> ArenaPair | None:
    try:
        return next_pair(studio, st.session_state.get("arena_source"))
    except StudioError as exc:
        st.session_state["arena_problem"] = exc.message
        return None


def cast(choice: str) -> None:
    """A button (or its key) was pressed: store the vote for the pair that was shown, then show another."""
    shown: ArenaPair | None = st.session_state.get("arena_pair")
    if shown is None:
        return
    try:
        vote(studio, shown, choice)
    except StudioError as exc:
        st.session_state["arena_problem"] = exc.message
        return
    st.session_state["arena_votes"] = st.session_state.get("arena_votes", 0) + 1
    st.session_state["arena_last"] = f"Vote stored: {choice}. It was {shown.left.cell.quality} (left) against {shown.right.cell.quality} (right)."
    st.session_state["arena_pair"] = draw()


if "arena_pair" not in st.session_state:
    st.session_state["arena_pair"] = draw()
pair: ArenaPair | None = st.session_state["arena_pair"]
problem = st.session_state.pop("arena_problem", None)
if problem:
    st.error(literal(problem))
last = st.session_state.pop("arena_last", None)
if last:
    st.success(last)

if pair is None:
    st.info("No comparison with two tiers yet. Run one on the Compare page (for example low, medium and high), then come back.")
    st.stop()

st.markdown(f"**Prompt:** {literal(pair.prompt)}")
left, right = st.columns(2)
left.image(pair.left.src, caption="Left", width="stretch")
right.image(pair.right.src, caption="Right", width="stretch")
buttons = st.columns(3)
buttons[0].button("Left is better", key="arena_left", on_click=cast, args=("left",), shortcut="Left", icon=":material/arrow_back:", width="stretch")
buttons[1].button("Tie", key="arena_tie", on_click=cast, args=("tie",), shortcut="Down", icon=":material/arrow_downward:", width="stretch")
buttons[2].button("Right is better", key="arena_right", on_click=cast, args=("right",), shortcut="Right", icon=":material/arrow_forward:", width="stretch")
st.caption(f"{st.session_state.get('arena_votes', 0)} vote(s) this session. The Insights page shows the win rates.")
