"""`python -m studio batch` over real HTTP to the demo endpoint: a text file and a CSV with per-row fields,
resumed after a kill without repeating a line, and bad rows named before anything is sent."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.core.config import load_settings
from studio.core.request import ImageRequest, ValidationError
from studio.db.jobs import INTERRUPTED_RUNNING
from studio.db.models import Generation, Job
from studio.provider.demo import DemoServer
from studio.services.batch import read_batch
from studio.services.studio import Studio
from tests.conftest import ROOT


def batch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "studio", "batch", *args], capture_output=True, text=True, env=env, timeout=timeout)


def generations(studio: Studio) -> list[Generation]:
    with studio.records.session() as session:
        return session.query(Generation).order_by(Generation.id).all()


def test_a_text_file_runs_once_and_a_second_run_skips_it(studio_env: Path, demo_server: DemoServer, tmp_path: Path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a red kite\n\n# a comment, skipped\na blue boat\na refused one [demo:fail=moderation]\n")
    before = demo_server.config.requests_seen
    done = batch(str(prompts), "--quality", "low", "--concurrency", "2")
    assert done.returncode == 1  # one line failed
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted((r["line"], r["status"]) for r in results) == [(1, "succeeded"), (4, "succeeded"), (5, "failed")]
    refused = next(r for r in results if r["line"] == 5)
    assert "safety system" in refused["error"] and refused["generation_id"] is not None  # kept in the history
    for result in results:
        if result["status"] == "succeeded":
            assert [Path(p).exists() for p in result["images"]] == [True]
    assert "prompts.txt: 3 lines, 0 already done, 3 to run (2 at once)" in done.stderr
    assert "[3/3]" in done.stderr
    assert demo_server.config.requests_seen - before == 3
    studio = Studio.open(load_settings())
    assert {g.quality for g in generations(studio)} == {"low"}

    again = batch(str(prompts), "--quality", "low", "--concurrency", "2")
    assert "3 lines, 2 already done, 1 to run" in again.stderr
    assert [json.loads(line)["line"] for line in again.stdout.splitlines()] == [5]  # only the failed line again
    assert demo_server.config.requests_seen - before == 4


def test_csv_columns_set_request_fields_per_row(studio_env: Path, tmp_path: Path):
    prompts = tmp_path / "prompts.csv"
    prompts.write_text('prompt,quality,size,n,output_format\n'
                       '"a fox, in snow",high,1536x1024,2,\n'
                       'a plain owl,,,,webp\n')
    done = batch(str(prompts), "--quality", "low")
    assert done.returncode == 0, done.stderr
    studio = Studio.open(load_settings())
    rows = {g.prompt: g for g in generations(studio)}
    fox, owl = rows["a fox, in snow"], rows["a plain owl"]
    assert (fox.quality, fox.size, fox.n, len(studio.outcome(fox.id).images)) == ("high", "1536x1024", 2, 2)
    assert (owl.quality, owl.size, owl.output_format) == ("low", None, "webp")  # an empty cell takes the option
    with studio.records.session() as session:
        jobs = session.query(Job).order_by(Job.batch_line).all()
    assert [(j.batch_line, j.status, j.batch_file) for j in jobs] == [(2, "succeeded", str(prompts)), (3, "succeeded", str(prompts))]


def test_bad_rows_are_named_and_nothing_is_sent(studio_env: Path, demo_server: DemoServer, tmp_path: Path):
    prompts = tmp_path / "bad.csv"
    prompts.write_text("prompt,quality,n,background,output_format\n"
                       "fine,low,1,,\n"
                       ",low,1,,\n"
                       "too many,ultra,two,,\n"
                       "see-through,,,transparent,jpeg\n")
    before = demo_server.config.requests_seen
    done = batch(str(prompts))
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert "error: bad.csv line 3: The prompt is empty; describe the image you want." in lines
    assert "error: bad.csv line 4: n must be a whole number, not 'two'." in lines
    assert any(line.startswith("error: bad.csv line 5:") and "transparent" in line for line in lines)
    assert not any("line 2:" in line for line in lines)
    assert "bad.csv: nothing was sent; fix the lines above and run again." in lines
    assert demo_server.config.requests_seen == before

    header = tmp_path / "header.csv"
    header.write_text("prompt,qualty\nx,low\n")
    done = batch(str(header))
    assert done.returncode == 1
    assert "column 'qualty' is not a request field; use prompt, model, n, size, quality" in done.stderr
    missing = batch(str(tmp_path / "nowhere.txt"))
    assert missing.returncode == 1 and "Could not read" in missing.stderr and "Traceback" not in missing.stderr
    assert demo_server.config.requests_seen == before


def test_a_bad_quality_in_a_row_says_the_choices(studio: Studio):
    defaults = ImageRequest(prompt="", model="gpt-image-2")
    with pytest.raises(ValidationError) as caught:
        read_batch(studio, "upload:x.csv", "x.csv", b"prompt,quality\nok,low\nbad,ultra\n", defaults)
    [problem] = caught.value.problems
    assert problem.startswith("x.csv line 3: ") and "quality" in problem
    with pytest.raises(ValidationError, match="not UTF-8"):
        read_batch(studio, "upload:x.txt", "x.txt", b"\xff\xfe\x00bad", defaults)
    with pytest.raises(ValidationError, match="has no prompt in it"):
        read_batch(studio, "upload:x.txt", "x.txt", b"\n# only a comment\n", defaults)


def test_a_killed_100_line_batch_resumes_without_repeating_a_line(studio_env: Path, demo_server: DemoServer, tmp_path: Path):
    prompts = tmp_path / "hundred.csv"
    prompts.write_text("prompt,quality\n" + "".join(f"line {n} [demo:delay=0.05],low\n" for n in range(1, 101)))
    before = demo_server.config.requests_seen
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "studio", "batch", str(prompts), "--concurrency", "4"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    first = []
    try:
        while len(first) < 30:
            line = child.stdout.readline()
            assert line, "the batch ended early"
            first.append(json.loads(line))
    finally:
        child.send_signal(signal.SIGKILL)  # no goodbye: jobs in flight die with it
        child.wait()
    assert len(first) >= 30
    time.sleep(0.2)
    done = batch(str(prompts), "--concurrency", "4", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    already, todo = map(int, re.search(r"100 lines, (\d+) already done, (\d+) to run", done.stderr).groups())
    assert already >= len(first) and already + todo == 100  # what finished after the last line read counts too
    second = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(second) == todo and {r["status"] for r in second} == {"succeeded"}
    assert {r["line"] for r in first}.isdisjoint({r["line"] for r in second})  # nothing done twice
    studio = Studio.open(load_settings())
    succeeded = [g.prompt for g in generations(studio) if g.status == "succeeded"]
    assert sorted(succeeded) == sorted(f"line {n} [demo:delay=0.05]" for n in range(1, 101))  # each line once
    # Only the lines whose request was in flight at the kill (their jobs settled as interrupted) were sent twice.
    with studio.records.session() as session:
        interrupted = session.query(Job).filter(Job.status == "interrupted", Job.error_message == INTERRUPTED_RUNNING).count()
    assert 100 <= demo_server.config.requests_seen - before <= 100 + interrupted
    assert interrupted <= 16  # a handful: those sent or saving when the process died


# --- The Generate page's upload, under Streamlit's AppTest -------------------------------------------------

from streamlit.testing.v1 import AppTest  # noqa: E402

from studio.services.jobs import wait_for_jobs  # noqa: E402


def upload_and_run(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="batch_file").set_value((name, data, "text/csv")).run()
    at.button(key="batch_run").click().run()
    assert wait_for_jobs(60)
    return at.run()


def test_the_generate_page_runs_an_uploaded_file_and_skips_it_the_second_time(studio_env: Path, demo_server: DemoServer):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key="quality").select("low")
    at.toggle(key="live_preview").set_value(False).run()
    before = demo_server.config.requests_seen
    upload_and_run(at, "ideas.csv", b"prompt,size\na lantern,1536x1024\na compass,\n")
    assert not at.exception and not at.error
    assert "ideas.csv: 2 line(s) queued, 0 already done." in [c.value for c in at.caption]
    assert sorted(s.value for s in at.main.subheader) == ["Generation #1", "Generation #2"]
    assert len(at.main.image) == 2
    studio = Studio.open(load_settings())
    assert sorted((g.prompt, g.size, g.quality) for g in generations(studio)) == [
        ("a compass", "auto", "low"), ("a lantern", "1536x1024", "low")]  # an empty cell: the form's size
    upload_and_run(at, "ideas.csv", b"prompt,size\na lantern,1536x1024\na compass,\n")
    assert "ideas.csv: 0 line(s) queued, 2 already done." in [c.value for c in at.caption]
    assert demo_server.config.requests_seen - before == 2


def test_the_generate_page_names_the_bad_rows_of_an_upload(studio_env: Path, demo_server: DemoServer):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    before = demo_server.config.requests_seen
    at.file_uploader(key="batch_file").set_value(("bad.csv", b"prompt,n\nfine,1\nnope,zero\n", "text/csv")).run()
    at.button(key="batch_run").click().run()
    assert [e.value for e in at.error] == ["bad.csv line 3: n must be a whole number, not 'zero'."]
    assert demo_server.config.requests_seen == before
