"""Access: with STUDIO_PASSWORD set nothing shows before sign-in; without it a local studio opens directly."""

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.auth import password_matches
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
