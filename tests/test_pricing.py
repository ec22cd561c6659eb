"""Cost estimates: the shipped table, the returned usage tokens, unknown models, overrides, spend totals."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from studio.services.comparisons import spend
from studio.core.config import ConfigError
from studio.core.pricing import NO_PRICE, Usage, format_usd, generation_cost, load_prices
from studio.core.request import ImageRequest
from studio.services.studio import Studio


def test_known_model_estimate_uses_the_per_image_table() -> None:
    prices = load_prices()
    assert prices.estimate("gpt-image-1", "high", "1024x1536", 2) == pytest.approx(0.50)
    assert prices.estimate("gpt-image-1-mini", "low", "1024x1024", 1) == pytest.approx(0.005)
    assert prices.estimate("gpt-image-1.5", "medium", "1536x1024", 3) == pytest.approx(0.15)


def test_auto_quality_and_size_are_estimated_as_the_table_assumes() -> None:
    prices = load_prices()
    assert prices.estimate("gpt-image-1", "auto", "auto", 1) == pytest.approx(0.042)  # medium, 1024x1024
    assert prices.estimate("gpt-image-1", None, None, None) == pytest.approx(0.042)


def test_unknown_model_or_size_has_no_price_never_a_made_up_one() -> None:
    prices = load_prices()
    assert prices.estimate("relay-model-x", "high", "1024x1024", 1) is None
    assert prices.cost("relay-model-x", "low", "1024x1024", 1, Usage(10, 0, 272)) is None
    assert prices.estimate("gpt-image-1", "high", "2048x2048", 1) is None  # a size the table does not list
    assert format_usd(None) == NO_PRICE == "no price known"


def test_cost_uses_usage_tokens_when_present_else_the_per_image_table() -> None:
    prices = load_prices()
    by_tokens = prices.cost("gpt-image-1", "high", "1024x1024", 1, Usage(text_input=20, image_input=100, output=4160))
    assert by_tokens is not None and by_tokens.basis == "tokens"
    assert by_tokens.usd == pytest.approx((20 * 5 + 100 * 10 + 4160 * 40) / 1_000_000)
    per_image = prices.cost("gpt-image-1", "high", "1024x1024", 2, None)
    assert per_image is not None and per_image.basis == "per_image" and per_image.usd == pytest.approx(0.334)
    # A model priced only per image is priced per image even when usage came back.
    mini = prices.cost("gpt-image-1-mini", "medium", "1536x1024", 2, Usage(5, 0, 3000))
    assert mini is not None and mini.basis == "per_image" and mini.usd == pytest.approx(0.03)


def test_usage_is_read_in_both_shapes_and_ignored_when_incomplete() -> None:
    assert Usage.from_api({"input_tokens": 50, "output_tokens": 272, "input_tokens_details": {"text_tokens": 40, "image_tokens": 10}}) == Usage(40, 10, 272)
    assert Usage.from_api({"input_tokens": 50, "output_tokens": 272}) == Usage(50, 0, 272)
    assert Usage.from_api({"total_tokens": 300}) is None
    assert Usage.from_api(None) is None


def test_the_table_is_editable_from_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "pricing.toml").write_text(
        '[assume]\nquality = "high"\n[models."gpt-image-2-official".per_image]\nhigh = { "1024x1024" = 0.2 }\n'
    )
    prices = load_prices(tmp_path)
    assert prices.estimate("gpt-image-2-official", "auto", "1024x1024", 2) == pytest.approx(0.4)
    assert prices.estimate("gpt-image-1", "auto", "1024x1024", 1) == pytest.approx(0.167)  # shipped models stay


def test_an_edited_table_is_read_again_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    own = tmp_path / "pricing.toml"
    own.write_text('[models."gpt-image-2-official".per_image]\nhigh = { "1024x1024" = 0.2 }\n')
    first = load_prices(tmp_path)
    assert load_prices(tmp_path) is first  # every cost on a page asks: no file read while nothing changed
    own.write_text('[models."gpt-image-2-official".per_image]\nhigh = { "1024x1024" = 0.25 }\n')
    assert load_prices(tmp_path).estimate("gpt-image-2-official", "high", "1024x1024", 1) == pytest.approx(0.25)
    own.unlink()
    assert load_prices(tmp_path).estimate("gpt-image-2-official", "high", "1024x1024", 1) != pytest.approx(0.25)


def test_a_broken_price_table_says_what_to_fix(tmp_path: Path) -> None:
    (tmp_path / "pricing.toml").write_text("[models.x\n")
    with pytest.raises(ConfigError, match="pricing.toml is not valid TOML"):
        load_prices(tmp_path)
    (tmp_path / "pricing.toml").write_text('[models."m"]\ntokens = { text_input = 1 }\n')
    with pytest.raises(ConfigError, match="prices for 'm' are not in the expected shape"):
        load_prices(tmp_path)


@pytest.mark.usefixtures("legacy_models")  # priced with gpt-image-1's table (see conftest.py)
def test_recorded_generations_are_priced_and_totalled_per_day(studio: Studio) -> None:
    prices = load_prices()
    known = studio.generate(ImageRequest(prompt="a red kite", model="gpt-image-1", quality="high", n=2))
    cheap = studio.generate(ImageRequest(prompt="a blue kite", model="gpt-image-1-mini", quality="low", size="1024x1024"))
    unknown = studio.generate(ImageRequest(prompt="a green kite", model="relay-model-x", quality="low"))
    failed = studio.generate(ImageRequest(prompt="a kite [demo:fail=moderation]", model="gpt-image-1", quality="high"))

    known_cost = generation_cost(prices, known.generation, len(known.images))
    assert known_cost is not None and known_cost.basis == "tokens"  # the demo returns usage like the real API
    assert known_cost.usd == pytest.approx((3 * 5 + 2 * 4160 * 40) / 1_000_000)
    cheap_cost = generation_cost(prices, cheap.generation, 1)
    assert cheap_cost is not None and cheap_cost.usd == pytest.approx(0.005)
    assert generation_cost(prices, unknown.generation, 1) is None
    assert generation_cost(prices, failed.generation, 0) is None

    totals = spend(studio)
    today = totals.on(datetime.now(timezone.utc).date().isoformat())
    assert today.usd == pytest.approx(known_cost.usd + cheap_cost.usd)
    assert (today.priced, today.unpriced) == (2, 1)
    assert totals.usd == pytest.approx(today.usd) and totals.unpriced == 1


@pytest.mark.parametrize("usage", [
    {"input_tokens": "50", "output_tokens": 272}, {"input_tokens": -50, "output_tokens": 272},
    {"input_tokens": 50.5, "output_tokens": 272}, {"input_tokens": 50, "output_tokens": 10**20},
    {"input_tokens": True, "output_tokens": 272}, {"input_tokens": 50, "output_tokens": 272, "input_tokens_details": {"image_tokens": 51}},
    {"input_tokens": 50, "output_tokens": 272, "input_tokens_details": "lots"}, "lots", [1, 2], 42,
])
def test_nonsense_usage_is_an_unknown_cost_never_a_number(usage) -> None:
    generation = type("Row", (), {"status": "succeeded", "model": "gpt-image-1", "quality": "high", "size": "1024x1024",
                                  "response_quality": None, "response_size": None, "usage": usage})()
    assert Usage.from_api(usage) is None
    assert generation_cost(load_prices(), generation, 1) is None  # not the per-image price either: unknown


def test_money_is_never_shown_negative_or_infinite(tmp_path: Path) -> None:
    assert format_usd(-4.003) == format_usd(float("inf")) == format_usd(float("nan")) == NO_PRICE
    (tmp_path / "pricing.toml").write_text('[models."gpt-image-1".per_image]\nhigh = { "1024x1024" = -0.2 }\n')
    with pytest.raises(ConfigError, match="negative or not a number"):
        load_prices(tmp_path)


def test_gpt_image_2_and_its_official_alias_have_the_launch_prices() -> None:
    """The seed's own model shows a cost: launch pricing per image and per 1M tokens (secondary sources)."""
    prices = load_prices()
    for model in ("gpt-image-2", "gpt-image-2-official"):
        assert [prices.per_image(model, q, "1024x1024") for q in ("low", "medium", "high")] == [0.006, 0.053, 0.211]
        assert [prices.per_image(model, q, "1536x1024") for q in ("low", "medium", "high")] == [0.005, 0.041, 0.165]
        assert prices.per_image(model, "high", "1024x1536") == 0.165
        cost = prices.cost(model, "high", "1024x1024", 1, Usage(100, 1000, 4000))
        assert cost is not None and cost.usd == pytest.approx((100 * 5 + 1000 * 8 + 4000 * 30) / 1_000_000)
