"""Asynchronous provider tasks over real HTTP against the demo endpoint: a preset in async mode submits and
polls, a plain answer carrying a task id is polled too, the task id is stored before the first poll, each
way a task ends is recorded with a clear message, and a task left pending is resumed later with its images."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from studio.core.config import ConfigError, load_providers, load_settings
from studio.core.request import ImageRequest
from studio.core.task_api import TaskApi
from studio.provider.demo import DemoConfig, DemoServer, start_demo_server
from studio.provider.tasks import normalise_status
from studio.services.studio import Studio
from studio.services.tasks import resume_pending_tasks, wait_for_resumed
from tests.conftest import TEST_KEY, task_preset



@pytest.fixture(scope="module")
def task_server() -> Iterator[DemoServer]:
    """A demo endpoint whose tasks ask for short waits between polls (50 ms), so these tests take tenths of a second."""
    server = start_demo_server(config=DemoConfig(api_key=TEST_KEY, task_s=0.3, task_poll_s=0.05))
    yield server
    server.stop()


def open_studio(data_dir: Path, timeout: float = 5) -> Studio:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "providers.toml").write_text(task_preset(timeout))
    return Studio.open(load_settings())


@pytest.fixture
def async_studio(studio_env: Path, task_server: DemoServer, monkeypatch: pytest.MonkeyPatch) -> Studio:
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    return open_studio(studio_env)


@pytest.mark.parametrize("words, meaning", [
    (("pending", "queued", "submitted", "NOT_START", "QUEUED", "SUBMITTED"), "queued"),
    (("processing", "in_progress", "running", "IN_PROGRESS", "In-Progress"), "running"),
    (("succeeded", "completed", "SUCCESS", "Completed "), "succeeded"),
    (("failed", "FAILURE"), "failed"),
    (("cancelled", "canceled", "CANCELLED"), "cancelled"),
    (("expired",), "expired"),
    (("UNKNOWN", "painting", "", None, 3), "unknown"),
])
def test_status_words_are_normalised_in_one_place(words, meaning):
    assert {normalise_status(word) for word in words} == {meaning}


def test_a_preset_can_add_its_own_status_words():
    assert normalise_status("PAINTING", (("painting", "running"),)) == "running"


def test_the_dieyuyun_preset_sends_gpt_image_2_as_a_task_and_keeps_official_synchronous():
    tasks = load_providers()["dieyuyun"].tasks
    assert tasks.mode == "async" and tasks.sends_as_task("gpt-image-2") and not tasks.sends_as_task("gpt-image-2-official")
    assert "gpt-image-2" in load_providers()["dieyuyun"].models
    assert not load_providers()["openai"].tasks.sends_as_task("gpt-image-2")  # OpenAI itself answers at once


@pytest.mark.parametrize("table, says", [
    ('mode = "later"', 'mode must be "sync" or "async"'),
    ('poll_path = "/tasks"', "poll_path must contain {task_id}"),
    ('submit_path = "images/async"', "submit_path must be a path starting with /"),
    ("timeout_s = 0", "timeout_s must be a number of seconds above 0"),
    ('statuses = { PAINTING = "busy" }', "'painting' must map to one of queued"),
    ('pol_interval_s = 1', "pol_interval_s is not a task setting"),
])
def test_a_wrong_tasks_table_is_one_clear_config_error(tmp_path: Path, table: str, says: str):
    (tmp_path / "providers.toml").write_text(f"[providers.custom.tasks]\n{table}\n")
    with pytest.raises(ConfigError) as error:
        load_providers(tmp_path)
    assert "providers.custom.tasks" in str(error.value) and says.lower() in str(error.value).lower()


@pytest.mark.parametrize("backend", ["sqlite+local", "postgres+s3"], indirect=True)
def test_an_async_generation_stores_its_task_id_before_polling_then_keeps_its_images(async_studio, task_server):
    seen: dict[str, object] = {}
    outcome_box: list = []
    worker = threading.Thread(target=lambda: outcome_box.append(
        async_studio.generate(ImageRequest(prompt="a lighthouse [demo:task_s=0.6]", model="gpt-image-2", n=2, quality="low"))))
    before = task_server.config.tasks_submitted
    worker.start()
    deadline = time.monotonic() + 5
    while worker.is_alive() and time.monotonic() < deadline:  # read the gallery while the request is still polling
        rows = async_studio.records.recent(1)
        if rows and rows[0].task_id:
            seen.update(status=rows[0].status, task_id=rows[0].task_id, polls=task_server.config.task_polls)
            break
        time.sleep(0.01)
    worker.join(10)
    outcome = outcome_box[0]
    assert seen["status"] == "pending" and str(seen["task_id"]).startswith("imgtask_")
    assert outcome.status == "succeeded" and outcome.error is None and len(outcome.images) == 2
    for image in outcome.images:
        assert image.path.is_file() and image.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.revised_prompt == "A detailed rendering of: a lighthouse [demo:task_s=0.6]"
    kept = async_studio.records.get(outcome.generation_id)
    assert (kept.task_id, kept.task_status) == (seen["task_id"], "succeeded")
    assert kept.task_poll_path == f"/images/generations/{kept.task_id}"  # the submit's poll_url, on the provider's host
    assert kept.total_tokens and kept.latency_s >= 0.6
    assert task_server.config.tasks_submitted == before + 1


def test_a_plain_answer_carrying_a_task_id_is_polled_not_called_empty(studio_env, task_server, monkeypatch):
    """A sync preset; the provider answers `data[0] = {"status": "submitted", "task_id": ...}` anyway."""
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    studio_env.mkdir(parents=True, exist_ok=True)
    (studio_env / "providers.toml").write_text("[providers.custom.tasks]\npoll_interval_s = 0.05\n")
    studio = Studio.open(load_settings())
    outcome = studio.generate(ImageRequest(prompt="an owl [demo:task] [demo:task_s=0.2]", model="gpt-image-2-official"))
    assert outcome.status == "succeeded", outcome.error
    assert len(outcome.images) == 1 and outcome.images[0].path.is_file()  # downloaded from result.images[].url[]
    kept = studio.records.get(outcome.generation_id)
    assert kept.task_poll_path == f"/tasks/{kept.task_id}" and kept.task_status == "succeeded"


def test_a_prompt_refused_at_submit_is_recorded_and_no_task_is_followed(async_studio, task_server):
    submitted = task_server.config.tasks_submitted
    outcome = async_studio.generate(ImageRequest(prompt="x [demo:fail=moderation]", model="gpt-image-2"))
    assert outcome.status == "failed" and outcome.error.code == "moderation_blocked"
    assert "safety system refused" in outcome.error.message and outcome.generation.task_id is None
    assert task_server.config.tasks_submitted == submitted


def test_a_failed_task_is_recorded_with_the_providers_reason(async_studio):
    outcome = async_studio.generate(ImageRequest(prompt="x [demo:task_fate=fail] [demo:task_s=0.1]", model="gpt-image-2"))
    assert outcome.status == "failed" and outcome.error.code == "task_failed"
    assert outcome.error.message == ("The provider's task failed: The upstream image model reported an error: content "
                                     "generation failed (demo task fault).")
    kept = async_studio.records.get(outcome.generation_id)
    assert (kept.status, kept.task_status, kept.error_code) == ("failed", "failed", "task_failed")
    assert not (async_studio.settings.data_dir / "images").exists()


@pytest.mark.parametrize("fate, code, says, last_status", [
    ("expire", "task_expired", "expired at the provider before it delivered an image; try again.", "expired"),
    ("cancel", "task_cancelled", "The provider cancelled task", "cancelled"),
    ("gone", "task_expired", "(404): it expired or was removed; no image was returned.", "queued"),
])
def test_a_task_that_ends_without_images_says_how(async_studio, fate, code, says, last_status):
    outcome = async_studio.generate(ImageRequest(prompt=f"x [demo:task_fate={fate}] [demo:task_s=0.1]", model="gpt-image-2"))
    kept = async_studio.records.get(outcome.generation_id)
    assert outcome.status == kept.status == "failed" and outcome.error.code == kept.error_code == code
    assert says in outcome.error.message and kept.task_id in outcome.error.message
    assert kept.task_status == last_status


def test_polling_that_meets_429_waits_as_told_and_still_gets_the_image(async_studio, task_server):
    polls = task_server.config.task_polls
    outcome = async_studio.generate(ImageRequest(prompt="x [demo:poll_busy=3] [demo:task_s=0.1]", model="gpt-image-2"))
    assert outcome.status == "succeeded" and len(outcome.images) == 1
    assert task_server.config.task_polls - polls >= 4  # three 429s, then the answer


def test_a_429_while_polling_waits_as_long_as_its_retry_after_says(studio_env, monkeypatch):
    """The preset polls every 50 ms, the provider's 429s say 400 ms: two of them cost at least 0.8 s."""
    server = start_demo_server(config=DemoConfig(api_key=TEST_KEY, task_s=0.05, task_poll_s=0.4))
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        studio = open_studio(studio_env)
        started = time.monotonic()
        outcome = studio.generate(ImageRequest(prompt="x [demo:poll_busy=2]", model="gpt-image-2"))
        took = time.monotonic() - started
        assert outcome.status == "succeeded" and server.config.task_polls == 3
        assert took >= 0.4 + 0.8  # the submit's Retry-After, then two 429s' Retry-After
    finally:
        server.stop()


def test_a_task_still_queued_at_the_timeout_stays_pending_with_its_id_and_is_not_settled(studio_env, task_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    studio = open_studio(studio_env, timeout=0.3)
    outcome = studio.generate(ImageRequest(prompt="x [demo:task_fate=queued]", model="gpt-image-2"))
    kept = studio.records.get(outcome.generation_id)
    assert outcome.status == "pending" and outcome.error.code == "task_pending"
    assert f"task {kept.task_id} is still queued after 0.3 s" in outcome.error.message
    assert "id is kept with the request" in outcome.error.message and "python -m studio resume" in outcome.error.message
    assert (kept.status, kept.task_status, kept.worker) == ("pending", "queued", None)  # released: any process may poll it
    assert studio.records.settle_interrupted(older_than_s=0) == 0
    assert Studio.open(load_settings()).records.get(outcome.generation_id).status == "pending"


@pytest.mark.parametrize("backend", ["sqlite+local", "postgres+local"], indirect=True)
def test_a_pending_task_is_resumed_once_and_finishes_with_its_images(studio_env, task_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    studio = open_studio(studio_env, timeout=0.2)
    first = studio.generate(ImageRequest(prompt="slow fox [demo:task_s=1.0]", model="gpt-image-2"))
    assert first.status == "pending"  # gave up after 0.2 s; the task runs on at the provider
    submitted = task_server.config.tasks_submitted
    later = open_studio(studio_env, timeout=5)
    assert resume_pending_tasks(later) == 1
    assert resume_pending_tasks(later) == 0  # one poller per task: a second call does nothing
    assert wait_for_resumed(10)
    kept = later.records.get(first.generation_id)
    assert (kept.status, kept.task_status, len(kept.images)) == ("succeeded", "succeeded", 1)
    assert later.image(kept.images[0].id).path.is_file()
    assert task_server.config.tasks_submitted == submitted  # polled again, never sent again
    assert resume_pending_tasks(later) == 0


def test_a_resumed_task_that_failed_meanwhile_is_recorded_as_failed(studio_env, task_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    studio = open_studio(studio_env, timeout=0.1)
    first = studio.generate(ImageRequest(prompt="doomed [demo:task_fate=fail] [demo:task_s=0.5]", model="gpt-image-2"))
    assert first.status == "pending"
    time.sleep(0.5)
    assert resume_pending_tasks(open_studio(studio_env)) == 1 and wait_for_resumed(10)
    kept = studio.records.get(first.generation_id)
    assert (kept.status, kept.error_code) == ("failed", "task_failed") and "demo task fault" in kept.error_message


def test_streaming_is_not_asked_of_a_task(async_studio):
    """The async path refuses stream=true: the task is submitted without it."""
    outcome = async_studio.generate(ImageRequest(prompt="x [demo:task_s=0.1]", model="gpt-image-2", stream=True, partial_images=1))
    assert outcome.status == "succeeded"
    assert (outcome.generation.stream, outcome.generation.partial_images) == (False, None)  # stored as sent
    assert async_studio.streams() is None  # nothing learnt about streaming from a task


def test_a_model_outside_the_async_list_is_answered_at_once(async_studio, task_server):
    submitted = task_server.config.tasks_submitted
    outcome = async_studio.generate(ImageRequest(prompt="at once", model="gpt-image-2.5-flare"))
    assert outcome.status == "succeeded" and outcome.generation.task_id is None
    assert task_server.config.tasks_submitted == submitted


def test_task_api_defaults_are_the_common_relay_shape():
    api = TaskApi()
    assert (api.mode, api.submit_path, api.poll_path, api.id_field, api.status_field) == (
        "sync", "/images/generations/async", "/tasks/{task_id}", "task_id", "status")


def _png(size: tuple[int, int], colour: tuple[int, int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def test_an_async_edit_is_submitted_to_the_edits_task_path_with_its_image_and_mask(async_studio, task_server):
    from studio.services.edits import read_image

    source = read_image("photo.png", _png((64, 64), (120, 120, 120, 255)))
    mask = _png((64, 64), (0, 0, 0, 0))  # all transparent: repaint everything
    submitted = task_server.config.tasks_submitted
    outcome = async_studio.edit(ImageRequest(prompt="paint it red [demo:task_s=0.1]", model="gpt-image-2"), [source], mask)
    assert outcome.status == "succeeded", outcome.error
    kept = async_studio.records.get(outcome.generation_id)
    assert kept.endpoint == "edits" and kept.task_id and len(kept.sources) == 2  # the image and its mask
    assert task_server.config.tasks_submitted == submitted + 1
    task = task_server.config.tasks[kept.task_id]
    assert task.sources and task.sources[0].size == (64, 64) and task.mask is not None  # the multipart form arrived whole
    with outcome.images[0].path.open("rb") as handle:
        from PIL import Image

        assert Image.open(handle).size == (64, 64)


def test_a_bad_edit_is_refused_by_the_task_path_like_any_request(async_studio):
    from studio.services.edits import read_image

    source = read_image("photo.png", _png((64, 64), (120, 120, 120, 255)))
    outcome = async_studio.edit(ImageRequest(prompt="x [demo:fail=401]", model="gpt-image-2"), [source])
    assert outcome.status == "failed" and outcome.generation.task_id is None


def test_a_finished_task_whose_files_cannot_be_fetched_now_stays_pending_not_lost(studio_env, task_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    studio_env.mkdir(parents=True, exist_ok=True)
    (studio_env / "providers.toml").write_text("[providers.custom.tasks]\npoll_interval_s = 0.05\n")
    studio = Studio.open(load_settings())
    outcome = studio.generate(ImageRequest(prompt="x [demo:task] [demo:dead_urls] [demo:task_s=0.1]", model="gpt-image-2-official"))
    assert outcome.status == "pending" and outcome.error.code == "task_pending"
    assert "finished, but its images could not be downloaded now" in outcome.error.message
    assert studio.records.get(outcome.generation_id).task_status == "succeeded"


@pytest.mark.parametrize("answer, location, poll_path", [
    ({"id": "t1", "status": "queued", "poll_url": "https://relay.example/v1/images/generations/t1"}, None, "/images/generations/t1"),
    ({"id": "t1", "status": "queued", "poll_url": "https://elsewhere.example/v1/tasks/t1"}, None, "/tasks/t1"),  # the key stays home
    ({"task_id": "t1"}, "/v1/jobs/t1", "/jobs/t1"),  # a relative Location header
    ({"data": [{"status": "submitted", "task_id": "t1"}]}, None, "/tasks/t1"),
    ({"code": "success", "data": {"task_id": "t1"}}, None, "/tasks/t1"),
])
def test_where_a_task_is_polled_never_leaves_the_providers_host(answer, location, poll_path):
    from studio.provider.client import make_client
    from studio.provider.tasks import task_ref

    ref = task_ref(make_client("https://relay.example/v1", "k", 30.0, 0), answer, TaskApi(), location)
    assert ref is not None and (ref.task_id, ref.poll_path) == ("t1", poll_path)


@pytest.mark.parametrize("answer", [
    {"data": [{"b64_json": "aGk=", "task_id": "t1"}]},  # images: not a task, whatever else it carries
    {"id": "chatcmpl-1"},  # a bare id without a status is not a task id
    {"created": 1, "data": []},
])
def test_an_answer_with_images_or_without_a_task_id_is_not_a_task(answer):
    from studio.provider.tasks import task_id_in

    assert task_id_in(answer, TaskApi()) is None


def test_a_cancel_stops_the_polling_at_once_whatever_retry_after_says():
    """For a job's cancel: `should_stop` is asked while waiting, not only after the provider's Retry-After (5 s)."""
    from studio.core.errors import StudioError
    from studio.provider.client import make_client, send_request

    server = start_demo_server(config=DemoConfig(api_key=TEST_KEY, task_poll_s=5))
    try:
        stop = threading.Event()
        client = make_client(server.base_url, TEST_KEY, 30.0, 0)
        started = time.monotonic()
        with pytest.raises(StudioError) as error:
            send_request(client, ImageRequest(prompt="x [demo:task_fate=queued]", model="gpt-image-2"),
                         tasks=TaskApi(mode="async", poll_interval_s=0.05, timeout_s=30),
                         on_task=lambda ref: threading.Timer(0.2, stop.set).start(), should_stop=stop.is_set)
        assert error.value.code == "cancelled" and "may still run (and be billed) there" in error.value.message
        assert time.monotonic() - started < 2 and server.config.task_polls == 0  # stopped during the first wait
    finally:
        server.stop()


def test_a_task_id_answered_to_a_streamed_request_is_polled_too(studio_env, task_server, monkeypatch):
    """Live preview on, a sync preset, and the relay answers plain JSON carrying a task id."""
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    studio_env.mkdir(parents=True, exist_ok=True)
    (studio_env / "providers.toml").write_text("[providers.custom.tasks]\npoll_interval_s = 0.05\n")
    studio = Studio.open(load_settings())
    outcome = studio.generate(ImageRequest(prompt="x [demo:task] [demo:task_s=0.1]", model="gpt-image-2-official",
                                           stream=True, partial_images=1))
    assert outcome.status == "succeeded" and len(outcome.images) == 1 and outcome.generation.task_id


def test_a_task_of_an_in_process_demo_endpoint_that_stopped_is_settled_not_left_pending(studio_env, monkeypatch):
    from studio.core.wire import TaskRef

    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.setenv("STUDIO_PROVIDER", "demo")
    studio = Studio.open(load_settings())
    request = ImageRequest(prompt="a lost comet", model="gpt-image-2")
    row = studio.records.start_generation(request, "demo", "127.0.0.1:9", "generations")  # an earlier process's demo
    studio.records.note_task(row, TaskRef("imgtask_gone", "/tasks/imgtask_gone", time.time()))
    studio.records.release_task(row.id)
    assert resume_pending_tasks(studio) == 0
    kept = studio.records.get(row.id)
    assert (kept.status, kept.error_code) == ("failed", "interrupted")
    assert kept.error_message.startswith("The demo endpoint that ran this task stopped with the studio")


def test_a_task_of_a_provider_no_longer_configured_is_left_pending_for_a_start_that_has_it(async_studio):
    from studio.core.wire import TaskRef

    request = ImageRequest(prompt="elsewhere", model="gpt-image-2")
    row = async_studio.records.start_generation(request, "custom", "relay.example:443", "generations")
    async_studio.records.note_task(row, TaskRef("t9", "/tasks/t9", time.time()))
    async_studio.records.release_task(row.id)
    assert resume_pending_tasks(async_studio) == 0  # its key is never sent to another host
    assert async_studio.records.get(row.id).status == "pending"


def test_the_cli_says_a_task_not_done_in_time_is_kept_pending(studio_env, task_server, monkeypatch, capsys):
    from studio.cli.main import main

    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    open_studio(studio_env, timeout=0.2)
    assert main(["generate", "x [demo:task_fate=queued]", "--model", "gpt-image-2"]) == 1
    err = capsys.readouterr().err
    assert "is still queued after 0.2 s" in err and "(generation 1 kept pending)" in err and "recorded as failed" not in err
    with pytest.raises(SystemExit, match="--timeout must be a number of seconds above 0"):
        main(["resume", "--timeout", "0"])


def test_a_submit_whose_answer_was_lost_is_retried_without_starting_a_second_task(studio_env, task_server, monkeypatch):
    """The task was started but its 202 never arrived (a 502 on the way back): the client's retry carries the same
    Idempotency-Key, so a relay that honours it hands back the task it already started: paid once."""
    monkeypatch.setenv("OPENAI_BASE_URL", task_server.base_url)
    monkeypatch.setenv("STUDIO_MAX_RETRIES", "1")
    studio = open_studio(studio_env)
    submitted = task_server.config.tasks_submitted
    outcome = studio.generate(ImageRequest(prompt="x [demo:submit_lost] [demo:task_s=0.1]", model="gpt-image-2"))
    assert outcome.status == "succeeded" and len(outcome.images) == 1
    assert task_server.config.tasks_submitted == submitted + 1
    assert task_server.config.tasks[outcome.generation.task_id].id == outcome.generation.task_id
    assert "lost:" in " ".join(task_server.config.task_keys)  # the first answer really was lost, and retried
