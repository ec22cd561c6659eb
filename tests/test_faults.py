"""Faults between the steps of a save: nothing half-written, no prompt lost."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import update

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.db.models import Generation
from studio.db.worker import current_worker
from studio.services.studio import Studio
from tests.conftest import ROOT

CRASH_BEFORE_COMMIT = textwrap.dedent(
    """
    import os
    from studio.core.config import load_settings
    from studio.core.request import ImageRequest
    from studio.services.studio import Studio

    studio = Studio.open(load_settings())
    # Fault injection: the process dies after the files are on disk, before their rows are committed.
    studio.records.finish_generation = lambda *args, **kwargs: os._exit(3)
    studio.generate(ImageRequest(prompt="crash in the window", model="gpt-image-2"))
    """
)


def test_a_crash_between_file_and_row_loses_no_prompt(studio_env):
    crashed = subprocess.run([sys.executable, "-c", CRASH_BEFORE_COMMIT], env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert crashed.returncode == 3
    files = [p for p in (studio_env / "images").rglob("*") if p.is_file()]
    assert len(files) == 1 and not files[0].name.startswith(".tmp")  # complete file, renamed into place
    studio = Studio.open(load_settings())  # the next start settles the interrupted request
    [kept] = studio.recent()
    assert kept.generation.prompt == "crash in the window"
    assert kept.status == "failed" and kept.generation.error_code == "interrupted"
    assert "prompt is kept" in kept.error.message


def test_a_live_request_of_another_process_is_left_alone(studio):
    pending = studio.records.start_generation(ImageRequest(prompt="in flight", model="gpt-image-2"), "custom", "h")
    assert studio.records.settle_interrupted(older_than_s=3600) == 0  # this process is alive
    assert studio.records.get(pending.id).status == "pending"
    # Older than any request can run, yet its process (this one, on this host) still waits for it: left alone.
    assert studio.records.settle_interrupted(older_than_s=-1) == 0
    assert studio.records.get(pending.id).status == "pending"
    set_worker(studio, pending.id, "another-host:4242")  # sent from a host this one cannot ask
    assert studio.records.settle_interrupted(older_than_s=3600) == 0  # young: may still be running there
    assert studio.records.settle_interrupted(older_than_s=-1) == 1  # older than any request can run
    assert studio.records.get(pending.id).status == "failed"


def set_worker(studio: Studio, generation_id: int, worker: str) -> None:
    with studio.records.engine.begin() as connection:
        connection.execute(update(Generation).where(Generation.id == generation_id).values(worker=worker))


def test_a_dead_or_reused_pid_on_this_host_is_settled_at_once(studio):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    host, pid, start = current_worker().split(":")
    rows = {}
    for name, worker in {"dead": f"{host}:{dead}", "reused": f"{host}:{pid}:{int(start) + 1}", "old-format-live": f"{host}:{pid}",
                         "live": current_worker(), "no-worker": None, "nonsense": f"{host}:0", "huge-pid": f"{host}:99999999999999999999"}.items():
        rows[name] = studio.records.start_generation(ImageRequest(prompt=name, model="gpt-image-2"), "custom", "h").id
        set_worker(studio, rows[name], worker)
    assert studio.records.settle_interrupted(older_than_s=3600) == 2
    status = {name: studio.records.get(i).status for name, i in rows.items()}
    # A pid's owner that started at another time is not the process that sent the request (a restarted container).
    assert status == {"dead": "failed", "reused": "failed", "old-format-live": "pending", "live": "pending",
                      "no-worker": "pending", "nonsense": "pending", "huge-pid": "pending"}
    assert studio.records.settle_interrupted(older_than_s=-1) == 3  # the ones nobody can ask about go by age
    assert studio.records.get(rows["live"]).status == "pending"


def test_a_success_after_being_settled_keeps_no_error(studio):
    done = threading.Event()
    outcome: list = []
    worker = threading.Thread(target=lambda: (outcome.append(studio.generate(
        ImageRequest(prompt="slow but fine [demo:delay=6]", model="gpt-image-2"))), done.set()))
    worker.start()
    deadline = time.time() + 10
    while not studio.records.recent(1) and time.time() < deadline:
        time.sleep(0.02)
    [pending] = studio.records.recent(1)
    assert studio.records.settle_interrupted(older_than_s=-1) == 0  # its process (this one) is alive: left alone
    settle = "from studio.core.config import load_settings; from studio.db.generations import GenerationRecords; " \
             "print(GenerationRecords.open(load_settings().database_url).settle_interrupted(older_than_s=0))"
    set_worker(studio, pending.id, "another-host:4242")  # now as if sent from elsewhere: settled by age
    other = subprocess.run([sys.executable, "-c", settle], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == "1", other.stderr
    assert studio.records.get(pending.id).error_code == "interrupted"
    worker.join(30)
    kept = studio.records.get(pending.id)
    assert outcome[0].status == "succeeded" and kept.status == "succeeded" and len(kept.images) == 1
    assert (kept.error_code, kept.error_message, kept.http_status) == (None, None, None)


def test_unwritable_data_dir_is_explained(studio):
    (studio.settings.data_dir / "images").write_text("a file where the images folder should be")
    outcome = studio.generate(ImageRequest(prompt="nowhere to go", model="gpt-image-2"))
    assert outcome.status == "failed" and outcome.error.code == "storage_unwritable"
    assert "make it writable or set STUDIO_DATA_DIR" in outcome.error.message
    assert studio.records.get(outcome.generation_id).prompt == "nowhere to go"


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs: room for about two demo images, so the third write hits ENOSPC for real."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_disk_full_keeps_nothing_half_written(studio_env, tmp_path, tiny_disk, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tiny_disk))
    monkeypatch.setenv("STUDIO_DATABASE_URL", f"sqlite:///{tmp_path / 'studio.db'}")
    studio = Studio.open(load_settings())
    outcome = studio.generate(ImageRequest(prompt="too much for the disk", model="gpt-image-2", n=6))
    assert outcome.status == "failed" and outcome.error.code == "storage_failed"
    assert "free some disk space" in outcome.error.message
    assert [p for p in tiny_disk.rglob("*") if p.is_file()] == []  # no partial file, no half batch
    kept = studio.records.get(outcome.generation_id)
    assert kept.prompt == "too much for the disk" and kept.images == []
