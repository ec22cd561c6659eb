"""Shared fixtures: the project's own OpenAI-compatible endpoint over real HTTP, and a fresh gallery per test."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from studio.config import load_settings
from studio.demo_api import DemoConfig, DemoServer, start_demo_server
from studio.service import Studio

ROOT = Path(__file__).resolve().parents[1]
TEST_KEY = "sk-test-0123456789abcdef-SECRET"


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServer]:
    """The local endpoint, requiring TEST_KEY; failures are asked for per request with prompt directives."""
    server = start_demo_server(config=DemoConfig(api_key=TEST_KEY))
    yield server
    server.stop()


@pytest.fixture
def studio_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_server: DemoServer) -> Path:
    """Environment for a studio on a fresh data dir talking to the demo endpoint; returns the data dir."""
    data_dir = tmp_path / "data"
    for key in ("STUDIO_PROVIDER", "STUDIO_MODEL", "STUDIO_DATABASE_URL", "STUDIO_TIMEOUT_S"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", demo_server.base_url)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(data_dir))
    monkeypatch.setenv("STUDIO_MAX_RETRIES", "0")
    monkeypatch.chdir(tmp_path)  # so a developer's own .streamlit/secrets.toml is never read by tests
    return data_dir


@pytest.fixture
def studio(studio_env: Path) -> Studio:
    return Studio.open(load_settings())
