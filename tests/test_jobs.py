"""Background jobs over real HTTP to the demo endpoint: recorded before they are sent, a per-provider limit,
cancel before and while sending, bad input refused before any record, and a restart (a killed process) settled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from studio.core.config import load_settings
from studio.core.errors import StudioError
from studio.core.request import ImageRequest, ValidationError
from studio.db.models import Generation, Job
from studio.provider.demo import DemoServer
from studio.services.jobs import JobPool
from studio.services.studio import Studio
from tests.conftest import ROOT

pytestmark = pytest.mark.parametrize("backend", ["sqlite+local", "postgres+local"], indirect=True)


def ask(prompt: str, **fields) -> ImageRequest:
    return ImageRequest(prompt=prompt, model="gpt-image-2", **fields)


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_jobs_run_in_the_background_and_land_in_the_gallery(studio: Studio, demo_server: DemoServer):
    pool = JobPool(studio, per_provider=3)
    started = time.monotonic()
    ids = [pool.submit_generate(studio, ask(f"background fox {n} [demo:delay=0.6]")) for n in range(3)]
    assert time.monotonic() - started < 0.5  # submitting returns at once
    assert [v.status for v in pool.views(ids)] == ["queued"] * 3 or all(v.status in ("queued", "running") for v in pool.views(ids))
    assert pool.wait(ids, timeout=30)
    views = pool.views(ids)
    assert [v.status for v in views] == ["succeeded"] * 3
    generations = {v.generation_id for v in views}
    assert None not in generations and len(generations) == 3
    for view in views:
        outcome = studio.outcome(view.generation_id)
        assert outcome.status == "succeeded" and len(outcome.images) == 1 and outcome.images[0].path.exists()
    assert pool.active() == []
    pool.close()


def test_a_refused_prompt_is_a_failed_job_and_stays_in_the_history(studio: Studio):
    pool = JobPool(studio, per_provider=3)
    job_id = pool.submit_generate(studio, ask("refused [demo:fail=moderation]"))
    assert pool.wait([job_id], timeout=30)
    [view] = pool.views([job_id])
    assert view.status == "failed" and "safety system" in view.error
    assert studio.outcome(view.generation_id).generation.prompt == "refused [demo:fail=moderation]"
    pool.close()


def test_bad_input_is_refused_before_a_job_is_recorded(studio: Studio, demo_server: DemoServer):
    pool = JobPool(studio, per_provider=3)
    before = demo_server.config.requests_seen
    with pytest.raises(ValidationError) as caught:
        pool.submit_generate(studio, ask("", output_format="jpeg", background="transparent"))
    assert "The prompt is empty; describe the image you want." in caught.value.problems
    with studio.records.session() as session:
        assert session.query(Job).count() == 0
    assert demo_server.config.requests_seen == before
    pool.close()


def test_no_key_is_said_at_submit(studio_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    studio = Studio.open(load_settings())
    pool = JobPool(studio, per_provider=3)
    with pytest.raises(StudioError, match="No API key is set"):
        pool.submit_generate(studio, ask("no key"))
    assert pool.active() == []
    pool.close()


def requests_at_once(studio: Studio, job_ids: list[int]) -> list[int]:
    """At each job's request start, how many of these jobs' requests were in flight (the records' own times:
    a generation is recorded just before its request is sent, and keeps how long the request took)."""
    with studio.records.session() as session:
        spans = [(g.created_at, g.created_at + timedelta(seconds=g.latency_s)) for g in session.query(Generation)
                 .join(Job, Job.generation_id == Generation.id).filter(Job.id.in_(job_ids))]
    return [sum(1 for start, end in spans if start <= begun < end) for begun, _ in spans]


def test_no_more_than_the_limit_run_at_once(studio: Studio):
    pool = JobPool(studio, per_provider=2)
    ids = [pool.submit_generate(studio, ask(f"limited {n} [demo:delay=0.4]")) for n in range(5)]
    assert pool.wait(ids, timeout=60)
    assert {v.status for v in pool.views(ids)} == {"succeeded"}
    assert max(requests_at_once(studio, ids)) == 2
    pool.close()


def test_cancel_a_queued_job_sends_nothing(studio: Studio, demo_server: DemoServer):
    pool = JobPool(studio, per_provider=1)
    before = demo_server.config.requests_seen
    first = pool.submit_generate(studio, ask("slow first [demo:delay=1.5]"))
    second = pool.submit_generate(studio, ask("never sent"))
    assert "nothing was billed" in pool.cancel(second)
    assert pool.wait([first, second], timeout=30)
    views = {v.id: v for v in pool.views([first, second])}
    assert views[first].status == "succeeded"
    assert views[second].status == "cancelled" and views[second].generation_id is None
    assert "nothing was sent or billed" in views[second].error
    assert demo_server.config.requests_seen - before == 1
    assert [o.generation.prompt for o in studio.recent()] == ["slow first [demo:delay=1.5]"]
    pool.close()


def test_cancel_a_running_job_keeps_nothing_and_says_the_cost_is_unknown(studio: Studio):
    pool = JobPool(studio, per_provider=1)
    job_id = pool.submit_generate(studio, ask("cancelled while running [demo:delay=1.5]"))
    wait_for(lambda: pool.views([job_id])[0].status == "running" and pool.views([job_id])[0].generation_id is not None)
    assert "cost unknown" in pool.cancel(job_id)
    assert pool.views([job_id])[0].status == "cancelled"  # at once, before the answer
    assert pool.wait([job_id], timeout=30)
    [view] = pool.views([job_id])
    assert view.status == "cancelled" and "cost unknown" in view.error
    outcome = studio.outcome(view.generation_id)
    assert outcome.status == "failed" and outcome.generation.error_code == "cancelled" and outcome.images == []
    assert "cost unknown" in outcome.generation.error_message
    assert "had already finished" in pool.cancel(job_id)
    pool.close()


KILLED = """
import sys, time
from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.services.jobs import JobPool
from studio.services.studio import Studio
studio = Studio.open(load_settings())
pool = JobPool(studio, per_provider=1)
running = pool.submit_generate(studio, ImageRequest(prompt="cut off [demo:delay=30]", model="gpt-image-2"))
queued = pool.submit_generate(studio, ImageRequest(prompt="waiting its turn", model="gpt-image-2"))
print(running, queued, flush=True)
time.sleep(60)
"""


def test_a_restart_settles_the_running_job_and_runs_the_queued_one(studio: Studio, studio_env: Path):
    child = subprocess.Popen([sys.executable, "-c", KILLED], cwd=os.getcwd(), stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        running, queued = map(int, child.stdout.readline().split())
        pool_before = JobPool(studio, per_provider=1, recover=False)  # only reads
        wait_for(lambda: pool_before.views([running])[0].generation_id is not None)  # running, its request sent
        assert pool_before.views([queued])[0].status == "queued"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # A new process's pool (a new pool here: the dead worker is what it judges by).
    fresh = Studio.open(load_settings())
    pool = JobPool(fresh, per_provider=1)
    assert pool.recovered == (1, 1)
    assert pool.wait([queued], timeout=30)
    views = {v.id: v for v in pool.views([running, queued])}
    assert views[running].status == "interrupted" and "stopped while this job's request was running" in views[running].error
    assert views[queued].status == "succeeded"
    assert fresh.outcome(views[queued].generation_id).images
    # The cut-off request's generation is in the history, settled as interrupted too.
    cut = fresh.outcome(views[running].generation_id)
    assert cut.status == "failed" and cut.generation.error_code == "interrupted"
    pool_before.close()
    pool.close()


def test_compare_cells_run_as_jobs_and_a_cancelled_cell_is_not_run(studio: Studio, demo_server: DemoServer):
    from studio.services.compare import GridSpec, start_grid

    pool = JobPool(studio, per_provider=1)
    before = demo_server.config.requests_seen
    run = start_grid(studio, GridSpec(ask("a compared kite [demo:delay=0.8]"), ("low", "medium", "high")), pool=pool)
    waiting = [v for v in pool.active() if v.status == "queued"]
    assert len(pool.active()) == 3 and {v.kind for v in pool.active()} == {"compare"}
    assert "nothing was billed" in pool.cancel(waiting[-1].id)  # the high cell, last in line
    results = {r.quality: r for r in run.results()}
    assert results["low"].status == "succeeded" and results["medium"].status == "succeeded"
    assert results["high"].status == "not run" and results["high"].outcome is None
    assert demo_server.config.requests_seen - before == 2
    assert pool.wait(timeout=10)
    pool.close()


def test_cancel_shuts_a_streamed_request_at_once(studio: Studio):
    pool = JobPool(studio, per_provider=1)
    job_id = pool.submit_generate(studio, ask("a slow stream [demo:partial_delay=2]", stream=True, partial_images=3))
    wait_for(lambda: pool.live(job_id) is not None and pool.live(job_id).partial is not None)  # it streams
    cancelled = time.monotonic()
    pool.cancel(job_id)
    assert pool.wait([job_id], timeout=30)
    assert time.monotonic() - cancelled < 1.5  # not the 4 s the rest of the stream takes
    [view] = pool.views([job_id])
    assert view.status == "cancelled"
    outcome = studio.outcome(view.generation_id)
    assert outcome.generation.error_code == "cancelled" and "cost unknown" in outcome.generation.error_message
    assert outcome.images == []
    pool.close()


def test_a_running_job_whose_generation_is_still_pending_after_a_restart_follows_it(studio: Studio):
    """An asynchronous provider task outlives its process: its generation stays pending (the task service
    resumes it by its task id), and the job, instead of being marked interrupted, ends as its generation does."""
    from sqlalchemy import update

    from studio.db.jobs import JobRecords

    dead = subprocess.run([sys.executable, "-c", "from studio.db.worker import current_worker; print(current_worker())"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout.strip()
    records = JobRecords(studio.records.engine)
    request = ask("an async task in flight")
    pending = studio.records.start_generation(request, "custom", "relay.example")
    job = records.add("generate", "custom", request.model, {"prompt": request.prompt, "model": request.model})
    assert records.start(job.id)
    records.link(job.id, pending.id)
    with studio.records.engine.begin() as connection:  # both were the dead process's
        connection.execute(update(Job).where(Job.id == job.id).values(worker=dead))
    pool = JobPool(studio, per_provider=1)
    assert pool.recovered == (0, 0)
    assert pool.views([job.id])[0].status == "running"  # not interrupted: its task is being resumed
    studio.records.fail_generation(pending, StudioError("The provider's task expired.", "task_expired"), 3.0)
    wait_for(lambda: pool.views([job.id])[0].status != "running", timeout=10)
    [view] = pool.views([job.id])
    assert view.status == "failed" and view.error == "The provider's task expired."
    pool.close()


def test_a_cancel_from_another_process_drops_the_answer(studio: Studio):
    """The tray of another server (a second pool on the same gallery) cancels a job this one runs."""
    runner, other = JobPool(studio, per_provider=1), JobPool(studio, per_provider=1, recover=False)
    job_id = runner.submit_generate(studio, ask("cancelled from elsewhere [demo:delay=1]"))
    wait_for(lambda: runner.views([job_id])[0].generation_id is not None)
    assert "cost unknown" in other.cancel(job_id)
    assert runner.wait([job_id], timeout=30)
    [view] = runner.views([job_id])
    assert view.status == "cancelled"
    outcome = studio.outcome(view.generation_id)
    assert outcome.generation.error_code == "cancelled" and outcome.images == []
    runner.close()
    other.close()
