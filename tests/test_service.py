"""Generate-and-keep: files on disk, rows in the gallery, failures recorded, nothing lost on restart."""

import hashlib

import pytest
from PIL import Image

from studio.core.config import load_settings
from studio.db.engine import get_engine
from studio.core.errors import StudioError
from studio.core.request import ImageRequest, ValidationError
from studio.services.studio import Studio


def test_generated_images_are_saved_and_recorded(studio):
    outcome = studio.generate(ImageRequest(prompt="a paper crane", model="gpt-image-2", n=2, quality="low", size="1024x1536"))
    assert outcome.status == "succeeded" and outcome.error is None
    assert len(outcome.images) == 2
    for index, image in enumerate(outcome.images):
        assert image.batch_index == index
        data = image.path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == image.sha256
        assert image.path.name == f"{image.sha256}.png"
        with Image.open(image.path) as opened:
            assert opened.size == (image.width, image.height) == (1024, 1536)
        assert image.revised_prompt == "A detailed rendering of: a paper crane"
    generation = outcome.generation
    assert (generation.quality, generation.size, generation.n, generation.model) == ("low", "1024x1536", 2, "gpt-image-2")
    assert generation.response_quality == "low" and generation.total_tokens > 0 and generation.latency_s > 0
    assert generation.provider == "custom" and generation.base_url_host.startswith("127.0.0.1:")


def test_same_bytes_share_one_file(studio):
    first = studio.generate(ImageRequest(prompt="same every time", model="gpt-image-2"))
    second = studio.generate(ImageRequest(prompt="same every time", model="gpt-image-2"))
    assert first.images[0].path == second.images[0].path
    assert first.generation_id != second.generation_id
    files = [p for p in (studio.settings.data_dir / "images").rglob("*") if p.is_file()]
    assert len(files) == 1


def test_a_refused_prompt_is_kept_with_its_error(studio):
    outcome = studio.generate(ImageRequest(prompt="forbidden [demo:fail=moderation]", model="gpt-image-2"))
    assert outcome.status == "failed"
    assert "safety system refused" in outcome.error.message
    kept = studio.records.get(outcome.generation_id)
    assert (kept.prompt, kept.status, kept.error_code, kept.http_status) == ("forbidden [demo:fail=moderation]", "failed", "moderation_blocked", 400)
    assert kept.images == []


def test_data_that_is_not_an_image_keeps_no_file(studio):
    outcome = studio.generate(ImageRequest(prompt="junk [demo:fail=not_image]", model="gpt-image-2"))
    assert outcome.status == "failed" and outcome.error.code == "not_an_image"
    assert not (studio.settings.data_dir / "images").exists()


def test_bad_input_sends_nothing_and_records_nothing(studio, demo_server):
    before = demo_server.config.requests_seen
    with pytest.raises(ValidationError, match="prompt is empty"):
        studio.generate(ImageRequest(prompt="", model="gpt-image-2"))
    assert demo_server.config.requests_seen == before
    assert studio.recent() == []


def test_no_key_is_explained_before_any_request(studio_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    studio = Studio.open(load_settings())
    with pytest.raises(StudioError, match="No API key is set"):
        studio.generate(ImageRequest(prompt="x", model="gpt-image-2"))


def test_sqlite_is_set_up_for_many_sessions(studio):
    with get_engine(studio.settings.database_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
