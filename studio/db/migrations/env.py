"""Alembic environment: runs on the connection the studio hands over, or on the configured URL."""

from alembic import context
from sqlalchemy import create_engine

from studio.db.models import Base

config = context.config
target_metadata = Base.metadata


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    # The full-text search objects (migration 0003: SQLite FTS5 tables; PostgreSQL's search_vector column and
    # its GIN index) are made by hand, outside the models; autogenerate must not offer to drop them.
    name = name or ""
    return not (name.startswith("generations_fts") or name in ("search_vector", "ix_generations_search_vector"))


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()


run()
