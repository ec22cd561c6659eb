"""The gate in front of every page when STUDIO_PASSWORD (or st.login's OIDC settings) is set."""

from __future__ import annotations

import streamlit as st

from studio.core.auth import password_matches
from views.components.session import settings


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def require_sign_in() -> None:
    """Show nothing before sign-in when STUDIO_PASSWORD or st.login's OIDC settings are present."""
    expected = settings().password
    if expected:
        if st.session_state.get("signed_in"):
            return
        st.title("Image Studio")
        with st.form("sign-in"):
            given = st.text_input("Password", type="password")
            if st.form_submit_button("Sign in"):
                if password_matches(given, expected):
                    st.session_state["signed_in"] = True
                    st.rerun()
                st.error("That password is not right.")
        st.stop()
    elif oidc_configured() and not st.user.is_logged_in:
        st.title("Image Studio")
        st.button("Log in", on_click=st.login)
        st.stop()
