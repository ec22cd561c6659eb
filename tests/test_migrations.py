"""Schema migrations: an empty database upgrades on SQLite and PostgreSQL, the models match what the
migrations build, a gallery made before the files were renumbered (stored head "0003") upgrades with its
rows intact, and the migration files list in the order they run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from studio.db.engine import MIGRATIONS_DIR, alembic_config, get_engine, include_name, migrate
from studio.db.models import Base
from tests.conftest import ROOT

# A gallery made with the code of the day the files were renamed (see tests/fixtures/gallery_0003.sql): a
# succeeded batch of two (one a favourite, both in a collection, one with a thumbnail), a failed request,
# an edit of the first image, and a comparison with a winner.
GALLERY_0003 = ROOT / "tests" / "fixtures" / "gallery_0003.sql"


def head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_an_empty_database_upgrades_to_head_and_matches_the_models(empty_url: str):
    migrate(empty_url)
    engine = get_engine(empty_url)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head()
        context = MigrationContext.configure(connection, opts={
            "include_name": include_name, "compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []  # no column, index or type the models lack or add
        tables = set(inspect(connection).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables


def test_a_gallery_at_the_old_head_upgrades_with_its_rows(tmp_path: Path):
    database = tmp_path / "studio.db"
    with sqlite3.connect(database) as connection:
        connection.executescript(GALLERY_0003.read_text())
    url = f"sqlite:///{database}"
    with get_engine(url).connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0003"
    migrate(url)  # what the next start does
    with get_engine(url).connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head()
        prompts = connection.execute(text("SELECT id, status, prompt FROM generations ORDER BY id")).all()
        assert prompts == [(1, "succeeded", "a red fox in watercolour"), (2, "failed", "a harbour at night"),
                           (3, "succeeded", "the fox in snow"), (4, "succeeded", "a lighthouse")]
        assert connection.scalar(text("SELECT count(*) FROM images")) == 4
        assert connection.execute(text("SELECT id FROM images WHERE favourite")).scalars().all() == [1]
        assert connection.scalar(text("SELECT count(*) FROM collection_images")) == 2
        assert connection.scalar(text("SELECT image_id FROM generation_sources WHERE generation_id = 3")) == 1
        assert connection.scalar(text("SELECT winner_position FROM compare_groups")) == 0
        # The full-text index came along and still answers.
        found = connection.execute(text("SELECT rowid FROM generations_fts WHERE generations_fts MATCH 'fox' ORDER BY rowid")).scalars().all()
        assert found == [1, 3, 4]  # 4's image carries a revised prompt about the fox


def test_migration_files_sort_in_chain_order():
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    chain = [revision for revision in scripts.walk_revisions("base", "heads")][::-1]  # oldest first
    files = [Path(revision.path).name for revision in chain]
    assert files == sorted(files), "a migration's file name must sort by its place in the chain"
    assert sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")) == files  # no file outside the chain
    for number, revision in enumerate(chain, start=1):
        place, rev, _ = Path(revision.path).name.split("_", 2)
        assert (int(place), rev) == (number, revision.revision), f"{revision.path}: name it {number:02d}_{revision.revision}_…"
    assert [revision.revision for revision in chain][:5] == ["0001", "0005", "0002", "0004", "0003"]  # ids galleries hold
