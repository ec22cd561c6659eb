"""The request path over real HTTP to the project's own endpoint, through the official openai client."""

import base64
import io
import time

import pytest
from PIL import Image

from studio.provider.client import download, make_client, send_request
from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from tests.conftest import TEST_KEY


@pytest.fixture
def client(demo_server):
    return make_client(demo_server.base_url, TEST_KEY, 30.0, 0)


def test_b64_images_of_the_requested_size_and_format(client):
    result = send_request(client, ImageRequest(prompt="a blue kite", model="gpt-image-2", n=3, size="1536x1024", output_format="webp"))
    assert len(result.images) == 3
    for item in result.images:
        with Image.open(io.BytesIO(item.data)) as image:
            assert (image.format, image.size) == ("WEBP", (1536, 1024))
        assert item.revised_prompt == "A detailed rendering of: a blue kite"
    assert result.usage["total_tokens"] == result.usage["input_tokens"] + result.usage["output_tokens"]
    assert (result.size, result.output_format) == ("1536x1024", "webp")


def test_url_images_are_downloaded_at_once(client):
    result = send_request(client, ImageRequest(prompt="a red door", model="gpt-image-2", response_format="url", output_format="jpeg"))
    with Image.open(io.BytesIO(result.images[0].data)) as image:
        assert image.format == "JPEG"


def test_transparent_background_gives_an_alpha_channel(client):
    result = send_request(client, ImageRequest(prompt="a sticker", model="gpt-image-2", background="transparent"))
    with Image.open(io.BytesIO(result.images[0].data)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_missing_revised_prompt_is_none(client):
    result = send_request(client, ImageRequest(prompt="plain [demo:no-revised]", model="gpt-image-2"))
    assert result.images[0].revised_prompt is None


@pytest.mark.parametrize(
    "kind, code, words",
    [
        ("moderation", "moderation_blocked", "safety system refused"),
        ("unknown_parameter", "unknown_parameter", "rejected the request (response_format)"),
        ("401", "invalid_api_key", "API key was refused"),
        ("403", "unsupported_country_region_territory", "Access denied (403)"),
        ("404", "model_not_found", "check the base URL and the model"),
        ("429", "rate_limit_exceeded", "Rate limit reached"),
        ("quota", "insufficient_quota", "out of quota"),
        ("500", "server_error", "provider had an error (500)"),
        ("malformed", "malformed_response", "not valid JSON"),
        ("empty", "no_images", "returned no images"),
    ],
)
def test_every_error_kind_gets_a_users_message(client, kind, code, words):
    with pytest.raises(StudioError) as caught:
        send_request(client, ImageRequest(prompt=f"p [demo:fail={kind}]", model="gpt-image-2"))
    assert caught.value.code == code
    assert words in caught.value.message


def test_wrong_key_is_a_401(demo_server):
    with pytest.raises(StudioError, match="API key was refused"):
        send_request(make_client(demo_server.base_url, "sk-wrong", 30.0, 0), ImageRequest(prompt="x", model="gpt-image-2"))


def test_timeout_says_so(demo_server):
    slow = make_client(demo_server.base_url, TEST_KEY, 1.0, 0)
    with pytest.raises(StudioError, match="timed out") as caught:
        send_request(slow, ImageRequest(prompt="slow [demo:delay=3]", model="gpt-image-2"))
    assert caught.value.code == "timeout"


def test_connection_refused_says_so():
    dead = make_client("http://127.0.0.1:9/v1", TEST_KEY, 5.0, 0)
    with pytest.raises(StudioError, match="Could not reach the provider"):
        send_request(dead, ImageRequest(prompt="x", model="gpt-image-2"))


def test_server_error_is_retried_then_succeeds(demo_server):
    retrying = make_client(demo_server.base_url, TEST_KEY, 30.0, 2)
    result = send_request(retrying, ImageRequest(prompt="flaky once [demo:fail=500x1]", model="gpt-image-2"))
    assert len(result.images) == 1


def test_download_refuses_other_schemes_and_oversize(demo_server, client):
    with pytest.raises(StudioError, match="only http"):
        download("file:///etc/passwd")
    url = send_request(client, ImageRequest(prompt="big", model="gpt-image-2", response_format="url")).images
    assert url  # the demo served and the client downloaded it
    served = demo_server.config.files
    name = next(iter(served))
    with pytest.raises(StudioError, match="larger than"):
        download(demo_server.base_url.replace("/v1", f"/files/{name}"), max_bytes=1024)
    with pytest.raises(StudioError, match="HTTP 404"):
        download(demo_server.base_url.replace("/v1", "/files/missing.png"))


def test_b64_that_is_not_base64_is_refused(client):
    # The demo sends bytes that are not an image; base64 itself is valid, so the check happens on save.
    result = send_request(client, ImageRequest(prompt="junk [demo:fail=not_image]", model="gpt-image-2"))
    assert result.images[0].data == b"this is not an image"
    assert base64.b64encode(result.images[0].data)


def test_a_finished_attempts_deadline_never_touches_the_reused_connection(demo_server):
    quick = make_client(demo_server.base_url, TEST_KEY, 1.0, 0)
    send_request(quick, ImageRequest(prompt="first", model="gpt-image-2"))
    # The same pooled connection serves the next request across the first one's deadline.
    result = send_request(quick, ImageRequest(prompt="second [demo:delay=0.6]", model="gpt-image-2"))
    second = send_request(quick, ImageRequest(prompt="third [demo:delay=0.6]", model="gpt-image-2"))
    assert len(result.images) == len(second.images) == 1


def test_an_answer_that_keeps_coming_within_the_limit_is_kept(demo_server):
    steady = make_client(demo_server.base_url, TEST_KEY, 3.0, 0)
    shown: list[int] = []
    result = send_request(steady, ImageRequest(prompt="steady [demo:partial_delay=0.3]", model="gpt-image-2", stream=True, partial_images=3),
                          on_partial=lambda index, _data: shown.append(index))
    assert shown == [0, 1, 2] and len(result.images) == 1


def test_a_trickled_answer_is_stopped_at_the_limit_and_retries_get_their_own(demo_server):
    retrying = make_client(demo_server.base_url, TEST_KEY, 0.5, 1)
    started = time.monotonic()
    with pytest.raises(StudioError, match=r"took longer than the limit \(0.5 s\)") as caught:
        send_request(retrying, ImageRequest(prompt="slowly [demo:fail=trickle]", model="gpt-image-2"))
    assert caught.value.code == "timeout"
    assert 1.0 <= time.monotonic() - started < 3.5  # two attempts of 0.5 s each, plus the client's backoff
