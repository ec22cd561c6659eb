"""The studio for this browser session: settings, the shared gallery, the provider and model picked in the sidebar."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from studio.core.config import ConfigError, DEMO_PROVIDER, Settings, load_providers, load_settings
from studio.core.errors import StudioError
from studio.core.pricing import SpendRow
from studio.services.studio import Studio
from views.components.literal import literal
from views.components.spend import spend_sidebar


@st.cache_resource(show_spinner=False)
def _base_studio(data_dir: str, database_url: str, storage_url: str = "") -> Studio:
    # Keyed by where the gallery lives; opening it runs migrations once per process.
    return Studio.open(load_settings())


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        st.error(f"The studio's configuration needs a change: {literal(exc)}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def current_studio() -> Studio:
    """The studio for this browser session, with the provider and model picked in the sidebar."""
    base = settings()
    try:  # a damaged, newer or unreachable gallery: one message, and the next run tries again
        studio = _base_studio(str(base.data_dir), base.database_url, base.storage_url or "")
    except StudioError as exc:
        st.error(literal(exc.message))
        st.stop()
        raise  # unreachable: st.stop() ends the script run
    return studio.with_settings(base.for_session(st.session_state.get("provider"), st.session_state.get("model")))


def sidebar(studio: Studio, spend_rows: Sequence[SpendRow] | None = None) -> None:
    """The provider, model and spend totals; `spend_rows`: the gallery's spend rollup if the page has it."""
    s = studio.settings
    providers = load_providers(s.data_dir)
    with st.sidebar:
        if studio.read_only_notice:
            st.warning(literal(studio.read_only_notice))
        st.subheader("Provider")
        keys = list(providers)
        st.selectbox(
            "Provider",
            keys,
            index=keys.index(s.provider.key),
            format_func=lambda k: providers[k].label,
            key="provider",
            on_change=lambda: st.session_state.pop("model", None),
        )
        models = list(s.provider.models)
        if s.model not in models:
            models.insert(0, s.model)
        st.selectbox("model", models, index=models.index(s.model), key="model", accept_new_options=True,
                     help="Pick one, or type any model name the provider serves.")
        st.caption(f"Base URL host: `{s.provider.host}`")
        if s.provider.key == DEMO_PROVIDER:
            st.info("Demo endpoint: offline placeholder images, not a real model.")
        elif s.has_key:
            st.caption("API key: set")
        else:
            st.warning(s.missing_key_message())
            st.button("Use the demo endpoint", on_click=_use_demo)
    spend_sidebar(studio, spend_rows)  # on every page, not only Compare


def _use_demo() -> None:
    st.session_state["provider"] = DEMO_PROVIDER
    st.session_state.pop("model", None)
