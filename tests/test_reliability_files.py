"""docs/reliability.md, section "Export, import and files": one scenario per row, each run the way a user
would (the CLI in-process, on a real gallery seeded with one generated image), each checked against the
row's message and what the gallery holds afterwards."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import func, select, update

from studio.cli.main import main
from studio.core.request import ImageRequest
from studio.core.browsing import GalleryFilter
from studio.db.models import Generation, Image
from studio.files.filemeta import KEYWORD
from studio.services.studio import Studio
from studio.services.thumbnails import wait_for_thumbnails
from studio.services.meaning_index import wait_for_vectors
from tests.conftest import ROOT
from tests.reliability_table import assert_message, assert_rows_match, section_rows

SECTION = "Export, import and files"


def doc_rows() -> dict[str, tuple[str, str]]:
    return section_rows(SECTION)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under the data folder and its sha256: "gallery unchanged" means byte for byte. SQLite's
    `-shm` is left out: it is the WAL's shared-memory index, rewritten by any reader, and holds no data."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink() and not p.name.endswith("-shm")}


class Run:
    def __init__(self, studio: Studio, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
        self.studio, self.tmp_path, self.capsys = studio, tmp_path, capsys
        self.data = studio.settings.data_dir
        self.seed = studio.generate(ImageRequest(prompt="a seeded heron", model="gpt-image-2"))
        wait_for_thumbnails()
        wait_for_vectors()  # the seed's prompt vectors are written after its commit, like its thumbnail
        self.before = snapshot(self.data)
        self.code: int | None = None

    def run(self, *args: object) -> str:
        """What the user reads after `python -m studio ARGS`: stderr and stdout (one line on error)."""
        self.code = main([str(a) for a in args])
        out = self.capsys.readouterr()
        if self.code:
            lines = out.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), f"not one error line: {out.err!r}"
        return out.err + out.out

    def refused(self, *args: object) -> str:
        seen = self.run(*args)
        assert self.code == 1, seen
        return seen

    def rewind(self) -> None:
        """Forget the changes a scenario made on purpose before the part under test."""
        wait_for_thumbnails()
        wait_for_vectors()
        self.before = snapshot(self.data)


# --- export ---------------------------------------------------------------------------------------

def export_onto_database(r: Run) -> str:
    return r.refused("export", r.data / "studio.db")


def export_database_symlink(r: Run) -> str:
    link = r.tmp_path / "innocent.zip"
    link.symlink_to(r.data / "studio.db")
    return r.refused("export", link, "--force")


def export_database_dotdot(r: Run) -> str:
    return r.refused("export", f"{r.data}/images/../studio.db", "--force")


def export_database_hardlink(r: Run) -> str:
    link = r.tmp_path / "hard.zip"
    os.link(r.data / "studio.db", link)
    return r.refused("export", link, "--force")


def export_into_storage(r: Run) -> str:
    return r.refused("export", r.data / "images" / "export.zip")


def export_existing(r: Run) -> str:
    earlier = r.tmp_path / "earlier.zip"
    earlier.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    seen = r.refused("export", earlier)
    assert earlier.read_bytes() == b"PK\x05\x06" + bytes(18)
    return seen


def export_force_not_zip(r: Run) -> str:
    notes = r.tmp_path / "notes.txt"
    notes.write_text("my notes")
    seen = r.refused("export", notes, "--force")
    assert notes.read_text() == "my notes"
    return seen


def export_force_replaces(r: Run) -> str:
    target = r.tmp_path / "gallery.zip"
    r.run("export", target)
    seen = r.run("export", target, "--force")
    assert r.code == 0
    with zipfile.ZipFile(target) as archive:
        assert len([n for n in archive.namelist() if n.startswith("images/")]) == 1
    assert [p.name for p in r.tmp_path.iterdir() if p.name.startswith(".tmp-")] == []  # no temp file left
    return "—" if json.loads(seen)["images"] == 1 else seen


def export_to_folder(r: Run) -> str:
    return r.refused("export", r.tmp_path)


def export_missing_folder(r: Run) -> str:
    return r.refused("export", r.tmp_path / "nowhere" / "gallery.zip")


def export_missing_file(r: Run) -> str:
    lost = r.seed.generation.images[0].path
    r.studio.storage.delete(lost)
    r.rewind()
    seen = r.run("export", r.tmp_path / "gallery.zip")
    assert r.code == 0
    report = json.loads(seen[seen.index("{"):])
    assert (report["images"], report["generations"], report["missing"]) == (0, 1, [lost])
    return seen


# --- import, inspect and the doctor: values from zips and from inside files ------------------------

def png(colour: tuple[int, int, int], embedded: str | None = None) -> bytes:
    """A real PNG, with `embedded` as its Image Studio iTXt chunk (any text, JSON or not)."""
    info = PngInfo()
    if embedded is not None:
        info.add_itxt(KEYWORD, embedded)
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 24), colour).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


GOOD = {"prompt": "a good kestrel", "model": "gpt-image-2", "created_at": "2026-01-02T03:04:05+00:00"}


def import_lines(r: Run, *lines: str) -> str:
    """A zip whose first image has `lines` (then a good line for a second image) as metadata.jsonl."""
    members = {"images/a.png": png((200, 10, 10), json.dumps({"prompt": "inside a", "model": "gpt-image-2"})),
               "images/b.png": png((10, 200, 10)),
               "metadata.jsonl": "\n".join([*lines, json.dumps({**GOOD, "file": "images/b.png", "generation_id": 2})]).encode()}
    return import_zip(r, members)


def import_zip(r: Run, members: dict[str, bytes]) -> str:
    target = r.tmp_path / "in.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    seen = r.run("import", target)
    assert r.code == 0, seen
    return seen


def line(**fields: object) -> str:
    return json.dumps({**GOOD, "file": "images/a.png", "generation_id": 1, **fields})


def inspect(r: Run, embedded: str) -> str:
    path = r.tmp_path / "odd.png"
    path.write_bytes(png((1, 2, 3), embedded))
    return r.refused("inspect", path)


def doctor_adopts(r: Run) -> str:
    stray = "images/zz/left-by-a-crash.png"
    r.studio.storage.put_file(stray, png((9, 9, 9), json.dumps({"prompt": "a stray owl", "n": 2**70, "quality": ["high"]})))
    old = r.data / stray
    os.utime(old, (old.stat().st_atime - 86_400, old.stat().st_mtime - 86_400))  # long after any request could end
    seen = r.run("doctor", "--fix")
    assert json.loads(seen[seen.index("{"):])["fixed"]["files_adopted"] == 1
    assert r.studio.browse.page(GalleryFilter(search="owl")).items  # kept, with the prompt that was fine
    return seen


def import_three_at_once(r: Run) -> str:
    target = r.tmp_path / "in.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("images/a.png", png((7, 70, 170)))
        archive.writestr("metadata.jsonl", line() + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    importers = [subprocess.Popen([sys.executable, "-m", "studio", "import", str(target)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in importers]
    assert [p.returncode for p in importers] == [0, 0, 0], results
    reports = [json.loads(out) for out, _ in results]
    assert sorted(r["added"] for r in reports) == [0, 0, 1] and sum(r["skipped_duplicates"] for r in reports) == 2
    return "—" if all(err == "" for _, err in results) else str(results)


def import_same_bytes(r: Run) -> str:
    same = png((120, 120, 0))
    lines = [line(file="images/one.png", generation_id=1, created_at="2026-01-01T00:00:00"),
             line(file="images/two.png", generation_id=2, created_at="2026-01-02T00:00:00")]
    seen = import_zip(r, {"images/one.png": same, "images/two.png": same, "metadata.jsonl": "\n".join(lines).encode()})
    report = json.loads(seen[seen.index("{"):])
    return "—" if (report["generations"], report["added"], report["problems"]) == (2, 2, []) else seen


def import_own_export(r: Run) -> str:
    target = r.tmp_path / "mine.zip"
    r.run("export", target)
    seen = r.run("import", target)
    report = json.loads(seen[seen.index("{"):])
    return "—" if (report["added"], report["skipped_duplicates"]) == (0, 1) else seen


def cut_jpeg() -> bytes:
    """A real JPEG with detail, cut to a third (what a dropped connection or a faulty relay leaves)."""
    picture = PILImage.frombytes("RGB", (512, 384), os.urandom(512 * 384 * 3)).resize((512, 384))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()[: len(buffer.getvalue()) // 3]


def edit_truncated(r: Run) -> str:
    path = r.tmp_path / "truncated.jpg"
    path.write_bytes(cut_jpeg())
    return r.refused("edit", "make it warmer", "--image", path)


def doctor_truncated_stray(r: Run) -> str:
    stray = "images/zz/cut-short.jpeg"
    r.studio.storage.put_file(stray, cut_jpeg())
    old = r.data / stray
    os.utime(old, (old.stat().st_atime - 86_400, old.stat().st_mtime - 86_400))
    r.rewind()
    seen = r.run("doctor", "--fix")
    assert json.loads(seen[seen.index("{"):])["fixed"]["files_adopted"] == 0 and old.is_file()  # left for a person
    return seen


def import_credentials_in_host(r: Run) -> str:
    """An export made before credentials in a base URL were refused: its lines carry `user:pass@host`."""
    seen = import_lines(r, line(base_url_host="designer:s3cret@relay.example"))
    with r.studio.records.session() as session:
        hosts = set(session.scalars(select(Generation.base_url_host)))
    assert "relay.example" in hosts and not any("s3cret" in h or "designer" in h for h in hosts), hosts
    return "—" if "s3cret" not in seen else seen


def export_old_row_credentials(r: Run) -> str:
    """A row written before credentials were refused is read, shown and exported as its host alone."""
    with r.studio.records.engine.begin() as connection:
        connection.execute(update(Generation).values(base_url_host="designer:s3cret@relay.example"))
    r.rewind()
    target = r.tmp_path / "out.zip"
    seen = r.run("export", target)
    with zipfile.ZipFile(target) as archive:
        assert b"s3cret" not in archive.read("metadata.jsonl") and b"relay.example" in archive.read("metadata.jsonl")
    assert [item.generation.base_url_host for item in r.studio.recent(5)] == ["relay.example"]
    return "—" if r.code == 0 and "s3cret" not in seen else seen


def export_to_fifo(r: Run) -> str:
    """A named pipe: once, --force opened it to read its first bytes and waited for a writer forever."""
    fifo = r.tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    return r.refused("export", fifo, "--force")


def export_settings_file(r: Run, name: str) -> str:
    """A settings file the gallery reads at start, not there yet: once, the export created it as a zip and
    every later command stopped with a UnicodeDecodeError."""
    seen = r.refused("export", r.data / name)
    assert not (r.data / name).exists()
    return seen


def export_long_name(r: Run) -> str:
    """A 250-character name is a valid file name: once its temporary sibling's longer name was refused."""
    target = r.tmp_path / ("a" * 246 + ".zip")
    seen = r.run("export", target)
    assert r.code == 0 and zipfile.is_zipfile(target), seen
    return "—"


def import_duplicate_names(r: Run) -> str:
    """Two members under one name (a zip appended to): only the last can be read, and the user is told."""
    target = r.tmp_path / "twice.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is asked to write
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("images/a.png", png((1, 99, 1)))
            archive.writestr("images/a.png", png((99, 1, 1)))
    seen = r.run("import", target)
    assert r.code == 0, seen
    return seen


SCENARIOS: dict[str, Callable[[Run], str]] = {
    "edit-truncated-jpeg": edit_truncated,
    "import-truncated-member": lambda r: import_zip(r, {"images/cut.jpeg": cut_jpeg()}),
    "doctor-truncated-stray": doctor_truncated_stray,
    "import-three-at-once": import_three_at_once,
    "import-same-bytes": import_same_bytes,
    "import-own-export": import_own_export,
    "import-file-missing-at-export": lambda r: import_zip(r, {"metadata.jsonl": line(file=None).encode()}),
    "import-member-not-in-zip": lambda r: import_zip(r, {"metadata.jsonl": line(file="images/nowhere.png").encode()}),
    "import-lone-surrogate": lambda r: import_lines(r, line(prompt="a fox \ud800 in snow")),
    "import-credentials-in-host": import_credentials_in_host,
    "export-old-row-credentials": export_old_row_credentials,
    "import-duplicate-names": import_duplicate_names,
    "import-huge-number": lambda r: import_lines(r, line(n=2**70)),
    "import-negative-n": lambda r: import_lines(r, line(n=-3)),
    "import-list-line": lambda r: import_lines(r, json.dumps(["images/a.png", {"n": 1}])),
    "import-nan": lambda r: import_lines(r, line(latency_s=float("nan"))),
    "import-huge-prompt": lambda r: import_lines(r, line(prompt="p" * 10 * 1024 * 1024)),
    "import-year-99999": lambda r: import_lines(r, line(created_at="99999-01-01T00:00:00")),
    "import-before-year-one": lambda r: import_lines(r, line(created_at="0001-01-01T00:00:00+05:00")),
    "import-digits": lambda r: import_lines(r, '{"file": "images/a.png", "n": ' + "9" * 5000 + "}"),
    "import-deep-nesting": lambda r: import_lines(r, "[" * 100_000 + "]" * 100_000),
    "import-bad-usage": lambda r: import_lines(r, line(usage={"input_tokens": -5, "output_tokens": 2**70})),
    "import-embedded-list": lambda r: import_zip(r, {"images/x.png": png((5, 5, 200), json.dumps(["a", "list"]))}),
    "import-embedded-not-json": lambda r: import_zip(r, {"images/x.png": png((5, 5, 200), "{not json")}),
    "import-embedded-huge": lambda r: import_zip(r, {"images/x.png": png((5, 5, 200), json.dumps({"prompt": "x", "n": 2**70}))}),
    "inspect-embedded-list": lambda r: inspect(r, json.dumps(["a", "list"])),
    "inspect-embedded-not-json": lambda r: inspect(r, "{not json"),
    "inspect-embedded-huge": lambda r: inspect(r, json.dumps({"prompt": "x", "n": 2**70})),
    "inspect-not-an-image": lambda r: (r.tmp_path / "notes.png").write_text("hello") and r.refused("inspect", r.tmp_path / "notes.png"),
    "doctor-adopts-bad-metadata": doctor_adopts,
    "export-onto-database": export_onto_database,
    "export-database-symlink": export_database_symlink,
    "export-database-dotdot": export_database_dotdot,
    "export-database-hardlink": export_database_hardlink,
    "export-wal": lambda r: r.refused("export", r.data / "studio.db-wal", "--force"),
    "export-shm": lambda r: r.refused("export", r.data / "studio.db-shm"),
    "export-into-storage": export_into_storage,
    "export-into-thumbs-dotdot": lambda r: r.refused("export", f"{r.data}/uploads/../thumbs/x.zip"),
    "export-existing": export_existing,
    "export-force-not-zip": export_force_not_zip,
    "export-force-replaces": export_force_replaces,
    "export-to-folder": export_to_folder,
    "export-missing-folder": export_missing_folder,
    "export-missing-file": export_missing_file,
    "export-to-fifo": export_to_fifo,
    "export-to-device": lambda r: r.refused("export", "/dev/null", "--force"),
    "export-providers-toml": lambda r: export_settings_file(r, "providers.toml"),
    "export-session-secret": lambda r: export_settings_file(r, ".session-secret"),
    "export-parent-is-file": lambda r: r.refused("export", r.data / "studio.db" / "x.zip"),
    "export-name-too-long": lambda r: r.refused("export", r.tmp_path / ("a" * 300 + ".zip")),
    "export-long-name": export_long_name,
}


def stored_state(r: Run) -> str:
    if snapshot(r.data) == r.before:
        return "gallery unchanged"
    with r.studio.records.session() as session:
        generations = session.scalar(select(func.count()).select_from(Generation))
        paths = list(session.scalars(select(Image.path)))
    for path in paths:
        assert r.studio.storage.exists(path), f"a row points at a missing file: {path}"
    strays = set(r.studio.storage.files("images")) - set(paths)
    text = f"{generations} generation{'s' if generations != 1 else ''}, {len(paths)} image{'s' if len(paths) != 1 else ''}"
    return text + (f", {len(strays)} stray file{'s' if len(strays) != 1 else ''}" if strays else "")


def test_every_row_has_a_scenario_and_every_scenario_a_row():
    assert_rows_match(doc_rows(), SCENARIOS)


@pytest.mark.parametrize("row", sorted(SCENARIOS))
def test_row_holds(row, studio, tmp_path, capsys):
    message, stored = doc_rows()[row]
    run = Run(studio, tmp_path, capsys)
    seen = SCENARIOS[row](run)
    assert_message(row, message, seen)
    wait_for_thumbnails()
    assert stored_state(run) == stored
