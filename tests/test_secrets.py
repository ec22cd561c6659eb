"""The API key is a secret: never in the database, the data dir, logs, or any message a user is shown."""

import os
import subprocess
import sys
from dataclasses import replace

from streamlit.testing.v1 import AppTest

from studio.core.request import ImageRequest
from studio.services.studio import redact
from studio.services.jobs import wait_for_jobs
from tests.conftest import ROOT, TEST_KEY


def all_bytes_under(folder) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in folder.rglob("*") if p.is_file()]


def test_the_key_is_in_no_file_of_the_data_dir(studio):
    studio.generate(ImageRequest(prompt="with a key", model="gpt-image-2", n=2))
    studio.generate(ImageRequest(prompt="refused [demo:fail=moderation]", model="gpt-image-2"))
    studio.with_settings(replace(studio.settings, api_key=TEST_KEY + "-wrong")).generate(ImageRequest(prompt="wrong key", model="gpt-image-2"))
    files = all_bytes_under(studio.settings.data_dir)
    assert any(name.endswith("studio.db") for name, _ in files)
    for name, data in files:  # the SQLite file, its WAL, the images
        assert TEST_KEY.encode() not in data, name


def test_the_key_is_in_no_log_or_cli_output(studio_env):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_LOG": "debug"}  # the client's most talkative logging
    for prompt in ("fine", "refused [demo:fail=moderation]", "broken [demo:fail=500]"):
        done = subprocess.run([sys.executable, "-m", "studio", "generate", prompt], capture_output=True, text=True, env=env, timeout=60)
        assert "HTTP Request: POST" in done.stderr or "Sending HTTP Request" in done.stderr  # logging really was on
        assert TEST_KEY not in done.stdout + done.stderr


def test_the_key_is_in_no_message_even_when_the_provider_echoes_it(studio):
    assert redact(f"Incorrect API key provided: {TEST_KEY}.", TEST_KEY) == "Incorrect API key provided: [redacted]."
    wrong = studio.with_settings(replace(studio.settings, api_key="sk-wrong-key-0000"))
    outcome = wrong.generate(ImageRequest(prompt="x", model="gpt-image-2"))
    assert "sk-wrong-key-0000" not in outcome.error.message and TEST_KEY not in outcome.error.message


def test_the_key_is_on_no_page(studio_env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    next(t for t in at.text_area if t.label == "Prompt").input("page secret check")
    next(b for b in at.button if b.label == "Generate").click()
    at.run()
    assert wait_for_jobs(60)  # a background job: look again once it has landed
    at.run()
    assert len(at.image) == 1
    assert "API key: set" in [c.value for c in at.sidebar.caption]
    everything = str(at._tree)  # every element of the rendered page, sidebar included
    assert TEST_KEY not in everything
    at.switch_page("views/gallery.py").run()
    assert TEST_KEY not in str(at._tree)


def test_a_base_url_with_credentials_is_refused_wherever_it_is_set(studio_env, demo_server, monkeypatch):
    import pytest

    from studio.core.config import ConfigError, base_url_host, load_settings

    monkeypatch.setenv("OPENAI_BASE_URL", demo_server.base_url.replace("http://", "http://designer:pw-0000@"))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "pw-0000" not in str(caught.value) and "designer" not in str(caught.value)
    monkeypatch.setenv("OPENAI_BASE_URL", demo_server.base_url)
    (studio_env / "providers.toml").parent.mkdir(parents=True, exist_ok=True)
    (studio_env / "providers.toml").write_text('[providers.relay]\nbase_url = "https://me:pw-1111@relay.example/v1"\n')
    with pytest.raises(ConfigError, match="provider 'relay' holds a user name or password") as caught:
        load_settings()
    assert "pw-1111" not in str(caught.value)
    # And whatever slips through, the host that is shown and stored carries no credentials.
    assert base_url_host("https://me:pw-2222@relay.example:8443/v1") == "relay.example:8443"


def test_a_malformed_key_is_never_quoted_and_never_sent(studio_env, demo_server, monkeypatch):
    from studio.core.config import load_settings
    from studio.core.errors import StudioError
    from studio.services.studio import Studio

    before = demo_server.config.requests_seen
    for key in (TEST_KEY[:8] + "\n" + TEST_KEY[8:], TEST_KEY + "\u00a0x", "\u201c" + TEST_KEY + "\u201d"):
        monkeypatch.setenv("OPENAI_API_KEY", key)
        studio = Studio.open(load_settings())
        try:
            studio.generate(ImageRequest(prompt="x", model="gpt-image-2"))
        except StudioError as exc:
            assert exc.code == "malformed_key" and exc.message.startswith("The API key is malformed")
            assert TEST_KEY[:8] not in exc.message
        else:
            raise AssertionError(f"a malformed key was accepted: {key!r}")
    assert demo_server.config.requests_seen == before
