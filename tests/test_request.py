"""Local validation: every bad input is refused before a request, with a message that says what to change."""

import pytest

from studio.core.request import ImageRequest, ValidationError, validate


def problems(**fields) -> list[str]:
    fields.setdefault("prompt", "a lighthouse at dusk")
    fields.setdefault("model", "gpt-image-2")
    accepts = fields.pop("accepts_response_format", True)
    try:
        validate(ImageRequest(**fields), accepts)
    except ValidationError as exc:
        return exc.problems
    return []


def test_a_good_request_passes_and_sends_only_what_was_set():
    request = ImageRequest(prompt="a lighthouse", model="gpt-image-2-official", quality="high")
    assert validate(request) is request
    assert request.to_params() == {"prompt": "a lighthouse", "model": "gpt-image-2-official", "quality": "high"}


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"prompt": "   "}, "prompt is empty"),
        ({"prompt": "x" * 32_001}, "32,001 characters; shorten it to at most 32,000"),
        ({"model": ""}, "No model is set"),
        ({"n": 0}, "ask for 1 to 10 images"),
        ({"n": 11}, "ask for 1 to 10 images"),
        ({"size": "big"}, "use one of auto, 1024x1024"),
        ({"size": "1000x1000"}, "multiples of 16"),
        ({"size": "3840x1024"}, "at most 3 times the short side"),
        ({"size": "3840x2176"}, "too large"),
        ({"size": "2048x2048", "model": "gpt-image-2.6-flare"}, "a custom size, which gpt-image-2.6-flare does not take"),
        ({"quality": "ultra"}, "quality 'ultra' is not allowed; choose one of auto, low, medium, high"),
        ({"background": "green"}, "background 'green' is not allowed"),
        ({"moderation": "off"}, "moderation 'off' is not allowed"),
        ({"output_format": "gif"}, "output_format 'gif' is not taken by gpt-image-2 (gpt-image-2.6-flare"),
        ({"output_format": "bmp"}, "output_format 'bmp' is not allowed"),
        ({"response_format": "json"}, "response_format 'json' is not allowed"),
        ({"background": "transparent", "output_format": "jpeg"}, "transparent background needs png or webp"),
        ({"output_format": "jpeg", "output_compression": 101}, "from 0 to 100"),
        ({"output_format": "png", "output_compression": 50}, "only applies to jpeg or webp"),
        ({"output_compression": 50}, "only applies to jpeg or webp"),
        ({"response_format": "url", "accepts_response_format": False}, "does not accept response_format"),
    ],
)
def test_bad_input_is_explained(fields, expected):
    found = problems(**fields)
    assert len(found) == 1 and expected in found[0], found


def test_every_problem_is_listed_at_once():
    assert len(problems(prompt="", n=20, quality="x")) == 3


@pytest.mark.parametrize("size", ["auto", "1024x1024", "1536x1024", "1024x1536", "2048x1152", "3840x2160", "2160x3840", "1008x3024"])
def test_allowed_sizes_pass(size):
    assert problems(size=size) == []


def test_prompt_of_exactly_32000_characters_is_allowed():
    assert problems(prompt="y" * 32_000) == []


def test_an_overlong_model_name_is_refused_before_the_database_sees_it():
    assert problems(model="m" * 129) == ["The model name is 129 characters; model names are at most 128."]


@pytest.mark.parametrize("size", ["99999x99999", "16x48", "00x00", "1x1", "5000x100", "100x5000", "3840x1024", "4096x2304",
                                  "1000x1000", "3850x3850", "7680x4320", "512x512", "16x16000", "1023x1025"])
def test_every_size_suggested_instead_passes(size):
    found = problems(size=size)
    assert len(found) == 1
    suggested = found[0].rstrip(".)").split()[-1]
    assert problems(size=suggested) == [], (size, suggested)


@pytest.mark.parametrize("size", ["1024x1024\n", " 1024x1024", "1024x1024 ", "\u0661\u0660\u0662\u0664x\u0661\u0660\u0662\u0664",
                                  "１０２４x１０２４", "1024X1024", "1024×1024", "+1024x1024", "1_024x1_024"])
def test_sizes_are_ascii_digits_only_and_the_whole_string(size):
    assert problems(size=size) == [f"size {size!r} is not a size; use one of auto, 1024x1024, 1536x1024, 1024x1536 or WIDTHxHEIGHT."]


def test_a_zero_padded_size_is_sent_as_written_plainly():
    request = validate(ImageRequest(prompt="p", model="gpt-image-2", size="002048x01152"))
    assert request.size == "2048x1152" and request.to_params()["size"] == "2048x1152"


@pytest.mark.parametrize("field", ["prompt", "model", "user"])
def test_nul_and_broken_characters_are_refused_in_any_text_field(field):
    for bad in ("a\x00b", "a\udc80b"):
        found = problems(**{field: bad})
        assert len(found) == 1 and ("NUL character" in found[0] or "lone UTF-16 surrogate" in found[0]), found


def test_other_control_characters_stay_as_written():
    assert problems(prompt="tab\there\nnewline, bell\x07, escape\x1b, delete\x7f") == []
