"""Database trouble said as a StudioError, so that no module outside `studio.db` needs to import sqlalchemy.

`database_errors()` wraps a write the user is waiting for (a request's row, a favourite, a delete);
`DatabaseError` is what to catch where a row built from outside data (an import line, a recovered
file) may be refused by the database and the caller reports it as a problem line instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from studio.core.errors import StudioError

# Any error SQLAlchemy raises: a value the database refused, a constraint, a lost connection.
DatabaseError = SQLAlchemyError

READ_ONLY_MESSAGE = ("The gallery is read-only: new images cannot be saved. Browsing, search and export work; "
                     "make the data folder and studio.db writable (or set STUDIO_DATA_DIR) to generate again.")


def is_read_only(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "readonly" in text or "read-only" in text or "read only" in text


def is_damaged(exc: BaseException) -> bool:
    """SQLite's words for a file that is not (or no longer) a whole database."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "file is not a database" in text or "disk image is malformed" in text


def damaged_message(where: str, exc: BaseException) -> str:
    return (f"The gallery database {where} is damaged ({getattr(exc, 'orig', exc)}). Nothing was changed: move the file "
            "aside and restore it from a backup, or set STUDIO_DATA_DIR to another gallery.")


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn operational trouble (a lock held too long, a full disk, a read-only file) into one clear message."""
    try:
        yield
    except DBAPIError as exc:  # operational trouble, or a value the database refused
        if is_read_only(exc):
            raise StudioError(READ_ONLY_MESSAGE, "read_only") from None
        reason = str(exc.orig).lower()
        locked = "locked" in reason or "busy" in reason
        said = "is busy: another process held it too long" if locked else "could not be written"
        raise StudioError(f"The gallery database {said}; try again in a moment.", "database_error") from None
