"""The model catalog: every field against every model (each value the API knows is taken or refused as the
catalog says, before anything is sent), the data folder's override, and the retired models on both sides of
their shutdown day (an injected `today`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core.catalog import load_catalog
from studio.core.config import ConfigError
from studio.core.request import COMPLEXITIES, OUTPUT_FORMATS, QUALITIES, ImageRequest, ValidationError, validate

CATALOG = load_catalog()
BEFORE = date(2026, 10, 1)  # every model still runs except the DALL·E ones
TODAY = date(2026, 11, 30)
CURRENT = ["gpt-image-2.6-flare", "gpt-image-2.6-sunburst", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-2", "gpt-image-2-official"]
RETIRED = {"dall-e-2": "2026-05-12", "dall-e-3": "2026-05-12", "gpt-image-1": "2026-10-23", "gpt-image-1-mini": "2026-12-01",
           "gpt-image-1.5": "2026-12-01", "chatgpt-image-latest": "2026-12-01"}
ALL = CURRENT + list(RETIRED)
# What the issue and OpenAI's reference say each model takes.
QUALITIES_OF = {m: ("auto", "low", "medium", "high") for m in ALL} | {
    m: ("auto", "low", "medium", "high", "xhigh", "max") for m in CURRENT if "2.5" in m or "2.6" in m} | {
    "dall-e-3": ("standard", "hd"), "dall-e-2": ("standard",)}
FORMATS_OF = {m: ("png", "jpeg", "webp") for m in ALL} | {m: OUTPUT_FORMATS for m in CURRENT if "2.6" in m} | {
    "dall-e-3": ("png",), "dall-e-2": ("png",)}
CUSTOM_SIZES = {"gpt-image-2", "gpt-image-2-official", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst"}


def problems(today: date = BEFORE, edit: bool = False, **fields: object) -> list[str]:
    fields = {"prompt": "a lighthouse", "model": "gpt-image-2", **fields}
    try:
        validate(ImageRequest(**fields), edit=edit, today=today)  # type: ignore[arg-type]
    except ValidationError as exc:
        return exc.problems
    return []


def test_every_model_of_the_issue_is_listed_and_unknown_names_get_the_generic_rules():
    assert set(ALL) <= set(CATALOG.models)
    relay = CATALOG.rules("my-relay-model")
    assert not relay.listed and relay.qualities == ("auto", "low", "medium", "high") and not relay.custom_sizes
    assert CATALOG.rules("gpt-image-2-custom-snapshot").custom_sizes  # the rule before the catalog: a gpt-image-2 name
    assert CATALOG.rules("gpt-image-2.5-flare-2026-09-08").name == "gpt-image-2.5-flare"  # a snapshot is its model
    assert problems(model="my-relay-model", quality="high", output_format="webp") == []


@pytest.mark.parametrize("model", ALL)
@pytest.mark.parametrize("quality", QUALITIES + ("standard", "hd"))
def test_quality_against_every_model(model: str, quality: str):
    found = problems(model=model, quality=quality, today=date(2026, 1, 1))
    if quality in QUALITIES_OF[model]:
        assert found == []
    else:
        assert len(found) == 1 and f"quality {quality!r} is not" in found[0] and "choose one of" in found[0], found


@pytest.mark.parametrize("model", ALL)
@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_output_format_against_every_model(model: str, output_format: str):
    found = problems(model=model, output_format=output_format, today=date(2026, 1, 1))
    if output_format in FORMATS_OF[model]:
        assert found == []
    else:
        assert len(found) == 1 and f"output_format {output_format!r} is not taken by {model}" in found[0], found
        if output_format in ("gif", "svg"):
            assert "gpt-image-2.6-flare" in found[0]  # says which model takes it


@pytest.mark.parametrize("model", ALL)
@pytest.mark.parametrize("complexity", COMPLEXITIES)
def test_complexity_against_every_model(model: str, complexity: str):
    found = problems(model=model, complexity=complexity, today=date(2026, 1, 1))
    if "2.6" in model:
        assert found == []
    else:
        assert found == [f"{model} does not take complexity; clear it or pick gpt-image-2.6-flare."]


@pytest.mark.parametrize("model", ALL)
@pytest.mark.parametrize("frame_count", [1, 2, 9, 16, 17])
def test_frame_count_against_every_model(model: str, frame_count: int):
    gif_ok = "2.6" in model
    found = problems(model=model, output_format="gif", frame_count=frame_count, today=date(2026, 1, 1))
    if not gif_ok:
        assert len(found) == 1 and "output_format 'gif' is not taken" in found[0]
    elif 2 <= frame_count <= 16:
        assert found == []
    else:
        assert found == [f"frame_count is {frame_count}; {model} makes 2 to 16 frames."]
    assert problems(model=model, output_format="png", frame_count=4, today=date(2026, 1, 1))[-1] == (
        "frame_count only applies to gif output; set output_format to gif or clear frame_count.")


@pytest.mark.parametrize("model", ALL)
@pytest.mark.parametrize("size", ["auto", "1024x1024", "1536x1024", "256x256", "1792x1024", "1536x864"])
def test_size_against_every_model(model: str, size: str):
    found = problems(model=model, size=size, today=date(2026, 1, 1))
    rules = CATALOG.rules(model)
    if size in rules.sizes or (model in CUSTOM_SIZES and size in ("1536x864", "1792x1024")):
        assert found == []
    elif model in CUSTOM_SIZES:  # 256x256: a custom size below the smallest
        assert found == ["size 256x256 is too small; custom sizes need at least 655,360 pixels. For this shape, try 816x816."]
    else:
        assert len(found) == 1 and f"size {size} is" in found[0] and f"use one of {', '.join(rules.sizes)}." in found[0], found


@pytest.mark.parametrize("model", ALL)
def test_background_and_input_fidelity_against_every_model(model: str):
    rules = CATALOG.rules(model)
    transparent = problems(model=model, background="transparent", output_format="png", today=date(2026, 1, 1))
    assert transparent == ([] if rules.transparent_background else [f"{model} does not take a transparent background; set background to auto or opaque."])
    fidelity = problems(model=model, input_fidelity="high", edit=True, today=date(2026, 1, 1))
    assert fidelity == ([] if rules.input_fidelity else [f"{model} does not take input_fidelity; clear it."])
    assert model.startswith("dall-e") != rules.transparent_background


@pytest.mark.parametrize("model", ALL)
def test_price_entry_of_every_model(model: str):
    from studio.core.pricing import load_prices

    rules, prices = CATALOG.rules(model), load_prices()
    if rules.price is None:
        assert model in ("dall-e-2", "dall-e-3", "chatgpt-image-latest")  # no figure published: "no price known"
    else:
        assert rules.price in prices.models
    if "2.5" in model or "2.6" in model:
        assert prices.models[rules.price].tokens == prices.models["gpt-image-2"].tokens  # the reported equal token prices
        assert prices.estimate(model, "xhigh", "1024x1024", 1) is None and prices.estimate(model, "max", None, 1) is None
        assert prices.estimate(model, "high", "1024x1024", 1, complexity="high") is None  # never invented


@pytest.mark.parametrize("model, fields, expected", [
    ("gpt-image-2.6-flare", {"output_format": "gif", "stream": True}, "gif output does not stream; turn off live preview (stream)."),
    ("gpt-image-2.6-flare", {"output_format": "svg", "stream": True}, "svg output does not stream; turn off live preview (stream)."),
    ("gpt-image-2.6-flare", {"output_format": "svg", "n": 3}, "svg output makes one image per request; set n to 1 (n is 3)."),
    ("gpt-image-2.6-flare", {"output_format": "svg", "output_compression": 50}, "output_compression only applies to jpeg or webp"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "background": "transparent"}, "A transparent background needs png or webp output"),
    ("gpt-image-2.6-flare", {"output_format": "gif", "frame_count": "6"}, "frame_count is '6'; use a whole number of frames."),
    ("gpt-image-2.6-flare", {"complexity": "extreme"}, "complexity 'extreme' is not allowed; choose one of low, medium, high."),
])
def test_what_gif_and_svg_rule_out(model: str, fields: dict, expected: str):
    found = problems(model=model, **fields)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize("model, shutdown", RETIRED.items())
def test_a_retired_model_is_refused_from_its_shutdown_day_with_the_date_and_successor(model: str, shutdown: str):
    day = date.fromisoformat(shutdown)
    successor = CATALOG.successor(model, day)
    assert successor in CURRENT
    assert not any("shut down" in p for p in problems(model=model, today=date.fromordinal(day.toordinal() - 1)))
    found = problems(model=model, today=day)
    assert found[0] == f"{model} was shut down on {shutdown}; use {successor} instead. Pick another model; nothing was sent."


def test_the_december_shutdowns_flip_tomorrow():
    """Today (2026-11-30) gpt-image-1.5 still runs; from 2026-12-01 it is refused: the real date decides."""
    assert problems(model="gpt-image-1.5", today=TODAY) == []
    assert "gpt-image-1.5 was shut down on 2026-12-01; use gpt-image-2.5-sunburst instead." in problems(model="gpt-image-1.5", today=date(2026, 12, 1))[0]
    assert CATALOG.current(["gpt-image-2", "gpt-image-1.5", "gpt-image-1"], TODAY) == ["gpt-image-2", "gpt-image-1.5"]
    assert CATALOG.current(["gpt-image-2", "gpt-image-1.5", "gpt-image-1"], date(2026, 12, 1)) == ["gpt-image-2"]


def test_presets_offer_new_models_first_and_no_retired_one():
    from studio.core.config import load_providers

    providers = load_providers()
    assert providers["openai"].models[0] == "gpt-image-2.6-flare"
    for provider in providers.values():
        assert CATALOG.current(provider.models, date(2027, 1, 1)) == list(provider.models), provider.key
        assert not set(provider.models) & set(RETIRED)


def test_a_successor_that_retired_too_is_followed_to_one_that_runs(tmp_path: Path):
    (tmp_path / "catalog.toml").write_text('[models."gpt-image-2.5-flare"]\nshutdown = "2026-11-01"\nsuccessor = "gpt-image-2.6-flare"\n')
    catalog = load_catalog(tmp_path)
    assert catalog.successor("gpt-image-1", TODAY) == "gpt-image-2.6-flare"
    assert catalog.rules("gpt-image-2.6-flare").complexities == ("low", "medium", "high")  # untouched entries stay


def test_the_data_folders_catalog_overrides_field_by_field_and_adds_models(tmp_path: Path):
    (tmp_path / "catalog.toml").write_text(
        '[models."gpt-image-2.6-flare"]\ncustom_sizes = true\n[models."house-model"]\nqualities = ["auto", "high"]\n')
    catalog = load_catalog(tmp_path)
    flare = catalog.rules("gpt-image-2.6-flare")
    assert flare.custom_sizes and flare.output_formats == OUTPUT_FORMATS  # one field changed, the rest kept
    assert catalog.rules("house-model").listed and catalog.rules("house-model").qualities == ("auto", "high")
    request = ImageRequest(prompt="x", model="house-model", quality="low")
    with pytest.raises(ValidationError) as caught:
        validate(request, catalog=catalog)
    assert caught.value.problems == ["quality 'low' is not taken by house-model (gpt-image-2.6-flare, gpt-image-2.6-sunburst take it); choose one of auto, high."]


@pytest.mark.parametrize("text, said", [
    ('[models."x"]\nqualities = "high"\n', 'models."x".qualities must be a list of quality names'),
    ('[models."x"]\nshutdown = "soon"\n', 'models."x".shutdown must be a date, "YYYY-MM-DD"'),
    ('[models."x"]\nframe_count = [16, 2]\n', 'models."x".frame_count must be [lowest, highest]'),
    ('[models."x"]\ncustom_sizes = "yes"\n', 'models."x".custom_sizes must be true or false'),
    ('models = 3\n', "`models` must hold [models.\"NAME\"] tables"),
    ('[models\n', "is not valid TOML"),
])
def test_a_broken_catalog_file_is_one_clear_message(tmp_path: Path, text: str, said: str):
    (tmp_path / "catalog.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_catalog(tmp_path)
    assert said in str(caught.value)


def test_cli_refuses_a_retired_model_and_lists_the_catalog(studio_env: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["generate", "a lighthouse", "--model", "gpt-image-1"]) == 1
    assert "gpt-image-1 was shut down on 2026-10-23; use gpt-image-2.5-flare instead." in capsys.readouterr().err
    assert main(["compare", "a lighthouse", "--model", "gpt-image-1", "--quality", "low"]) == 1
    assert "gpt-image-1 was shut down on 2026-10-23" in capsys.readouterr().err
    assert main(["models"]) == 0
    listed = {row["model"]: row for row in json.loads(capsys.readouterr().out)}
    assert "gpt-image-1" not in listed and listed["gpt-image-2.6-flare"]["frame_count"] == [2, 16]
    assert main(["models", "--all"]) == 0
    retired = {row["model"]: row for row in json.loads(capsys.readouterr().out)}["gpt-image-1"]
    assert (retired["retired"], retired["shutdown"], retired["successor"]) == (True, "2026-10-23", "gpt-image-2.5-flare")


def test_cli_sends_complexity_and_frame_count(studio_env: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["generate", "a spinning top", "--model", "gpt-image-2.6-flare", "--output-format", "gif",
                 "--frame-count", "5", "--complexity", "medium", "--quality", "max"]) == 0
    image = json.loads(capsys.readouterr().out)["images"][0]
    assert image["format"] == "gif"
    from PIL import Image

    with Image.open(image["path"]) as gif:
        assert gif.n_frames == 5
    assert main(["compare", "a top", "--model", "gpt-image-2.6-flare", "--quality", "high,xhigh,max", "--complexity", "low,medium,high"]) == 0
    cells = json.loads(capsys.readouterr().out)["cells"]
    assert sorted((c["quality"], c["complexity"]) for c in cells) == sorted(
        (q, c) for q in ("high", "xhigh", "max") for c in ("low", "medium", "high"))
    assert all(c["status"] == "succeeded" for c in cells)
