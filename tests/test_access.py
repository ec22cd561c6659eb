"""Access: with STUDIO_PASSWORD set nothing shows before sign-in; without it a local studio opens directly."""


import pytest
from streamlit.testing.v1 import AppTest

from studio.core.auth import Throttle, cookie_valid, make_cookie, password_matches, session_key
from tests.conftest import ROOT


def open_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def test_without_a_password_the_studio_opens_directly(studio_env):
    at = open_app()
    assert [t.value for t in at.title] == ["Generate"]


def test_with_a_password_nothing_shows_before_sign_in(studio_env, monkeypatch):
    monkeypatch.setenv("STUDIO_PASSWORD", "correct horse")
    at = open_app()
    assert not at.text_area and not at.image and not at.sidebar.selectbox
    assert [t.label for t in at.text_input] == ["Password"]
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["That password is not right."]
    assert not at.text_area
    at.text_input[0].input("correct horse")
    at.button[0].click().run()
    assert [t.value for t in at.title] == ["Generate"]
    assert [t.label for t in at.text_area] == ["Prompt"]
    at.switch_page("views/gallery.py").run()
    assert [t.value for t in at.title] == ["Gallery"]


@pytest.mark.parametrize("given, expected, result", [("a", "a", True), ("a", "b", False), ("", "a", False), ("pässwörd", "pässwörd", True)])
def test_password_comparison(given, expected, result):
    assert password_matches(given, expected) is result


# --- the wait after wrong guesses -------------------------------------------------------------------------

def test_wrong_guesses_make_the_next_one_wait_longer_and_longer():
    throttle = Throttle(free=2, base_s=1, max_s=60)
    me = [("session", "a"), ("address", "10.0.0.1")]
    waits = [throttle.failed(me, now=100.0) for _ in range(10)]
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60]  # two typos are free; then doubling, capped
    assert throttle.wait_s(me, now=100.0) == 60
    assert throttle.wait_s(me, now=170.0) == 0


def test_the_wait_follows_the_address_into_a_new_session_and_a_success_clears_it():
    throttle = Throttle(free=0, base_s=5)
    throttle.failed([("session", "a"), ("address", "10.0.0.1")], now=0.0)
    assert throttle.wait_s([("session", "b"), ("address", "10.0.0.1")], now=1.0) == 4  # a fresh session, same address
    assert throttle.wait_s([("session", "c"), ("address", "10.0.0.2")], now=1.0) == 0  # someone else
    throttle.succeeded([("session", "a"), ("address", "10.0.0.1")])
    assert throttle.wait_s([("session", "b"), ("address", "10.0.0.1")], now=1.0) == 0


def test_old_records_are_forgotten():
    throttle = Throttle(free=0, forget_s=10)
    throttle.failed(["x"], now=0.0)
    throttle.failed(["y"], now=100.0)  # x is an hour-equivalent old: dropped
    assert "x" not in throttle._records and "y" in throttle._records


def test_a_third_wrong_password_on_the_page_asks_to_wait_and_a_guess_in_the_wait_is_not_checked(studio_env, monkeypatch, sign_in_clock):
    monkeypatch.setenv("STUDIO_PASSWORD", "correct horse")
    at = open_app()
    for _ in range(3):
        at.text_input[0].input("wrong")
        at.button[0].click().run()
    assert [e.value for e in at.error] == ["That password is not right."]
    assert [w.value for w in at.warning] == ["Wait 1 s before the next try."]
    at.text_input[0].input("correct horse")  # right, but within the wait: refused unchecked
    at.button[0].click().run()
    assert [w.value for w in at.warning] == ["Too many wrong passwords. Wait 1 s before the next try."]
    assert not at.text_area
    sign_in_clock.advance(0.9)
    at.button[0].click().run()
    assert [w.value for w in at.warning] == ["Too many wrong passwords. Wait 1 s before the next try."]  # 0.1 s left
    sign_in_clock.advance(0.2)
    at.button[0].click().run()
    assert [t.value for t in at.title] == ["Generate"]


# --- the signed cookie --------------------------------------------------------------------------------

def test_a_cookie_this_server_signed_is_valid_until_it_expires(tmp_path):
    key = session_key("pw", tmp_path)
    cookie = make_cookie(key, now=1000.0, lifetime_s=60)
    assert cookie_valid(key, cookie, now=1059.0)
    assert not cookie_valid(key, cookie, now=1060.0)  # expired
    assert (tmp_path / ".session-secret").stat().st_mode & 0o777 == 0o600
    assert session_key("pw", tmp_path) == key  # the secret is kept: cookies survive a restart


@pytest.mark.parametrize("tamper", ["expiry", "nonce", "signature", "truncated", "garbage", "non-ascii", "empty"])
def test_a_tampered_cookie_is_refused(tmp_path, tamper):
    key = session_key("pw", tmp_path)
    expiry, nonce, signature = make_cookie(key, now=1000.0).split(".")
    cookie = {
        "expiry": f"{int(expiry) + 10**6}.{nonce}.{signature}",  # a later expiry, same signature
        "nonce": f"{expiry}.{nonce[:-1]}0.{signature}" if not nonce.endswith("0") else f"{expiry}.{nonce[:-1]}1.{signature}",
        "signature": f"{expiry}.{nonce}.{signature[:-1]}{'0' if signature[-1] != '0' else '1'}",
        "truncated": f"{expiry}.{nonce}",
        "garbage": "not-a-cookie",
        "non-ascii": f"{expiry}.{nonce}.{signature[:-1]}é",
        "empty": "",
    }[tamper]
    assert not cookie_valid(key, cookie, now=1001.0)


def test_a_cookie_is_worthless_with_another_password_or_another_secret(tmp_path):
    cookie = make_cookie(session_key("pw", tmp_path / "a"), now=1000.0)
    assert cookie_valid(session_key("pw", tmp_path / "a"), cookie, now=1001.0)
    assert not cookie_valid(session_key("new password", tmp_path / "a"), cookie, now=1001.0)
    assert not cookie_valid(session_key("pw", tmp_path / "b"), cookie, now=1001.0)
