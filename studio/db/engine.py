"""The database engine (one per process and URL) and schema migrations.

Opening a gallery is where a damaged file, a schema from a newer checkout or a read-only folder first
shows, so each is said here as one StudioError saying what is wrong and what to do, for every command
and page alike. A read-only SQLite gallery is opened read-only and still browses, searches and exports;
any write to it (a request, a favourite) fails with READ_ONLY_MESSAGE before anything else happens.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from studio.core.errors import StudioError
from studio.db.errors import READ_ONLY_MESSAGE, damaged_message, is_damaged, is_read_only
from studio.db.search_words import has_words

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_migrated: set[str] = set()
_migrate_lock = threading.Lock()
log = logging.getLogger(__name__)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def database_files(url: str) -> list[Path]:
    """The files a SQLite gallery lives in (the database, its journal and WAL files, the migration lock);
    none for a server database. Nothing may ever be written over these."""
    database = make_url(url).database
    if not is_sqlite(url) or database in (None, "", ":memory:"):
        return []
    return [Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm", "-journal", ".migrate.lock")]


def _where(url: str) -> str:
    """The gallery's database as a user would name it: the file, or the server without the password."""
    parsed = make_url(url)
    return parsed.database if is_sqlite(url) and parsed.database else parsed.render_as_string(hide_password=True)


def _sqlite_access(path: Path) -> tuple[bool, bool]:
    """(read_only, immutable) for an existing SQLite file. A read-only folder cannot take the -wal/-shm
    files WAL needs, so such a database is opened immutable, unless a -wal file is already there (a studio
    stopped without closing): then plain read-only, which reads what the -wal holds."""
    folder_writable = os.access(path.parent, os.W_OK)
    if folder_writable and os.access(path, os.W_OK):
        return False, False
    return True, not folder_writable and not Path(f"{path}-wal").exists()


def _sqlite_url(url: str) -> tuple[str, bool]:
    """The URL to open (a read-only URI for a gallery that cannot be written) and whether it is read-only."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return url, False
    path = Path(database).resolve()
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StudioError(f"The gallery's folder {path.parent} cannot be made ({exc.strerror}); "
                              "make it writable or set STUDIO_DATA_DIR to another folder.", "database_unwritable") from None
        return url, False
    read_only, immutable = _sqlite_access(path)
    if not read_only:
        return url, False
    return f"sqlite:///file:{quote(str(path))}?mode=ro{'&immutable=1' if immutable else ''}&uri=true", True


@lru_cache(maxsize=None)
def get_engine(url: str) -> Engine:
    """One engine per process for each URL; callers share its pool."""
    if is_sqlite(url):
        target, read_only = _sqlite_url(url)
        engine = create_engine(target, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets readers go on while a writer commits; the busy timeout makes concurrent writers
            # from other sessions or processes wait their turn instead of failing with "database is locked".
            # A read-only gallery is left in whatever mode it is in (setting WAL is a write).
            cursor = dbapi_connection.cursor()
            if not read_only:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # The Gallery's search checks a row's words with it while walking in sort order (db/search_words.py).
            dbapi_connection.create_function("studio_has_words", 3, has_words, deterministic=True)
    else:
        engine = create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "handle_error")
    def _said_plainly(context: Any) -> None:
        # Every write a read-only gallery refuses says the same thing, and damage found past the first
        # pages (a truncated file) reads as it does at start-up, wherever a page or command meets it.
        if is_read_only(context.original_exception):
            raise StudioError(READ_ONLY_MESSAGE, "read_only") from None
        if is_damaged(context.original_exception):
            raise StudioError(damaged_message(_where(url), context.original_exception), "database_damaged") from None

    return engine


def read_only(engine: Engine) -> bool:
    """Whether the gallery was opened read-only (its folder or file cannot be written)."""
    return engine.url.query.get("mode") == "ro"


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """What migrations and schema comparisons look at: not the full-text search objects (migration 0003:
    SQLite's FTS5 tables, PostgreSQL's search_vector column and its GIN index; 0014's favourites_fts and
    favourite_vector with its index), which are made by hand
    outside the models, so autogenerate must neither offer to drop them nor call them a difference."""
    name = name or ""
    return not (name.startswith(("generations_fts", "favourites_fts")) or name in (
        "search_vector", "ix_generations_search_vector", "favourite_vector", "ix_generations_favourite_vector",
        "ix_generations_favourite_facets"))


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


def _damaged(url: str, exc: DBAPIError) -> StudioError:
    reason = str(exc.orig)
    if is_damaged(exc.orig):
        return StudioError(damaged_message(_where(url), exc.orig), "database_damaged")
    return StudioError(f"The gallery database {_where(url)} cannot be opened ({reason.strip().splitlines()[0] if reason.strip() else type(exc.orig).__name__}); "
                       "check STUDIO_DATABASE_URL and that the database is reachable.", "database_unreachable")


def _current_revisions(connection: Any) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


def _check_known(url: str, current: tuple[str, ...]) -> None:
    """A revision this code does not have: the gallery was upgraded by a newer checkout; never touch it."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    known = {revision.revision for revision in scripts.walk_revisions()}
    unknown = [revision for revision in current if revision not in known]
    if unknown:
        raise StudioError(
            f"The gallery database {_where(url)} was set up by a newer version of Image Studio (schema {', '.join(unknown)}; "
            f"this version knows up to {scripts.get_current_head()}). Nothing was changed: update this copy of the studio "
            "(git pull) to open it, or set STUDIO_DATA_DIR to another gallery.", "database_too_new")


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (idempotent; cheap after the first call in a process)."""
    with _migrate_lock:
        if url in _migrated:
            return
        try:
            engine = get_engine(url)
            if read_only(engine):
                _check_read_only(url, engine)
            else:
                with _exclusive(url, engine), engine.begin() as connection:
                    _check_known(url, _current_revisions(connection))
                    config = alembic_config(url)
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
        except DBAPIError as exc:
            raise _damaged(url, exc) from None
        except CommandError as exc:  # e.g. a revision the scripts do not know, met in a race with another checkout
            raise StudioError(f"The gallery database {_where(url)} cannot be brought up to date ({exc}); nothing was changed.", "database_schema") from None
        _migrated.add(url)


def _check_read_only(url: str, engine: Engine) -> None:
    """A read-only gallery is used as it is when its schema is current, and said once to be read-only."""
    with engine.connect() as connection:
        current = _current_revisions(connection)
    _check_known(url, current)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current != (head,):
        raise StudioError(f"The gallery database {_where(url)} is read-only and needs an upgrade this studio cannot write "
                          f"(schema {', '.join(current) or 'none'}, needs {head}). Make the data folder and studio.db writable, "
                          "then start the studio again.", "read_only")
    log.warning(READ_ONLY_MESSAGE)
