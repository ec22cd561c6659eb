"""The studio on every backend: SQLite or PostgreSQL for rows, a local folder or an S3 bucket for files.

Each test here runs once per backend in BACKENDS against real servers the fixtures start (PostgreSQL from
Debian's package, s3rver on 127.0.0.1), through the same Studio calls the pages and the CLI make."""

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest
from PIL import Image
from sqlalchemy import text

from studio.core.config import load_settings
from studio.db.engine import get_engine
from studio.services.edits import read_image
from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.services.studio import Studio
from tests.conftest import BACKENDS, ROOT
from tests.test_cli import run_cli

every_backend = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


def served_bytes(src: str) -> bytes:
    """What a browser gets for an image's `src`: a presigned URL over HTTP, or the file Streamlit serves."""
    if src.startswith("http"):
        with urllib.request.urlopen(src, timeout=10) as response:
            assert response.status == 200
            return response.read()
    with open(src, "rb") as handle:
        return handle.read()


@every_backend
def test_generated_images_are_kept_and_served(studio, backend):
    outcome = studio.generate(ImageRequest(prompt="a paper crane", model="gpt-image-2", n=2, size="1024x1536"))
    assert outcome.status == "succeeded", outcome.error
    for image in outcome.images:
        data = image.path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == image.sha256 and len(data) == image.bytes
        assert Image.open(io.BytesIO(data)).size == (1024, 1536)
        assert image.path.name == f"{image.sha256}.png" and image.path.is_file()
        assert served_bytes(image.src) == data
        if backend.endswith("s3"):
            assert str(image.path).startswith("s3://studio-test/") and image.src.startswith("http://127.0.0.1:")
    row_path = outcome.generation.images[0].path
    assert studio.storage.source(row_path) == studio.storage.source(row_path)  # the same URL on a rerun: the browser cache holds
    assert get_engine(studio.settings.database_url).dialect.name == backend.split("+")[0].replace("postgres", "postgresql")


@every_backend
def test_same_bytes_share_one_file_and_a_failed_batch_keeps_none(studio):
    first = studio.generate(ImageRequest(prompt="same every time", model="gpt-image-2"))
    second = studio.generate(ImageRequest(prompt="same every time", model="gpt-image-2"))
    assert first.images[0].path == second.images[0].path and first.generation_id != second.generation_id
    junk = studio.generate(ImageRequest(prompt="junk [demo:fail=not_image]", model="gpt-image-2", n=2))
    assert junk.status == "failed" and junk.error.code == "not_an_image"
    assert list(studio.storage.files("images")) == [f"images/{first.images[0].sha256[:2]}/{first.images[0].path.name}"]


@every_backend
def test_restart_loses_nothing(studio):
    made = studio.generate(ImageRequest(prompt="kept across restarts", model="gpt-image-2", n=2))
    refused = studio.generate(ImageRequest(prompt="refused [demo:fail=moderation]", model="gpt-image-2"))
    get_engine(studio.settings.database_url).dispose()  # drop every connection, as a process exit would
    reopened = Studio.open(load_settings())
    recent = reopened.recent()
    assert [o.generation_id for o in recent] == [refused.generation_id, made.generation_id]
    assert [i.path.read_bytes() for i in recent[1].images] == [i.path.read_bytes() for i in made.images]
    assert recent[0].error.message.startswith("The provider's safety system refused")


@every_backend
def test_an_edit_of_a_gallery_image_reads_it_from_storage(studio):
    original = studio.generate(ImageRequest(prompt="a garden gate", model="gpt-image-2", size="1024x1024"))
    source = studio.edit_source(original.images[0].id)
    assert source.file.data == original.images[0].path.read_bytes()
    edited = studio.edit(ImageRequest(prompt="paint it blue", model="gpt-image-2"), [source])
    assert edited.status == "succeeded", edited.error
    assert edited.images[0].path.read_bytes() != source.file.data
    assert studio.lineage(edited.images[0].id).image_ids == {original.images[0].id, edited.images[0].id}
    upload = studio.edit(ImageRequest(prompt="warmer", model="gpt-image-2"), [read_image("photo.png", source.file.data)])
    [kept] = upload.generation.sources
    assert studio.storage.read(kept.path) == source.file.data  # an uploaded input is kept in the same storage


@pytest.mark.parametrize("backend", ["postgres+s3"], indirect=True)
def test_cli_prints_s3_urls_and_reads_them_back(studio_env, s3_server, backend_env):
    done = run_cli("generate", "a cli lantern", "--n", "2", "--output-format", "jpeg")
    assert done.returncode == 0, done.stderr
    images = json.loads(done.stdout)["images"]
    prefix = backend_env["STUDIO_STORAGE_URL"]
    for image in images:
        assert image["path"].startswith(prefix + "/images/")
        key = image["path"].removeprefix("s3://studio-test/")
        data = s3_server.client().get_object(Bucket="studio-test", Key=key)["Body"].read()
        assert hashlib.sha256(data).hexdigest() == image["sha256"]
    # The printed URL works wherever the CLI takes a file: inspect it, edit it.
    inspected = run_cli("inspect", images[0]["path"])
    assert inspected.returncode == 0 and json.loads(inspected.stdout)["prompt"] == "a cli lantern"
    edited = run_cli("edit", "make it glow", "--image", images[0]["path"])
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["images"][0]["path"].startswith(prefix + "/images/")
    missing = run_cli("inspect", prefix + "/images/no-such.png")
    assert missing.returncode == 1 and "there is no file" in missing.stderr


@pytest.mark.parametrize("backend", ["sqlite+s3"], indirect=True)
def test_an_unreachable_bucket_is_explained_and_the_prompt_kept(studio_env, monkeypatch, backend):
    from tests.backends import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    studio = Studio.open(load_settings())
    outcome = studio.generate(ImageRequest(prompt="lost in transit", model="gpt-image-2"))
    assert outcome.status == "failed" and outcome.error.code == "storage_failed"
    assert "object storage s3://studio-test/" in outcome.error.message and "AWS_ENDPOINT_URL" in outcome.error.message
    assert studio.records.get(outcome.generation_id).prompt == "lost in transit"


def test_a_storage_url_the_studio_cannot_use_is_explained(studio_env, monkeypatch):
    monkeypatch.setenv("STUDIO_STORAGE_URL", "ftp://example.com/images")
    with pytest.raises(StudioError, match="use a folder or s3://bucket/prefix"):
        Studio.open(load_settings())


def test_migrate_command_builds_the_schema_on_an_empty_postgres(studio_env, postgres_server, monkeypatch):
    url = postgres_server.create_database(migrated=False)
    monkeypatch.setenv("STUDIO_DATABASE_URL", url)
    try:
        done = run_cli("migrate")
        assert done.returncode == 0, done.stderr
        with get_engine(url).connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            tables = set(connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        from alembic.script import ScriptDirectory
        from studio.db.engine import alembic_config

        assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert {"generations", "images", "compare_groups", "compare_cells"} <= tables
        assert run_cli("migrate").returncode == 0  # a second run (another replica starting) changes nothing
        from alembic import command

        command.downgrade(alembic_config(url), "base")  # every migration also goes back down on PostgreSQL
        with get_engine(url).connect() as connection:
            assert set(connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()) == {"alembic_version"}
        command.upgrade(alembic_config(url), "head")
        studio = Studio.open(load_settings())
        assert studio.generate(ImageRequest(prompt="first on postgres", model="gpt-image-2")).status == "succeeded"
    finally:
        postgres_server.drop_database(url)


# --- moving a gallery's files into object storage ---------------------------------------------------

def test_migrate_storage_copies_a_gallery_and_resumes_after_being_killed(studio, s3_server):
    for i in range(30):
        assert studio.generate(ImageRequest(prompt=f"image {i} for the bucket", model="gpt-image-2", n=2, size="1024x1024")).status == "succeeded"
    studio.edit(ImageRequest(prompt="an edit", model="gpt-image-2"), [read_image("up.png", studio.recent(1)[0].images[0].path.read_bytes())])
    before = {o.generation_id: [i.path.read_bytes() for i in o.images] for o in studio.recent(100)}
    local = sorted(studio.storage.files("images")) + sorted(studio.storage.files("uploads"))
    target = s3_server.storage_url()
    env = {**os.environ, **s3_server.env, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "studio", "migrate-storage", "--to", target, "--workers", "1"]

    # Kill it (no chance to clean up) once a few files are across.
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(5):
        assert " copied " in process.stderr.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    partial = s3_server.keys(target)
    assert 5 <= len(partial) < len(local)

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["complete"] and report["files"] >= len(local)
    assert report["already_there"] == len(partial) and report["copied"] == report["files"] - len(partial)
    assert f"set STUDIO_STORAGE_URL={target}" in done.stderr
    assert set(local) <= set(s3_server.keys(target))

    again = json.loads(subprocess.run(command, env=env, capture_output=True, text=True, timeout=120).stdout)
    assert again["copied"] == 0 and again["already_there"] == report["files"]  # idempotent

    # The same rows now read every image from the bucket.
    for key, value in {**s3_server.env, "STUDIO_STORAGE_URL": target}.items():
        os.environ[key] = value
    try:
        moved = Studio.open(load_settings())
        after = {o.generation_id: [i.path.read_bytes() for i in o.images] for o in moved.recent(100)}
        assert after == before
        assert all(str(i.path).startswith(target) for o in moved.recent(100) for i in o.images)
    finally:
        for key in (*s3_server.env, "STUDIO_STORAGE_URL"):
            os.environ.pop(key, None)


def test_migrate_storage_reports_missing_and_damaged_files(studio, s3_server):
    kept = studio.generate(ImageRequest(prompt="kept", model="gpt-image-2")).images[0]
    gone = studio.generate(ImageRequest(prompt="gone", model="gpt-image-2", size="1536x1024")).images[0]
    damaged = studio.generate(ImageRequest(prompt="damaged", model="gpt-image-2", size="1024x1536")).images[0]
    gone.path.unlink()
    damaged.path.write_bytes(b"not what it was")
    target = s3_server.storage_url()
    done = subprocess.run([sys.executable, "-m", "studio", "migrate-storage", "--to", target],
                          env={**os.environ, **s3_server.env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["copied"] >= 1 and not report["complete"]
    assert [p.rsplit("/", 1)[1] for p in report["missing"]] == [gone.path.name]
    assert [p.rsplit("/", 1)[1] for p in report["damaged"]] == [damaged.path.name]
    assert "were not copied" in done.stderr
    assert any(key.endswith(kept.path.name) for key in s3_server.keys(target))


@pytest.mark.parametrize("backend", ["postgres+s3"], indirect=True)
def test_four_processes_write_into_one_database_and_bucket(studio, backend_env):
    """Replicas are separate processes: each writes its own rows and objects, none is lost."""
    from tests.test_load import WRITER, counts

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER.replace("range(25)", "range(10)"), str(w)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    results = [w.communicate(timeout=240) for w in writers]
    assert [w.returncode for w in writers] == [0] * 4, [err for _, err in results]
    assert sum(json.loads(out)["errors"] for out, _ in results) == 0
    assert counts(studio) == (40, 40, 40)
    assert all(o.images[0].path.is_file() for o in studio.recent(40))


@pytest.mark.parametrize("backend", ["postgres+local"], indirect=True)
def test_postgres_search_is_a_tsvector_match_the_gin_index_can_serve(studio):
    """The Gallery's search on PostgreSQL goes through the tsvector column and its GIN index, not LIKE."""
    from sqlalchemy import event

    from studio.core.browsing import GalleryFilter
    from studio.services.gallery import GalleryService

    studio.generate(ImageRequest(prompt="A heron at dawn over the marsh", model="gpt-image-2"))
    studio.generate(ImageRequest(prompt="An owl in a lighthouse", model="gpt-image-2"))
    library = GalleryService(studio)
    engine = studio.records.engine
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        found = library.page(GalleryFilter(search="HERON daw"))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [i.prompt for i in found.items] == ["A heron at dawn over the marsh"]
    # The page's own match (a quick "does any row have this word" check may come first).
    statement, parameters = next((s, p) for s, p in seen if "search_vector" in s and isinstance(p, dict) and "tsq" in p)
    assert "ILIKE" not in statement.upper() and "to_tsquery" in statement
    with engine.connect() as connection:
        indexes = connection.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_generations_search_vector'")).scalar()
        assert "USING gin (search_vector)" in indexes
        connection.exec_driver_sql("SET enable_seqscan = off")  # two rows: only then does the planner show its index choice
        # A page walks the sort order first and fetches a rare word's matches through the index (db/browse.py):
        # the page's own condition, alone, is what that fetch asks the index.
        match = "SELECT id FROM generations WHERE search_vector @@ to_tsquery('simple', %(tsq)s::VARCHAR)"
        plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + match, {"tsq": parameters["tsq"]}))
    assert "ix_generations_search_vector" in plan, plan


@pytest.mark.parametrize("backend", ["postgres+s3"], indirect=True)
def test_gallery_page_on_s3_hands_the_browser_presigned_urls(studio, s3_server):
    """Tiles and the detail view point the browser at the bucket; the app server streams no image bytes."""
    from streamlit.testing.v1 import AppTest

    from studio.services.thumbnails import wait_for_thumbnails

    outcome = studio.generate(ImageRequest(prompt="A kite over the dunes", model="gpt-image-2"))
    wait_for_thumbnails()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("views/gallery.py")
    at.run()
    from tests.test_gallery_page import tiles  # what the grid element was sent

    [tile] = [t["src"] for t in tiles(at)]
    assert tile.startswith(f"{s3_server.endpoint}/studio-test/") and "/thumbs/" in tile
    assert Image.open(io.BytesIO(served_bytes(tile))).format == "WEBP"
    at.query_params["open"] = f"{outcome.generation_id}-{outcome.images[0].id}"  # a click on the tile
    at.run()
    urls = [img.url.split("?")[0] for element in at.image for img in element.proto.imgs]
    assert outcome.images[0].src.split("?")[0] in urls  # the original, from the bucket (signed by this process)
    assert served_bytes(outcome.images[0].src) == outcome.images[0].path.read_bytes()


# --- moving a gallery's rows from SQLite to PostgreSQL ----------------------------------------------

def test_copy_database_moves_a_sqlite_gallery_to_postgres_with_ids_lineage_and_search(studio, postgres_server, monkeypatch):
    from studio.services.compare import GridSpec, run_grid
    from studio.services.comparisons import open_comparison
    from studio.core.browsing import GalleryFilter
    from studio.services.gallery import GalleryService

    made = studio.generate(ImageRequest(prompt="A heron over the marsh", model="gpt-image-2", n=2))
    refused = studio.generate(ImageRequest(prompt="refused [demo:fail=moderation]", model="gpt-image-2"))
    edited = studio.edit(ImageRequest(prompt="at night", model="gpt-image-2"), [studio.edit_source(made.images[0].id)])
    grid, _ = run_grid(studio, GridSpec(ImageRequest(prompt="a compared owl", model="gpt-image-2"), ("low", "high")))
    library = GalleryService(studio)
    library.favourite([made.images[1].id])
    library.add_to_collection("Marsh", [made.images[0].id])
    before = [(o.generation_id, o.status, o.generation.prompt, [i.sha256 for i in o.images]) for o in studio.recent(50)]

    target = postgres_server.create_database(migrated=False)
    try:
        done = run_cli("copy-database", "--to", target)
        assert done.returncode == 0, done.stderr
        copied = json.loads(done.stdout)["copied"]
        assert copied["generations"] == len(before) and copied["images"] == sum(len(b[3]) for b in before)
        again = run_cli("copy-database", "--to", target)  # never on top of a gallery
        assert again.returncode == 1 and "already holds a gallery" in again.stderr

        monkeypatch.setenv("STUDIO_DATABASE_URL", target)
        moved = Studio.open(load_settings())
        assert [(o.generation_id, o.status, o.generation.prompt, [i.sha256 for i in o.images]) for o in moved.recent(50)] == before
        assert moved.outcome(refused.generation_id).error.code == "moderation_blocked"
        assert moved.lineage(edited.images[0].id).image_ids == {made.images[0].id, edited.images[0].id}
        comparison = open_comparison(moved, grid.group_id)
        assert comparison.prompt == "a compared owl" and [c.status for c in comparison.cells] == ["succeeded", "succeeded"]
        moved_library = GalleryService(moved)
        assert {i.generation_id for i in moved_library.page(GalleryFilter(search="heron")).items} == {made.generation_id}
        assert [i.image_id for i in moved_library.page(GalleryFilter(favourites=True)).items] == [made.images[1].id]
        assert moved_library.browse.collections_of(made.images[0].id) == ["Marsh"]
        newest = moved.generate(ImageRequest(prompt="the first new one on postgres", model="gpt-image-2"))
        assert newest.status == "succeeded" and newest.generation_id > max(b[0] for b in before)
        assert newest.images[0].path.read_bytes()  # files stay where they were (local folder here)
    finally:
        postgres_server.drop_database(target)


@pytest.mark.parametrize("backend", ["sqlite+s3"], indirect=True)
def test_presigned_urls_can_name_the_address_browsers_use(studio_env, monkeypatch, s3_server):
    """Replicas may reach the bucket at an internal address; browsers get URLs signed for the public one."""
    monkeypatch.setenv("STUDIO_S3_PUBLIC_ENDPOINT", f"http://localhost:{s3_server.port}")
    studio = Studio.open(load_settings())
    image = studio.generate(ImageRequest(prompt="signed for the public name", model="gpt-image-2")).images[0]
    assert image.src.startswith(f"http://localhost:{s3_server.port}/studio-test/")
    assert served_bytes(image.src) == image.path.read_bytes()  # and the signature holds at that address


# --- imports running at once ------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["sqlite+local", "postgres+local"], indirect=True)
def test_three_imports_of_one_zip_at_once_store_each_generation_once(studio, another_gallery, tmp_path):
    """Check-then-insert once stored every image three times; now the check and the insert share a lock."""
    from sqlalchemy import func, select

    from studio.db.models import Generation, Image as ImageRow
    from studio.services.gallery import GalleryService

    for number in range(12):
        outcome = studio.generate(ImageRequest(prompt=f"a lighthouse number {number}", model="gpt-image-2", n=1 + number % 2))
        assert outcome.error is None
    library = GalleryService(studio)
    archive = tmp_path / "gallery.zip"
    archive.write_bytes(library.export_zip([image_id for image_id, *_ in library.images.file_rows()]))
    another_gallery("imported")
    fresh = Studio.open(load_settings())  # migrated before the three start, as a running studio would be
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    importers = [subprocess.Popen([sys.executable, "-m", "studio", "import", str(archive)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=240) for p in importers]
    assert [p.returncode for p in importers] == [0] * 3, [err for _, err in results]
    reports = [json.loads(out) for out, _ in results]
    assert sum(r["generations"] for r in reports) == 12 and sum(r["added"] for r in reports) == 18
    assert sum(r["skipped_duplicates"] for r in reports) == 2 * 18 and all(r["problems"] == [] for r in reports)
    with fresh.records.session() as session:
        assert session.scalar(select(func.count()).select_from(Generation)) == 12
        assert session.scalar(select(func.count()).select_from(ImageRow)) == 18
        assert session.scalar(select(func.count(func.distinct(ImageRow.sha256)))) == 18
