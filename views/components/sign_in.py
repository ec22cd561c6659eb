"""The gate in front of every page when STUDIO_PASSWORD (or st.login's OIDC settings) is set.

A wrong guess makes the next one wait (per browser session and per client address, growing); a shared
link keeps its page and query parameters through sign-in (app.py resolves the page before the gate);
a signed cookie keeps the browser signed in across reloads until it expires (studio/core/auth.py)."""

from __future__ import annotations

import functools
import html
import math
import secrets
from pathlib import Path

import streamlit as st

from studio.core.auth import COOKIE_NAME, SESSION_S, Throttle, cookie_valid, make_cookie, password_matches, session_key
from studio.core.config import Settings
from studio.core.errors import StudioError
from views.components.literal import literal


@functools.cache
def _cookie_script() -> str:
    """The script that sets the cookie: a static asset, read the first time a cookie is handed out."""
    return Path(__file__).with_name("session_cookie.js").read_text(encoding="utf-8")


@st.cache_resource(show_spinner=False)
def _throttle() -> Throttle:
    return Throttle()  # one per server process, shared by every session


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _client_keys() -> list[tuple[str, str]]:
    """Who is guessing: this browser session, and the address it connects from (when Streamlit knows it)."""
    keys = [("session", st.session_state.setdefault("sign_in_id", secrets.token_hex(8)))]
    address = st.context.ip_address
    if address:
        keys.append(("address", address))
    return keys


def signed_in(settings: Settings) -> bool:
    """Whether the gate is open: no password set, signed in this session, or a valid cookie from before."""
    expected = settings.password
    if not expected:
        return not (oidc_configured() and not st.user.is_logged_in)
    if st.session_state.get("signed_in"):
        return True
    if not st.session_state.get("signed_out") and cookie_valid(_session_key(expected, settings), st.context.cookies.get(COOKIE_NAME)):
        st.session_state["signed_in"] = True
        return True
    return False


def _session_key(password: str, settings: Settings) -> bytes:
    """The cookie signing key; a damaged secret file is one message on the page, not a traceback."""
    try:
        return session_key(password, settings.data_dir)
    except StudioError as exc:
        st.error(literal(exc.message))
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def sign_in_form(settings: Settings) -> None:
    """The password form (or the OIDC button); stops the run."""
    expected = settings.password
    st.title("Image Studio")
    if not expected:
        st.button("Log in", on_click=st.login)
        st.stop()
    throttle, keys = _throttle(), _client_keys()
    if st.context.cookies.get(COOKIE_NAME) and not st.session_state.get("signed_out"):
        st.info("Your sign-in has ended (it expired, or the password changed); enter the password again.")
    with st.form("sign-in"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            wait = throttle.wait_s(keys)
            if wait > 0:  # not even checked: guessing faster than the wait gains nothing
                st.warning(f"Too many wrong passwords. Wait {math.ceil(wait)} s before the next try.")
            elif password_matches(given, expected):
                throttle.succeeded(keys)
                st.session_state["signed_in"] = True
                st.session_state.pop("signed_out", None)
                st.session_state["set_cookie"] = make_cookie(_session_key(expected, settings))
                st.rerun()
            else:
                wait = throttle.failed(keys)
                st.error("That password is not right.")
                if wait > 0:
                    st.warning(f"Wait {math.ceil(wait)} s before the next try.")
    st.stop()


def cookie_updates() -> None:
    """After sign-in (or sign-out): hand the browser its cookie; a tiny script, run once."""
    value = st.session_state.pop("set_cookie", None)
    if value is None:
        return
    holder = (f'<span data-studio-cookie data-name="{COOKIE_NAME}" data-value="{html.escape(value)}" '
              f'data-max-age="{SESSION_S}"></span>')
    st.html(holder + f"<script>{_cookie_script()}</script>", unsafe_allow_javascript=True)


def sign_out_button(settings: Settings) -> None:
    if settings.password and st.sidebar.button("Sign out", key="sign_out"):
        st.session_state["signed_in"] = False
        st.session_state["signed_out"] = True  # the cookie this browser still sends opens nothing now
        st.session_state["set_cookie"] = ""  # an empty value clears the cookie
        st.rerun()
