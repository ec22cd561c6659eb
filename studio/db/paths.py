"""Every stored file's path that some row points to (what a storage move must copy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, String, select, union

from studio.db.models import Base


def path_columns() -> list[Any]:
    """Every column that holds a stored file's relative path (`path`, `thumbnail_path`, …)."""
    return [column for table in Base.metadata.sorted_tables for column in table.columns
            if (column.name == "path" or column.name.endswith("_path")) and isinstance(column.type, String)]


def stored_paths(engine: Engine) -> list[str]:
    query = union(*(select(column.label("path")).where(column.is_not(None)) for column in path_columns()))
    with engine.connect() as connection:
        return sorted(row.path for row in connection.execute(query))
