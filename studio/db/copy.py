"""`python -m studio copy-database --to postgresql+psycopg://…`: move a gallery's rows to another database.

Every table the models define is copied in foreign-key order with its ids, in ONE transaction on the
target: stopped half way, the target keeps nothing and the command simply runs again. The target gets
the studio's migrations first and must hold no gallery yet. The full-text index is built by the target's
own triggers as rows arrive (tsvector on PostgreSQL, FTS5 on SQLite), and id sequences are moved past
the copied ids so new rows do not collide.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, Engine, func, select, text

from studio.db.engine import get_engine, migrate
from studio.core.errors import StudioError
from studio.db.models import Base, Generation

BATCH = 1000


def _aware(value: Any) -> Any:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return value.replace(tzinfo=timezone.utc) if isinstance(value, datetime) and value.tzinfo is None else value


def copy_database(source_url: str, target_url: str) -> dict[str, int]:
    if source_url == target_url:
        raise StudioError("The source and the target are the same database; give another --to.", "same_database")
    migrate(source_url)
    migrate(target_url)
    source, target = get_engine(source_url), get_engine(target_url)
    with target.connect() as connection:
        if connection.scalar(select(func.count()).select_from(Generation)):
            raise StudioError("The target database already holds a gallery; give an empty database as --to.", "target_not_empty")
    counts: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        for table in Base.metadata.sorted_tables:  # parents before children
            dates = {c.name for c in table.columns if isinstance(c.type, DateTime)}
            rows = reading.execution_options(yield_per=BATCH).execute(select(table).order_by(*table.primary_key.columns))
            counts[table.name] = 0
            for batch in rows.partitions(BATCH):
                values = [{k: (_aware(v) if k in dates else v) for k, v in row._mapping.items()} for row in batch]
                writing.execute(table.insert(), values)
                counts[table.name] += len(values)
        _move_sequences(target, writing)
    return counts


def _move_sequences(target: Engine, connection: Any) -> None:
    if target.dialect.name != "postgresql":
        return  # SQLite's rowid continues after the largest id by itself
    for table in Base.metadata.sorted_tables:
        if "id" in table.columns and table.columns["id"].primary_key and len(table.primary_key.columns) == 1:
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            ))
