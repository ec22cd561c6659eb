"""Shared fixtures: the project's own OpenAI-compatible endpoint over real HTTP, and a fresh gallery per test.

The gallery runs on SQLite and a local folder unless a test module parametrizes `backend` (see
BACKENDS): then the same tests run on a real PostgreSQL and a real S3-compatible server as well."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from studio.core.config import load_settings
from studio.provider.demo import DemoConfig, DemoServer, start_demo_server
from studio.services.studio import Studio
from tests.backends import PostgresServer, S3Server, start_postgres, start_s3

ROOT = Path(__file__).resolve().parents[1]
TEST_KEY = "sk-test-0123456789abcdef-SECRET"
# database+storage; a module opts in with `pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)`.
BACKENDS = ["sqlite+local", "postgres+local", "postgres+s3"]


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServer]:
    """The local endpoint, requiring TEST_KEY; failures are asked for per request with prompt directives."""
    server = start_demo_server(config=DemoConfig(api_key=TEST_KEY))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL from Debian's package on 127.0.0.1 (started only if a test asks for it)."""
    yield from start_postgres()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """An S3-compatible server (s3rver) on 127.0.0.1 with one bucket (started only if a test asks for it)."""
    yield from start_s3()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite+local")


@pytest.fixture
def backend_env(backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """STUDIO_DATABASE_URL / STUDIO_STORAGE_URL (+ AWS variables) for the backend: a fresh database and
    a fresh bucket prefix per test; empty for SQLite and a local folder."""
    database, storage = backend.split("+")
    env: dict[str, str] = {}
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_PROFILE", "STUDIO_STORAGE_URL", "STUDIO_S3_PUBLIC_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    postgres: PostgresServer | None = None
    if database == "postgres":
        postgres = request.getfixturevalue("postgres_server")
        env["STUDIO_DATABASE_URL"] = postgres.create_database()
    if storage == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        env.update(s3.env, STUDIO_STORAGE_URL=s3.storage_url())
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    if postgres is not None:
        try:
            from studio.services.meaning_index import wait_for_vectors
            from studio.services.thumbnails import wait_for_thumbnails

            wait_for_thumbnails(10)  # background work should be done with the database before it is dropped
            wait_for_vectors(10)
        except ImportError:
            pass
        postgres.drop_database(env["STUDIO_DATABASE_URL"])


@pytest.fixture
def another_gallery(backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """Point the environment at a second, empty gallery on the same kind of backend (e.g. to import into)."""
    made: list[str] = []

    def switch(name: str) -> None:
        database, storage = backend.split("+")
        monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / name))
        if database == "postgres":
            made.append(request.getfixturevalue("postgres_server").create_database())
            monkeypatch.setenv("STUDIO_DATABASE_URL", made[-1])
        if storage == "s3":
            monkeypatch.setenv("STUDIO_STORAGE_URL", request.getfixturevalue("s3_server").storage_url())

    yield switch
    for url in made:
        request.getfixturevalue("postgres_server").drop_database(url)


@pytest.fixture
def studio_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_server: DemoServer, backend_env: dict[str, str]) -> Path:
    """Environment for a studio on a fresh data dir talking to the demo endpoint; returns the data dir."""
    data_dir = tmp_path / "data"
    for key in ("STUDIO_PROVIDER", "STUDIO_MODEL", "STUDIO_TIMEOUT_S"):
        monkeypatch.delenv(key, raising=False)
    if "STUDIO_DATABASE_URL" not in backend_env:
        monkeypatch.delenv("STUDIO_DATABASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", demo_server.base_url)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(data_dir))
    monkeypatch.setenv("STUDIO_MAX_RETRIES", "0")
    monkeypatch.chdir(tmp_path)  # so a developer's own .streamlit/secrets.toml is never read by tests
    return data_dir


@pytest.fixture
def studio(studio_env: Path) -> Studio:
    return Studio.open(load_settings())


# gpt-image-1 and gpt-image-1-mini have shut down (studio/core/catalog.toml). Tests whose subject is not the
# model but figures priced with gpt-image-1's published table keep it through the catalog's own override: a
# data folder's catalog.toml may say a (relay's) model still runs, as a person would for such a relay.
LEGACY_CATALOG = '[models."gpt-image-1"]\nshutdown = ""\n[models."gpt-image-1-mini"]\nshutdown = ""\n'


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nothing has been migrated into, on SQLite and on PostgreSQL (the migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/studio.db"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database(migrated=False)
    try:
        yield url
    finally:
        server.drop_database(url)


def task_preset(timeout_s: float, mode: str = "async", poll_interval_s: float = 0.05, max_interval_s: float | None = 0.2) -> str:
    """A providers.toml sending the custom provider's gpt-image-2 as a provider task (core/task_api.py), polled fast."""
    spaced = f"max_interval_s = {max_interval_s}\n" if max_interval_s is not None else ""
    return (f'[providers.custom.tasks]\nmode = "{mode}"\nmodels = ["gpt-image-2"]\n'
            f"poll_interval_s = {poll_interval_s}\n{spaced}timeout_s = {timeout_s}\n")


@pytest.fixture
def legacy_models(studio_env: Path) -> Path:
    studio_env.mkdir(parents=True, exist_ok=True)
    (studio_env / "catalog.toml").write_text(LEGACY_CATALOG)
    return studio_env


def run_comparison(at: "AppTest") -> "AppTest":
    """Press Run comparison on the Compare page (AppTest): its cells are background jobs the page follows in a
    fragment, so look again once they have all landed."""
    from studio.services.jobs import wait_for_jobs

    at.button(key="compare_run").click().run()
    assert wait_for_jobs(60)
    return at.run()


def status_boxes(at: "AppTest") -> list[tuple[str, str]]:
    """(state, label) of each job's status line on the page (views/components/running.py status_line: its colour
    says the state)."""
    states = {"blue": "running", "green": "complete", "orange": "error"}
    lines = [re.match(r":(blue|green|orange)\[[●✔✖]\] (.*)", m.value, re.S) for m in at.markdown]
    return [(states[line.group(1)], line.group(2)) for line in lines if line]


class StillClock:
    """Stands in for the time module inside studio.core.auth, so the sign-in throttle's waits pass only when a test
    moves this clock. On a loaded machine two AppTest runs can be over a second apart, which once let a guess that
    should have come within the 1 s wait through it (a CI failure)."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __getattr__(self, name: str):
        return getattr(time, name)  # the cookie's wall-clock expiry keeps real time


@pytest.fixture
def sign_in_clock(monkeypatch: pytest.MonkeyPatch) -> StillClock:
    from studio.core import auth

    clock = StillClock()
    monkeypatch.setattr(auth, "time", clock)
    return clock
