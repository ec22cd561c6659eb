"""Adding imported generations so that "skip what the gallery already has" holds when several imports
(processes, replicas) run at once: the check and the insert happen in one transaction under a
gallery-wide lock (SQLite `BEGIN IMMEDIATE`, which takes the write lock at once; PostgreSQL a
transaction-scoped advisory lock). No schema change: the lock is a lock, not a row or a constraint.

"Already there" is decided per generation, never per file, so two generations whose images have the same
bytes both survive a round trip: a generation with a known `created_at` is there when one with the same
moment, prompt and model holds the same image sha256s; a file that came without a time (a stray, a zip
member without a metadata line) is there when the gallery has its bytes.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Sequence

from sqlalchemy import Connection, Engine, insert, select, text

from studio.db.models import Generation, Image
from studio.db.values import parse_datetime

IMPORT_LOCK_KEY = 727275  # pg_advisory_xact_lock key for imports (migrations use 727274)


class ArchiveRecords:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        """One transaction holding the import lock until it commits (or rolls back)."""
        if self.dialect == "sqlite":
            with self.engine.connect() as connection:
                # pysqlite sends no BEGIN of its own before this (it only begins implicitly before DML), so
                # the transaction is ours; a second importer waits on the busy timeout, then sees our rows.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield connection
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            return
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
            yield connection

    def already_there(self, generation: dict[str, Any], sha256s: Sequence[str], by_time: bool) -> bool:
        """The check alone, without the lock: lets an import skip reading what it will not add."""
        with self.engine.connect() as connection:
            return self._already_there(connection, generation, sha256s, by_time)

    def add_if_new(self, generation: dict[str, Any], images: Sequence[dict[str, Any]], by_time: bool) -> int | None:
        """Insert the generation and its images unless the gallery has it already; its id, or None."""
        with self._locked() as connection:
            if self._already_there(connection, generation, [i["sha256"] for i in images], by_time):
                return None
            generation_id = connection.execute(insert(Generation).values(**generation)).inserted_primary_key[0]
            if images:
                connection.execute(insert(Image), [{**image, "generation_id": generation_id} for image in images])
            return generation_id

    @staticmethod
    def _already_there(connection: Connection, generation: dict[str, Any], sha256s: Sequence[str], by_time: bool) -> bool:
        if not by_time:
            wanted = set(sha256s)
            found = set(connection.scalars(select(Image.sha256).where(Image.sha256.in_(wanted)).distinct()))
            return bool(wanted) and found == wanted
        moment = _utc(generation["created_at"])
        if moment is None:
            return False
        # A one-second window on the indexed column, then exact comparison here: SQLite keeps times as text.
        candidates = connection.execute(
            select(Generation.id, Generation.created_at).where(
                Generation.created_at.between(moment - timedelta(seconds=1), moment + timedelta(seconds=1)),
                Generation.model == generation["model"], Generation.prompt == generation["prompt"]))
        for generation_id, created_at in candidates:
            if _utc(created_at) != moment:
                continue
            theirs = sorted(connection.scalars(select(Image.sha256).where(Image.generation_id == generation_id)))
            if theirs == sorted(sha256s):
                return True
        return False


def _utc(value: Any) -> datetime | None:
    parsed = parse_datetime(value)
    return parsed.astimezone(timezone.utc) if parsed else None
