"""`python -m studio generate` runs the same path into the same gallery and prints one JSON object."""

import json
import os
import subprocess
import sys
from pathlib import Path

from studio.core.config import load_settings
from studio.services.studio import Studio
from tests.conftest import ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, env=env, timeout=60)


def test_generate_prints_json_and_keeps_the_images(studio_env):
    done = run_cli("generate", "a cli lantern", "--n", "2", "--size", "1536x1024", "--output-format", "jpeg",
                   "--output-compression", "80", "--quality", "low", "--response-format", "url")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded"
    assert result["revised_prompts"] == ["A detailed rendering of: a cli lantern"] * 2
    for image in result["images"]:
        assert Path(image["path"]).is_absolute() and Path(image["path"]).is_file()
        assert (image["width"], image["height"], image["format"]) == (1536, 1024, "jpeg")
        assert len(image["sha256"]) == 64
    kept = Studio.open(load_settings()).outcome(result["generation_id"])
    assert kept.generation.output_compression == 80 and kept.generation.response_format == "url"


def test_an_api_error_exits_1_with_one_line_and_is_recorded(studio_env):
    done = run_cli("generate", "nope [demo:fail=moderation]")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "safety system refused" in lines[0]
    recent = Studio.open(load_settings()).recent()
    assert recent[0].generation.prompt == "nope [demo:fail=moderation]" and recent[0].status == "failed"


def test_bad_input_exits_1_before_any_request(studio_env):
    done = run_cli("generate", "fine prompt", "--n", "12")
    assert done.returncode == 1
    assert done.stderr.strip() == "error: n is 12; ask for 1 to 10 images."
    assert Studio.open(load_settings()).recent() == []


def test_export_never_writes_over_the_gallery_database(studio_env):
    """`export "$STUDIO_DATA_DIR/studio.db"` once truncated the gallery to an empty zip before reading a row."""
    assert run_cli("generate", "a kept lantern").returncode == 0
    database = studio_env / "studio.db"
    before = database.read_bytes()
    done = run_cli("export", str(database))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: {database} is the gallery's own database file (studio.db); export to a file outside the data folder, "
        "e.g. ~/gallery-export.zip."]
    assert database.read_bytes() == before
    target = studio_env.parent / "gallery.zip"
    done = run_cli("export", str(target))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"zip": str(target), "images": 1, "generations": 1, "missing": []}
    assert Studio.open(load_settings()).recent()[0].generation.prompt == "a kept lantern"
