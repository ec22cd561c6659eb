"""Templates on Generate: the preview (count, prompts, estimate), the confirmation above the limit, and each
prompt sent as its own generation over real HTTP to the demo endpoint."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.request import ImageRequest, ValidationError
from studio.services.jobs import wait_for_jobs
from studio.services.studio import Studio
from studio.services.templates import preview_template, run_template
from tests.conftest import ROOT


def open_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def type_prompt(at: AppTest, text: str) -> AppTest:
    at.text_area(key="prompt").input(text)
    at.toggle(key="live_preview").set_value(False)
    return at.run()


def press(at: AppTest, label: str) -> AppTest:
    """Click; a Generate queues background jobs: wait for them, then look again as the page's refresh does."""
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert wait_for_jobs(60)
    return at.run()


def markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown).replace("\\", "")  # without Markdown's escapes


def test_the_service_previews_and_sends_one_generation_per_prompt(studio: Studio, demo_server) -> None:
    base = ImageRequest(prompt="", model="gpt-image-2", quality="low", size="1024x1024")
    plan = preview_template(studio, "{red|green} fox in {snow|rain}", base)
    assert plan.count == 4 and not plan.needs_confirmation
    assert plan.usd is not None and plan.usd > 0 and plan.cost_text.startswith("about $")
    before = demo_server.config.requests_seen
    outcomes = run_template(studio, "{red|green} fox in {snow|rain}", base)
    assert demo_server.config.requests_seen == before + 4
    assert [o.generation.prompt for o in outcomes] == ["red fox in snow", "red fox in rain", "green fox in snow", "green fox in rain"]
    assert all(o.status == "succeeded" and len(o.images) == 1 for o in outcomes)


def test_a_model_without_a_price_says_so(studio: Studio) -> None:
    plan = preview_template(studio, "{a|b} fox", ImageRequest(prompt="", model="my-own-model"))
    assert plan.usd is None and plan.cost_text == "no price known for my-own-model, so no estimate"


def test_nothing_is_sent_for_a_malformed_template_or_above_the_limit_unconfirmed(studio: Studio, demo_server) -> None:
    before = demo_server.config.requests_seen
    base = ImageRequest(prompt="", model="gpt-image-2")
    with pytest.raises(ValidationError) as caught:
        run_template(studio, "{red|green fox", base)
    assert "never closed" in caught.value.problems[0]
    with pytest.raises(ValidationError) as caught:
        run_template(studio, "{a|b|c} {d|e}", base, confirm_limit=5)
    assert caught.value.problems == ["This template makes 6 prompts, more than the 5 you set; confirm to send them all, "
                                     "or remove some alternatives."]
    with pytest.raises(ValidationError):  # one bad field in every request: refused before any is sent
        run_template(studio, "{a|b}", ImageRequest(prompt="", model="gpt-image-2", size="13x7"))
    assert demo_server.config.requests_seen == before


def test_generate_previews_a_template_and_sends_each_prompt(studio_env, demo_server) -> None:
    at = type_prompt(open_app(), "a {red|green} fox in {snow|rain}")
    assert not at.exception
    assert "4 prompt(s), 4 image(s): about $" in markdown(at)
    assert "1. a red fox in snow\n2. a red fox in rain\n3. a green fox in snow\n4. a green fox in rain" in [t.value for t in at.text]
    before = demo_server.config.requests_seen
    at = press(at, "Generate")
    assert not at.exception and not at.error
    assert demo_server.config.requests_seen == before + 4
    shown = [t.value for t in at.text]
    for prompt in ("a red fox in snow", "a red fox in rain", "a green fox in snow", "a green fox in rain"):
        assert prompt in shown
    assert len(at.image) == 4


def test_a_malformed_template_is_explained_and_nothing_is_sent(studio_env, demo_server) -> None:
    at = type_prompt(open_app(), "a {red|green fox")
    assert [e.value.replace("\\", "") for e in at.error] == [
        "The `{` at column 3 is never closed; add a `}` after its alternatives, or write `{` for a literal brace."]
    assert any("Turn off “Expand {a|b} groups”" in c.value for c in at.caption)
    before = demo_server.config.requests_seen
    at = press(at, "Generate")
    assert demo_server.config.requests_seen == before
    assert "never closed" in at.error[0].value


def test_braces_are_sent_as_typed_when_expansion_is_off(studio_env) -> None:
    at = type_prompt(open_app(), "a sign reading {OPEN}")
    at.toggle(key="template_expand").set_value(False)
    at = press(at.run(), "Generate")
    assert not at.error and "a sign reading {OPEN}" in [t.value for t in at.text]


def test_above_the_limit_generate_asks_first(studio_env, demo_server) -> None:
    at = type_prompt(open_app(), "{a|b|c} fox {1|2}")
    at.number_input(key="template_confirm_limit").set_value(5)
    at = at.run()
    before = demo_server.config.requests_seen
    at = press(at, "Generate")
    assert demo_server.config.requests_seen == before  # asked, not sent
    assert "makes **6** prompts, more than the 5 you set" in " ".join(w.value for w in at.warning)
    at = press(at, "Cancel")
    assert demo_server.config.requests_seen == before
    at = press(at, "Generate")
    at = press(at, "Send all 6")
    assert not at.exception
    assert demo_server.config.requests_seen == before + 6


def test_a_prompt_a_template_leaves_empty_is_named_by_its_picks(studio: Studio, demo_server) -> None:
    before = demo_server.config.requests_seen
    with pytest.raises(ValidationError) as caught:
        preview_template(studio, "{a fox|}", ImageRequest(prompt="", model="gpt-image-2"))
    assert caught.value.problems == ["(nothing): The prompt is empty; describe the image you want."]
    assert demo_server.config.requests_seen == before
