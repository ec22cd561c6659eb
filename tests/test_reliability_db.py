"""docs/reliability.md, section "Database and start-up", kept true: one scenario per row.

Start-up rows run the real commands (`python -m studio ...` in a subprocess) and open the studio the way
the pages do (`Studio.open`), and check each says the row's message without a traceback. Request rows run
real requests against the demo endpoint; stored-value rows write bad values straight into the rows, as an
old version or an import could have left them, and read them back the way the pages and the CLI do.
Longer than 350 lines because the reliability document runs one module per section: every row's scenario
of this section is here, grouped by kind (workers, start-up, refused text, stored usage)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select, update

from studio.core.config import load_settings
from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.core.browsing import GalleryFilter
from studio.db.engine import get_engine
from studio.db.models import Generation
from studio.db.worker import current_worker
from studio.services.gallery import GalleryService
from studio.services.studio import Studio
from tests.conftest import ROOT
from tests.reliability_table import assert_message, assert_rows_match, section_rows

SECTION = "Database and start-up"


def doc_rows() -> dict[str, tuple[str, str]]:
    return section_rows(SECTION)


class Run:
    def __init__(self, studio: Studio, demo_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.studio, self.demo_server, self.tmp_path, self.monkeypatch = studio, demo_server, tmp_path, monkeypatch
        self.cleanups: list[Callable[[], object]] = []

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, env=env, timeout=120)

    def set_rows(self, generation_id: int, **values) -> None:
        with self.studio.records.engine.begin() as connection:
            connection.execute(update(Generation).where(Generation.id == generation_id).values(**values))


def generation_state(studio: Studio) -> str:
    """The one generation a request scenario leaves, as the `stored` column says it."""
    with studio.records.session() as session:
        assert session.scalar(select(func.count()).select_from(Generation)) == 1
        generation = session.scalars(select(Generation)).one()
        if generation.status == "failed":
            return f"failed ({generation.error_code}), prompt kept"
        if generation.status == "pending":
            return "pending"
        clean = (generation.error_code, generation.error_message, generation.http_status) == (None, None, None)
        images = len(generation.images)
        return f"succeeded ({images} image{'s' if images != 1 else ''})" + (", no error" if clean else ", error kept")


def shown(outcome_or_error) -> str:
    if isinstance(outcome_or_error, StudioError):
        return outcome_or_error.message
    return outcome_or_error.error.message if outcome_or_error.error else "—"


# --- requests that outlive a process ---------------------------------------------------------------

def in_flight(run: Run, prompt: str) -> tuple[threading.Thread, list, int]:
    """A request running on a thread of this (live) process; returns once its row is recorded."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(run.studio.generate(ImageRequest(prompt=prompt, model="gpt-image-2"))))
    thread.start()
    deadline = time.time() + 10
    while not run.studio.records.recent(1) and time.time() < deadline:
        time.sleep(0.02)
    return thread, result, run.studio.records.recent(1)[0].id


def backdate(run: Run, generation_id: int, hours: float) -> None:
    with run.studio.records.engine.begin() as connection:
        created_at = connection.scalar(select(Generation.created_at).where(Generation.id == generation_id))
    run.set_rows(generation_id, created_at=created_at - timedelta(hours=hours))


def live_worker_outlives_window(run: Run) -> tuple[str, str]:
    thread, result, generation_id = in_flight(run, "a long one [demo:delay=8]")
    backdate(run, generation_id, 2)  # as if it had run for two hours, past any request window
    started = run.cli("spend")  # a studio starting in another process settles what it judges interrupted
    assert "Traceback" not in started.stderr, started.stderr
    assert run.studio.records.get(generation_id).status == "pending"
    thread.join(30)
    return shown(result[0]), generation_state(run.studio)


def pending_row(run: Run, worker: str | None, hours_old: float = 0) -> int:
    generation = run.studio.records.start_generation(ImageRequest(prompt="sent before a crash", model="gpt-image-2"), "demo", "h")
    run.set_rows(generation.id, worker=worker)
    if hours_old:
        backdate(run, generation.id, hours_old)
    return generation.id


def start_and_show(run: Run, generation_id: int) -> tuple[str, str]:
    """Start the studio again (as the pages and commands do) and show the row as the history would."""
    studio = Studio.open(load_settings())
    outcome = studio.outcome(generation_id)
    return shown(outcome) if outcome.status == "failed" else "—", generation_state(studio)


def dead_worker(run: Run) -> tuple[str, str]:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    host = current_worker().split(":")[0]
    return start_and_show(run, pending_row(run, f"{host}:{dead}"))


def reused_pid(run: Run) -> tuple[str, str]:
    host, pid, start = current_worker().split(":")
    return start_and_show(run, pending_row(run, f"{host}:{pid}:{int(start) - 1}"))  # this pid, another process


def other_host_young(run: Run) -> tuple[str, str]:
    return start_and_show(run, pending_row(run, "render-2:4242"))


def other_host_old(run: Run) -> tuple[str, str]:
    return start_and_show(run, pending_row(run, "render-2:4242", hours_old=24))


def settled_then_succeeds(run: Run) -> tuple[str, str]:
    thread, result, generation_id = in_flight(run, "a long one [demo:delay=8]")
    run.set_rows(generation_id, worker="render-2:4242")  # as if sent from another host, long ago
    backdate(run, generation_id, 24)
    assert run.cli("spend").returncode in (0, 1)
    assert run.studio.records.get(generation_id).error_code == "interrupted"  # settled meanwhile by the other studio
    thread.join(30)
    return shown(result[0]), generation_state(run.studio)


# --- opening a gallery that cannot be used as it is ------------------------------------------------

COMMANDS = (("doctor",), ("spend",), ("export", "out.zip"), ("generate", "a fox at dawn", "--model", "gpt-image-2"))


def every_entry_point(run: Run) -> str:
    """Open the gallery from every command and as the pages do; each must say the same one thing."""
    said = set()
    for command in COMMANDS:
        done = run.cli(*command)
        assert "Traceback" not in done.stderr and done.returncode == 1, f"{command}: {done.stderr}"
        said.add(done.stderr.strip().removeprefix("error: "))
    with pytest.raises(StudioError) as opened:
        Studio.open(load_settings())
    said.add(opened.value.message)
    assert len(said) == 1, said
    return said.pop()


def fresh_gallery(run: Run, name: str = "gallery") -> Path:
    """A data dir of its own (not the fixture's), for a scenario that damages the database before the start."""
    data_dir = run.tmp_path / name
    data_dir.mkdir()
    run.monkeypatch.setenv("STUDIO_DATA_DIR", str(data_dir))
    run.monkeypatch.chdir(run.tmp_path)
    return data_dir


def untouched(path: Path, before: bytes) -> str:
    return "file untouched" if path.read_bytes() == before else "file changed"


def corrupt_database(run: Run) -> tuple[str, str]:
    database = fresh_gallery(run) / "studio.db"
    database.write_bytes(os.urandom(16384))
    before = database.read_bytes()
    return every_entry_point(run), untouched(database, before)


def settings_file_damaged(run: Run, name: str, content: bytes, commands: tuple[tuple[str, ...], ...] = COMMANDS) -> tuple[str, str]:
    """A settings file in the data folder that cannot be used (an old export written over it, a typo):
    every command and the pages say one line naming the file; once, each stopped with a traceback."""
    data_dir = made_gallery(run, 1)
    (data_dir / name).write_bytes(content)
    database = data_dir / "studio.db"
    before = database.read_bytes()
    said = set()
    for command in commands:  # a command that does not read the file (doctor and prices) may succeed
        done = run.cli(*command)
        assert "Traceback" not in done.stderr and done.returncode in (0, 1), f"{command}: {done.stderr}"
        if done.returncode:
            said.add(done.stderr.strip().removeprefix("error: "))
    state = untouched(database, before)  # before the pages: a page that opens the gallery may checkpoint it
    from streamlit.testing.v1 import AppTest
    shown = ""
    for view in ("generate", "gallery", "edit", "compare"):  # no page stops with a traceback
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.switch_page(f"views/{view}.py")
        at.run()
        assert not at.exception, (view, [e.value for e in at.exception])
        shown += " | ".join(e.value for e in at.error).replace("\\", "")
    assert all(message in shown for message in said), (said, shown)
    assert len(said) == 1, said
    return said.pop(), state


def made_gallery(run: Run, generations: int = 3) -> Path:
    """A gallery made by real commands (another process: this one's engine cache must not know it yet)."""
    data_dir = fresh_gallery(run)
    for number in range(generations):
        made = run.cli("generate", f"fox {number}", "--model", "gpt-image-2")
        assert made.returncode == 0, made.stderr
    return data_dir


def truncated_database(run: Run) -> tuple[str, str]:
    database = made_gallery(run) / "studio.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(database, "r+b") as handle:
        handle.truncate(20480)  # the first pages only
    before = database.read_bytes()
    return every_entry_point(run), untouched(database, before)


def empty_database_file(run: Run) -> tuple[str, str]:
    (fresh_gallery(run) / "studio.db").write_bytes(b"")  # e.g. `touch studio.db`, or a copy that failed
    studio = Studio.open(load_settings())
    return shown(studio.generate(ImageRequest(prompt="a first image", model="gpt-image-2"))), generation_state(studio)


def newer_schema(run: Run) -> tuple[str, str]:
    database = made_gallery(run, 1) / "studio.db"
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")  # what a newer checkout leaves
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = database.read_bytes()
    return every_entry_point(run), untouched(database, before)


def read_only_mount(run: Run, prepare: Callable[[Path], None] = lambda data_dir: None) -> Path:
    """A data dir on a real read-only mount (tests run as root, whom chmod does not stop): a tmpfs that
    gets a gallery from a real command, then is remounted read-only. Unmounted after the scenario."""
    data_dir = fresh_gallery(run, "readonly")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(data_dir)], check=True)
    run.cleanups.append(lambda: subprocess.run(["umount", "-l", str(data_dir)], check=False))
    made = run.cli("generate", "a fox at dawn", "--model", "gpt-image-2")
    assert made.returncode == 0, made.stderr
    prepare(data_dir)
    subprocess.run(["mount", "-o", "remount,ro", str(data_dir)], check=True)
    return data_dir


def read_only_folder(run: Run) -> tuple[str, str]:
    read_only_mount(run)
    sent = run.demo_server.config.requests_seen
    spend = run.cli("spend")
    assert spend.returncode == 0 and spend.stderr.count("read-only: new images cannot be saved") == 1, spend.stderr  # said once
    exported = run.cli("export", str(run.tmp_path / "out.zip"))
    assert exported.returncode == 0 and '"images": 1' in exported.stdout, exported.stderr
    refused = run.cli("generate", "another fox", "--model", "gpt-image-2")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    studio = Studio.open(load_settings())  # as the pages open it
    try:
        assert studio.records.read_only
        found = GalleryService(studio).page(GalleryFilter(search="fox"))
        assert [item.prompt for item in found.items] == ["a fox at dawn"]  # browse and search work
        with pytest.raises(StudioError) as error:
            studio.generate(ImageRequest(prompt="one more fox", model="gpt-image-2"))
        assert error.value.message in refused.stderr
        with studio.records.session() as session:
            count = session.scalar(select(func.count()).select_from(Generation))
    finally:
        get_engine(studio.settings.database_url).dispose()
    stored = f"gallery unchanged ({count} generation)" + (", no request sent" if run.demo_server.config.requests_seen == sent else "")
    return error.value.message, stored


def read_only_old_schema(run: Run) -> tuple[str, str]:
    def downgrade(data_dir: Path) -> None:  # a gallery last opened by an older studio, before migration 0003
        script = ("from alembic import command; from studio.db.engine import alembic_config; "
                  f"command.downgrade(alembic_config('sqlite:///{data_dir}/studio.db'), '0004')")
        subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})

    database = read_only_mount(run, downgrade) / "studio.db"
    before = database.read_bytes()
    return every_entry_point(run), untouched(database, before)


def unreachable_database(run: Run) -> tuple[str, str]:
    fresh_gallery(run)
    run.monkeypatch.setenv("STUDIO_DATABASE_URL", "postgresql+psycopg://studio:hunter2@127.0.0.1:9/gallery")
    sent = run.demo_server.config.requests_seen
    message = every_entry_point(run)
    assert "hunter2" not in message  # the password in the URL is never shown
    return message, "nothing" if run.demo_server.config.requests_seen == sent else "a request was sent"


# --- text the database refuses (PostgreSQL: no NUL in any string) ------------------------------------

def two_generations(run: Run) -> GalleryService:
    for prompt in ("a red fox in the snow", "a harbour at night"):
        assert run.studio.generate(ImageRequest(prompt=prompt, model="gpt-image-2")).status == "succeeded"
    return GalleryService(run.studio)


def gallery_link(run: Run, params: dict[str, str]) -> tuple[str, str]:
    """Open the Gallery at a link with these query parameters, as the page does, and say what it shows."""
    from studio.services.gallery_link import parse_view

    library = two_generations(run)
    view, problems = parse_view(params)
    try:
        page = library.page(view.filters, view.sort, view.per_page, view.after, view.before)
    except StudioError as exc:
        return exc.message, "—"
    with run.studio.records.session() as session:
        count = session.scalar(select(func.count()).select_from(Generation))
    return " ".join(problems) or "—", f"{count} generations, {len(page.items)} shown"


def collection_nul(run: Run) -> tuple[str, str]:
    library = two_generations(run)
    image_id = run.studio.recent(1)[0].images[0].id
    try:
        library.add_to_collection("Mood\x00board", [image_id])
    except StudioError as exc:
        return exc.message, "—"
    names = run.studio.browse.collections()
    return "—", ", ".join(f"collection {name} ({len(library.page(GalleryFilter(collection_id=cid)).items)} image)" for cid, name in names)


# --- stored usage that makes no sense (an old version's row, an imported one) --------------------------

BAD_USAGE = {
    "usage-strings": {"input_tokens": "50", "output_tokens": "4160", "total_tokens": "4210"},
    "usage-negative": {"input_tokens": -50, "output_tokens": -100_000, "total_tokens": -100_050},
    "usage-floats": {"input_tokens": 50.5, "output_tokens": 4160.25, "total_tokens": 4210.75},
    "usage-huge": {"input_tokens": 10**20, "output_tokens": 10**20, "total_tokens": 2 * 10**20},
    "usage-details": {"input_tokens": 50, "output_tokens": 4160, "input_tokens_details": {"image_tokens": 9_000_000, "text_tokens": "many"}},
    "usage-not-object": ["lots", "of", "tokens"],
}


def bad_usage(run: Run, row: str) -> tuple[str, str]:
    """A succeeded generation whose stored usage is nonsense, seen in the Gallery dialog, on the Compare
    page (a comparison whose cell it is) and in the spend totals (the Compare page's caption, `spend`)."""
    from studio.services.comparisons import open_comparison, spend

    outcome = run.studio.generate(ImageRequest(prompt="a lighthouse", model="gpt-image-2", quality="low"))
    usage = BAD_USAGE[row]
    fits = lambda value: value if isinstance(value, int) and -2**31 <= value < 2**31 else None  # noqa: E731
    columns = {name: fits(usage.get(name)) for name in ("input_tokens", "output_tokens", "total_tokens")} if isinstance(usage, dict) else {}
    run.set_rows(outcome.generation_id, usage=usage, **columns)
    group_id, cells = run.studio.records.create_compare_group("a lighthouse", "gpt-image-2", None, {"prompt": "a lighthouse"}, [(0, "low", None)])
    run.studio.records.link_compare_cell(cells[0], outcome.generation_id)

    dialog = GalleryService(run.studio).cost_text(run.studio.records.get(outcome.generation_id))
    comparison = open_comparison(run.studio, group_id)
    totals = spend(run.studio)
    cli = run.cli("spend")
    assert cli.returncode == 0 and "Traceback" not in cli.stderr, cli.stderr
    assert '"unpriced_generations": 1' in cli.stdout and '"overall_usd": 0' in cli.stdout, cli.stdout
    unknown = [comparison.cells[0].cost is None, comparison.cost_usd is None, totals.usd == 0, totals.unpriced == 1]
    stored = "cost unknown in the gallery, the comparison and spend" if all(unknown) else f"priced: {unknown}"
    return dialog, stored


SCENARIOS: dict[str, Callable[[Run], tuple[str, str]]] = {
    "live-worker-outlives-window": live_worker_outlives_window,
    "dead-worker": dead_worker,
    "reused-pid": reused_pid,
    "other-host-young": other_host_young,
    "other-host-old": other_host_old,
    "settled-then-succeeds": settled_then_succeeds,
    "corrupt-database": corrupt_database,
    "providers-toml-not-text": lambda r: settings_file_damaged(r, "providers.toml", b"PK\x03\x04\x14\x00\xc0\xff zip bytes"),
    "providers-toml-models-text": lambda r: settings_file_damaged(r, "providers.toml", b'[providers.relay]\nmodels = "gpt-image-2"\n'),
    "providers-toml-not-table": lambda r: settings_file_damaged(r, "providers.toml", b"providers = 3\n"),
    "pricing-toml-not-text": lambda r: settings_file_damaged(r, "pricing.toml", b"\xc0\xff\x00", (("spend",),)),
    "pricing-toml-models-not-table": lambda r: settings_file_damaged(r, "pricing.toml", b"models = 3\n", (("spend",), ("doctor",))),
    "truncated-database": truncated_database,
    "empty-database-file": empty_database_file,
    "newer-schema": newer_schema,
    "read-only-folder": read_only_folder,
    "read-only-old-schema": read_only_old_schema,
    "unreachable-database": unreachable_database,
    "search-nul": lambda r: gallery_link(r, {"q": "\x00"}),
    "search-nul-word": lambda r: gallery_link(r, {"q": "fox\x00"}),
    "filter-nul": lambda r: gallery_link(r, {"model": "gpt-image-2\x00", "quality": "\x00"}),
    "collection-nul": collection_nul,
    **{row: (lambda r, row=row: bad_usage(r, row)) for row in BAD_USAGE},
}
# Rows about what PostgreSQL refuses run on PostgreSQL (and on SQLite, which must agree).
POSTGRES_ROWS = {"search-nul", "search-nul-word", "filter-nul", "collection-nul", *BAD_USAGE}


def test_every_row_has_a_scenario_and_every_scenario_a_row():
    assert_rows_match(doc_rows(), SCENARIOS)


def check_row(row: str, run: Run) -> None:
    message, stored = doc_rows()[row]
    try:
        seen, state = SCENARIOS[row](run)
    finally:
        for cleanup in reversed(run.cleanups):
            cleanup()
    assert_message(row, message, seen)
    assert state == stored


@pytest.mark.parametrize("row", sorted(SCENARIOS))
def test_row_holds(row, studio, demo_server, tmp_path, monkeypatch):
    check_row(row, Run(studio, demo_server, tmp_path, monkeypatch))


@pytest.mark.parametrize("backend", ["postgres+local"], indirect=True)
@pytest.mark.parametrize("row", sorted(POSTGRES_ROWS))
def test_row_holds_on_postgres(row, studio, demo_server, tmp_path, monkeypatch):
    check_row(row, Run(studio, demo_server, tmp_path, monkeypatch))
