"""Migration 0008: the columns complexity and frame_count come and go with the rows intact, on SQLite and
PostgreSQL (down to 0007 and back up)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from studio.db.engine import alembic_config, get_engine


def columns(url: str) -> set[str]:
    with get_engine(url).connect() as connection:
        return {c["name"] for c in inspect(connection).get_columns("generations")}


def test_0008_adds_and_removes_complexity_and_frame_count_keeping_rows(empty_url: str):
    command.upgrade(alembic_config(empty_url), "0008")  # to 0008 itself: whatever comes after it at merge is not this test's
    engine = get_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO generations (created_at, status, provider, base_url_host, prompt, model, endpoint, complexity, frame_count) "
                                "VALUES (CURRENT_TIMESTAMP, 'succeeded', 'demo', 'h', 'a flag', 'gpt-image-2.6-flare', 'generations', 'high', 6)"))
    assert {"complexity", "frame_count"} <= columns(empty_url)
    command.downgrade(alembic_config(empty_url), "0007")
    engine.dispose()
    assert not {"complexity", "frame_count"} & columns(empty_url)
    command.upgrade(alembic_config(empty_url), "0008")
    engine.dispose()
    with get_engine(empty_url).connect() as connection:
        assert connection.execute(text("SELECT prompt, complexity, frame_count FROM generations")).all() == [("a flag", None, None)]
