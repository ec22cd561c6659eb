"""Streamed generation (live preview) over real HTTP: partial images first, then the final image, kept like
any other; a provider that refuses to stream gets the same request plainly, and the studio remembers that."""

import io
import json
import time
from typing import Iterator

import pytest
from PIL import Image

from studio.provider.capabilities import FILE_NAME
from studio.core.config import load_settings
from studio.provider.demo import DemoConfig, DemoServer, start_demo_server
from studio.core.request import ImageRequest, ValidationError
from studio.services.studio import Studio
from tests.conftest import TEST_KEY, run_comparison


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_streamed_generation_shows_partials_then_keeps_the_final_image(studio, demo_server):
    partials: list[tuple[int, bytes]] = []
    before = demo_server.config.stream_requests
    outcome = studio.generate(
        ImageRequest(prompt="a lighthouse at dusk", model="gpt-image-2", size="1024x1536", quality="low", stream=True, partial_images=3),
        on_partial=lambda index, data: partials.append((index, data)),
    )
    assert outcome.status == "succeeded" and outcome.error is None
    assert demo_server.config.stream_requests == before + 1
    assert [index for index, _ in partials] == [0, 1, 2]
    for _, data in partials:
        assert open_png(data).size == (1024, 1536)
    final = outcome.images[0].path.read_bytes()
    assert all(data != final for _, data in partials)  # previews are not the final image
    assert open_png(final).size == (1024, 1536)
    generation = outcome.generation
    assert (generation.stream, generation.partial_images, generation.endpoint) == (True, 3, "generations")
    assert outcome.images[0].revised_prompt is None  # stream events carry none: shown as "not returned"

    # Saved exactly as the non-streaming path: same usage and echoed settings as a plain request.
    plain = studio.generate(ImageRequest(prompt="a lighthouse at dusk", model="gpt-image-2", size="1024x1536", quality="low"))
    for column in ("input_tokens", "output_tokens", "total_tokens", "usage", "response_size", "response_quality",
                   "response_background", "response_output_format", "status"):
        assert getattr(generation, column) == getattr(plain.generation, column), column
    # The same picture (the files differ only in the prompt and settings each carries inside it).
    assert open_png(plain.images[0].path.read_bytes()).tobytes() == open_png(final).tobytes()
    assert studio.streams() is True


def test_partial_images_zero_streams_only_the_final_image(studio):
    partials: list[int] = []
    outcome = studio.generate(ImageRequest(prompt="one event", model="gpt-image-2", n=2, stream=True, partial_images=0),
                              on_partial=lambda index, _data: partials.append(index))
    assert outcome.status == "succeeded" and len(outcome.images) == 2
    assert partials == []


def test_a_failing_preview_callback_does_not_cost_the_image(studio):
    def broken(_index: int, _data: bytes) -> None:
        raise RuntimeError("the page went away")

    outcome = studio.generate(ImageRequest(prompt="robust", model="gpt-image-2", stream=True, partial_images=2), on_partial=broken)
    assert outcome.status == "succeeded" and outcome.images[0].path.is_file()


def test_an_error_inside_the_stream_is_recorded_as_a_failure(studio):
    seen: list[int] = []
    outcome = studio.generate(
        ImageRequest(prompt="breaks midway [demo:fail=stream_error]", model="gpt-image-2", stream=True, partial_images=2),
        on_partial=lambda index, _data: seen.append(index),
    )
    assert seen == [0]
    assert outcome.status == "failed" and outcome.images == []
    assert "The server had an error" in outcome.error.message
    assert studio.outcome(outcome.generation_id).generation.error_message == outcome.error.message


def test_a_refusal_inside_the_stream_keeps_its_code(studio):
    outcome = studio.generate(
        ImageRequest(prompt="refused midway [demo:fail=stream_moderation]", model="gpt-image-2", stream=True, partial_images=1)
    )
    assert outcome.status == "failed" and outcome.error.code == "moderation_blocked"
    assert outcome.error.message.startswith("The provider's safety system refused this prompt")


def test_a_provider_answering_plain_json_to_stream_still_works(studio):
    outcome = studio.generate(ImageRequest(prompt="ignores streaming [demo:ignore-stream]", model="gpt-image-2", stream=True, partial_images=2))
    assert outcome.status == "succeeded"
    assert outcome.images[0].revised_prompt.startswith("A detailed rendering of")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stream": True, "partial_images": 4}, "partial_images is 4; ask for 0 to 3 partial images."),
        ({"partial_images": 2}, "partial_images only applies when streaming; turn on live preview (stream) or clear partial_images."),
        ({"stream": True, "response_format": "url"}, "A streamed result always comes as b64_json; turn off live preview or clear response_format."),
        ({"input_fidelity": "high"}, "input_fidelity only applies to edits; clear it or use the Edit page."),
    ],
)
def test_bad_streaming_fields_are_explained_before_sending(studio, demo_server, fields, message):
    before = demo_server.config.requests_seen
    with pytest.raises(ValidationError) as caught:
        studio.generate(ImageRequest(prompt="x", model="gpt-image-2", **fields))
    assert message in caught.value.problems
    assert demo_server.config.requests_seen == before


@pytest.fixture
def no_stream_server() -> Iterator[DemoServer]:
    server = start_demo_server(config=DemoConfig(api_key=TEST_KEY, reject_stream=True))
    yield server
    server.stop()


def test_refused_streaming_falls_back_and_is_remembered(studio_env, monkeypatch, no_stream_server):
    monkeypatch.setenv("OPENAI_BASE_URL", no_stream_server.base_url)
    studio = Studio.open(load_settings())
    partials: list[int] = []
    request = ImageRequest(prompt="a quiet harbour", model="gpt-image-2", stream=True, partial_images=2)

    first = studio.generate(request, on_partial=lambda index, _data: partials.append(index))
    assert first.status == "succeeded" and first.images[0].path.is_file()
    assert partials == []
    assert (first.generation.stream, first.generation.partial_images) == (False, None)  # what was finally sent
    assert no_stream_server.config.stream_requests == 1 and no_stream_server.config.requests_seen == 2
    assert studio.streams() is False
    remembered = json.loads((studio_env / FILE_NAME).read_text())
    assert remembered[f"custom@{studio.settings.provider.host}"]["stream"] is False

    # A new process (a fresh Studio) sends plainly at once: no refused request first.
    second = Studio.open(load_settings()).generate(request)
    assert second.status == "succeeded"
    assert no_stream_server.config.stream_requests == 1 and no_stream_server.config.requests_seen == 3


def test_the_remembered_fallback_is_per_provider(studio_env, monkeypatch, no_stream_server, demo_server):
    monkeypatch.setenv("OPENAI_BASE_URL", no_stream_server.base_url)
    Studio.open(load_settings()).generate(ImageRequest(prompt="refused", model="gpt-image-2", stream=True))
    monkeypatch.setenv("OPENAI_BASE_URL", demo_server.base_url)
    other = Studio.open(load_settings())
    assert other.streams() is None
    partials: list[int] = []
    outcome = other.generate(ImageRequest(prompt="streams here", model="gpt-image-2", stream=True, partial_images=1),
                             on_partial=lambda index, _data: partials.append(index))
    assert outcome.generation.stream is True and partials == [0]


# --- The Generate page's live preview, under Streamlit's AppTest -------------------------------------------

from streamlit.testing.v1 import AppTest  # noqa: E402

from studio.services.jobs import wait_for_jobs  # noqa: E402
from tests.conftest import ROOT  # noqa: E402


def generate_on_page(at: AppTest, prompt: str) -> AppTest:
    next(t for t in at.text_area if t.label == "Prompt").input(prompt)
    next(b for b in at.button if b.label == "Generate").click()
    at.run()
    assert wait_for_jobs(60)  # a background job: look again once it has landed
    return at.run()


def test_generate_page_streams_by_default_and_keeps_the_result(studio_env, demo_server):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert at.toggle(key="live_preview").value is True
    at.selectbox(key="partial_images").select(3)
    before = demo_server.config.stream_requests
    generate_on_page(at, "a streamed kite")
    assert not at.exception and not at.error
    assert demo_server.config.stream_requests == before + 1
    outcome = Studio.open(load_settings()).latest()
    assert (outcome.generation.stream, outcome.generation.partial_images) == (True, 3)
    assert len(at.image) == 1  # the final image, in the preview's place
    assert "Live preview" not in str([i.proto for i in at.image])


def test_generate_page_turns_live_preview_off_for_a_provider_that_refused_it(studio_env, monkeypatch, no_stream_server):
    monkeypatch.setenv("OPENAI_BASE_URL", no_stream_server.base_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    generate_on_page(at, "first try streams")
    assert not at.error and no_stream_server.config.stream_requests == 1
    assert "Sent without live preview: the provider does not stream." in [c.value for c in at.caption]
    at.run()  # the next interaction shows the toggle as it will be sent
    toggle = at.toggle(key="live_preview")
    assert toggle.value is False and toggle.disabled
    assert "This provider refused streaming before, so requests go without live preview." in [c.value for c in at.caption]
    generate_on_page(at, "second goes plainly")
    assert no_stream_server.config.stream_requests == 1 and no_stream_server.config.requests_seen == 3
    next(b for b in at.button if b.label == "Try streaming again").click()
    at.run()
    assert at.toggle(key="live_preview").value is True and not at.toggle(key="live_preview").disabled


def test_compare_streams_every_cell_when_live_preview_is_on(studio_env, demo_server):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("views/compare.py").run()
    assert at.toggle(key="compare_live_preview").value is True
    at.text_area(key="compare_prompt").input("a streamed grid [demo:partial_delay=0.4]")
    before = demo_server.config.stream_requests
    run_comparison(at)
    assert not at.exception and not at.error
    assert demo_server.config.stream_requests == before + 3  # low, medium, high
    generations = [o.generation for o in Studio.open(load_settings()).recent(3)]
    assert sorted(g.quality for g in generations) == ["high", "low", "medium"]
    assert all(g.stream is True and g.partial_images == 2 and g.status == "succeeded" for g in generations)


def test_a_grid_run_hands_partial_images_to_the_page(studio):
    from studio.services.compare import GridSpec, start_grid

    run = start_grid(studio, GridSpec(ImageRequest(prompt="grid partials [demo:partial_delay=0.3]", model="gpt-image-2", stream=True, partial_images=2), ("low", "high"), None, ()))
    ticks, deadline = 0, time.monotonic() + 60
    while len(results := run.finished_so_far()) < 2 and time.monotonic() < deadline:  # as the page's fragment looks
        ticks += not results
        time.sleep(0.1)
    assert ticks > 0 and len(results) == 2
    assert set(run.partials) == {0, 1} and all(index == 1 for index, _ in run.partials.values())  # the latest of 2
    assert all(open_png(data).size == (1024, 1024) for _, data in run.partials.values())
