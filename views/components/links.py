"""Ids read from the page's URL (`?generation=`, `?source_image=`, `?compare=`): a bad one is dropped
from the URL with a notice saying so, never a traceback."""

from __future__ import annotations

import streamlit as st

from studio.core.link_values import parse_id
from views.components.literal import literal


def link_id(name: str) -> int | None:
    value, problem = parse_id(st.query_params.get(name), name)
    if problem:
        st.warning(literal(problem))
        del st.query_params[name]
    return value
