"""The database engine (one per process and URL) and schema migrations."""

from __future__ import annotations

import fcntl
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@lru_cache(maxsize=None)
def get_engine(url: str) -> Engine:
    """One engine per process for each URL; callers share its pool."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets readers go on while a writer commits; the busy timeout makes concurrent writers
            # from other sessions or processes wait their turn instead of failing with "database is locked".
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """What migrations and schema comparisons look at: not the full-text search objects (migration 0003:
    SQLite's FTS5 tables, PostgreSQL's search_vector column and its GIN index), which are made by hand
    outside the models, so autogenerate must neither offer to drop them nor call them a difference."""
    name = name or ""
    return not (name.startswith("generations_fts") or name in ("search_vector", "ix_generations_search_vector"))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _exclusive(url: str, engine: Engine) -> Iterator[None]:
    """Serialise migrations across processes that start at the same moment on the same database."""
    if is_sqlite(url) and make_url(url).database not in (None, "", ":memory:"):
        with open(f"{make_url(url).database}.migrate.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(727274)"))
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(727274)"))
    else:
        yield


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; cheap after the first call in a process)."""
    with _migrate_lock:
        if url in _migrated:
            return
        engine = get_engine(url)
        with _exclusive(url, engine), engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        _migrated.add(url)
