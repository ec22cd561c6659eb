"""Compare: the grid runs concurrently through the normal generate path, is saved as a group, and shows on its page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.cli.main import main
from studio.services.compare import GridSpec, estimate_grid, run_grid, start_grid
from studio.services.comparisons import mark_winner, open_comparison, recent_comparisons
from studio.core.config import load_settings
from studio.provider.demo import DemoServer
from studio.core.pricing import load_prices
from studio.core.request import ImageRequest, ValidationError
from studio.services.studio import Studio
from tests.conftest import run_comparison

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SAFETY = "The provider's safety system refused this prompt"

pytestmark = pytest.mark.usefixtures("legacy_models")  # priced with gpt-image-1's table (see conftest.py)


def fox(directives: str = "", **fields: object) -> ImageRequest:
    return ImageRequest(prompt=f"a watercolor fox {directives}".strip(), model="gpt-image-1", **fields)  # type: ignore[arg-type]


def running_together(cells: list) -> bool:
    """Whether every cell's request was under way at one moment: each started (its row was recorded) before
    any had ended. Read off the cells' own records, not a wall clock a busy machine can stretch."""
    spans = [(c.generation.created_at.timestamp(), c.generation.created_at.timestamp() + c.generation.latency_s) for c in cells]
    return max(start for start, _ in spans) < min(end for _, end in spans)


def test_cells_run_concurrently_so_the_grid_takes_about_its_slowest_cell(studio: Studio) -> None:
    spec = GridSpec(fox("[demo:delay=0.5]"), ("low", "medium", "high"))
    run, cells = run_grid(studio, spec)
    assert [c.status for c in cells] == ["succeeded"] * 3
    assert all(c.generation.latency_s >= 0.5 for c in cells)
    assert run.workers == 3
    assert running_together(cells), "the three cells did not overlap (bench/compare.py measures the wall time)"


def test_the_worker_pool_is_bounded_by_the_workers_setting(studio: Studio) -> None:
    spec = GridSpec(fox("[demo:delay=0.3]"), ("low", "medium", "high"))
    started = time.perf_counter()
    run, cells = run_grid(studio, spec, workers=1)
    assert run.workers == 1 and all(c.status == "succeeded" for c in cells)
    assert time.perf_counter() - started >= 0.85  # one at a time: three 0.3 s requests in a row
    assert not running_together(cells)


def test_each_cell_is_reported_as_it_finishes_and_a_failing_cell_does_not_sink_the_others(studio: Studio) -> None:
    seen: list[tuple[int, int]] = []
    spec = GridSpec(fox("[demo:fail=moderation] [demo:only=quality:high]", n=2), ("low", "high"), "size", ("1024x1024", "1536x1024"))
    run, cells = run_grid(studio, spec, on_cell=lambda cell, done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    by_label = {c.label: c for c in cells}
    assert by_label["quality high · size 1536x1024"].status == "failed"
    assert SAFETY in by_label["quality high · size 1024x1024"].error.message
    ok = by_label["quality low · size 1536x1024"]
    assert ok.status == "succeeded" and len(ok.outcome.images) == 2
    assert {(i.width, i.height) for i in ok.outcome.images} == {(1536, 1024)}
    assert ok.cost is not None and ok.cost.usd > 0
    # Every cell is a normal gallery generation, failed ones included.
    assert {o.generation_id for o in studio.recent(10)} == {c.generation.id for c in cells}


def test_the_saved_group_reopens_with_the_same_cells_and_keeps_its_winner(studio: Studio, studio_env: Path) -> None:
    spec = GridSpec(fox("[demo:fail=500] [demo:only=quality:medium]", n=2), ("low", "medium", "high"), "background", ("opaque", "transparent"))
    run, cells = run_grid(studio, spec)
    mark_winner(studio, run.group_id, 5)

    reopened = open_comparison(Studio.open(load_settings()), run.group_id)  # as a later session would
    assert reopened.prompt == spec.base.prompt and reopened.axis == "background"
    assert reopened.qualities == ["low", "medium", "high"] and reopened.columns == ["opaque", "transparent"]
    assert [(c.position, c.quality, c.axis_value, c.status) for c in reopened.cells] == [
        (c.position, c.quality, c.axis_value, c.status) for c in cells
    ]
    assert [[str(i.path) for i in (c.outcome.images if c.outcome else [])] for c in reopened.cells] == [
        [str(i.path) for i in c.outcome.images] for c in cells
    ]
    assert all(Path(i.path).is_file() for c in reopened.cells for i in c.outcome.images)
    assert [c.status for c in reopened.cells if c.quality == "medium"] == ["failed", "failed"]
    assert reopened.winner is not None and reopened.winner.label == "quality high · background transparent"
    assert reopened.cost_usd == pytest.approx(sum(c.cost.usd for c in cells if c.cost))
    assert [c.id for c in recent_comparisons(studio)] == [run.group_id]
    mark_winner(studio, run.group_id, None)
    assert open_comparison(studio, run.group_id).winner is None


def test_a_bad_grid_is_refused_before_any_request(studio: Studio, demo_server: DemoServer) -> None:
    before = demo_server.config.requests_seen
    with pytest.raises(ValidationError) as refused:
        start_grid(studio, GridSpec(fox(output_format="jpeg"), ("low", "ultra"), "background", ("opaque", "transparent")))
    problems = " ".join(refused.value.problems)
    assert "quality ultra is not allowed" in problems
    with pytest.raises(ValidationError) as refused:
        start_grid(studio, GridSpec(fox(output_format="jpeg"), ("low",), "background", ("opaque", "transparent")))
    assert refused.value.problems == ["transparent: A transparent background needs png or webp output; change output_format or background."]
    with pytest.raises(ValidationError, match="Pick at least one quality"):
        start_grid(studio, GridSpec(fox(), ()))
    assert demo_server.config.requests_seen == before
    assert recent_comparisons(studio) == []


def test_the_estimate_adds_up_the_cells_and_names_models_with_no_price() -> None:
    prices = load_prices()
    grid = GridSpec(fox(n=2), ("low", "medium", "high"), "size", ("1024x1024", "1536x1024"))
    assert estimate_grid(grid, prices).text == "this grid costs about $1.10"  # 2 x (0.011+0.016+0.042+0.063+0.167+0.25)
    mixed = GridSpec(fox(), ("low",), "model", ("gpt-image-1", "relay-model-x"))
    assert estimate_grid(mixed, prices).text == "this grid costs about $0.011, plus cells with relay-model-x (no price known)"
    unknown = GridSpec(replace_model(fox(), "relay-model-x"), ("low", "high"))
    assert estimate_grid(unknown, prices).text == "no price known for relay-model-x, so this grid has no estimate"


def replace_model(request: ImageRequest, model: str) -> ImageRequest:
    return ImageRequest(**{**request.__dict__, "model": model})


def test_cli_compare_prints_the_cells_as_json(studio_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", "a fox [demo:fail=moderation] [demo:only=quality:low]", "--model", "gpt-image-1",
                 "--quality", "low,high", "--size", "1024x1024,1024x1536", "--n", "2"])
    captured = capsys.readouterr()
    assert code == 0  # some cells succeeded
    result = json.loads(captured.out)
    cells = result["cells"]
    assert [(c["quality"], c["size"], c["status"]) for c in cells] == [
        ("low", "1024x1024", "failed"), ("low", "1024x1536", "failed"),
        ("high", "1024x1024", "succeeded"), ("high", "1024x1536", "succeeded"),
    ]
    high = cells[3]
    assert len(high["images"]) == 2 and all(Path(p).is_file() for p in high["images"])
    assert high["revised_prompts"] == ["A detailed rendering of: a fox [demo:fail=moderation] [demo:only=quality:low]"] * 2
    assert high["latency_s"] > 0 and high["cost_usd"] > 0
    assert cells[0]["cost_usd"] is None and cells[0]["images"] == [] and SAFETY in cells[0]["error"]
    assert "quality low · size 1024x1024" in captured.err


def test_cli_compare_exits_1_when_every_cell_fails_and_reports_unknown_prices_as_null(studio_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "a fox [demo:fail=moderation]", "--quality", "low,medium"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert [c["status"] for c in result["cells"]] == ["failed", "failed"]
    assert main(["compare", "a fox", "--model", "relay-model-x", "--quality", "low"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cells"][0]["cost_usd"] is None and result["estimate_usd"] is None
    assert main(["compare", "a fox", "--size", "1024x1024,auto", "--background", "opaque,auto"]) == 1
    assert "Only one field besides quality can vary" in capsys.readouterr().err


def test_cli_spend_totals_the_priced_cells(studio_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "a fox", "--model", "gpt-image-1-mini", "--quality", "low,high", "--size", "1024x1024"]) == 0
    capsys.readouterr()
    assert main(["compare", "a fox", "--model", "relay-model-x", "--quality", "low"]) == 0
    capsys.readouterr()
    assert main(["spend"]) == 0
    totals = json.loads(capsys.readouterr().out)
    assert totals["overall_usd"] == pytest.approx(0.005 + 0.036)  # per-image prices of gpt-image-1-mini
    assert totals["unpriced_generations"] == 1 and len(totals["days"]) == 1


@pytest.fixture
def compare_page(studio_env: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("STUDIO_MODEL", "gpt-image-1")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("views/compare.py").run()
    assert not at.exception
    return at


def test_page_shows_the_estimate_then_the_grid_with_a_failing_cell_beside_the_others(compare_page: AppTest) -> None:
    at = compare_page
    # The notice names the model (it may be typed), so it goes through literal(): its "$" is escaped.
    assert any("3 cell(s), 3 image(s): This grid costs about \\$0.22" in i.value for i in at.info)
    at.text_area(key="compare_prompt").input("a fox [demo:fail=moderation] [demo:only=quality:high]")
    at.selectbox(key="compare_axis").select("size").run()
    assert any("6 cell(s), 6 image(s): This grid costs about \\$0.55" in i.value for i in at.info)
    at.toggle(key="compare_live_preview").set_value(False)  # streamed results carry no revised_prompt at the API

    run_comparison(at)
    assert not at.exception
    assert [m.value for m in at.markdown if m.value.startswith("**quality")] == [
        f"**quality {q} · size {s}**" for s in ("1024x1024", "1536x1024") for q in ("low", "medium", "high")
    ]  # quality tiers side by side, one row per size
    assert [e.value for e in at.error] == [f"{SAFETY}. Rephrase it; it was not retried."] * 2
    grid_images = [i for i in at.image if i.captions[0].startswith("image 1 ·")]
    assert [i.captions[0] for i in grid_images] == ["image 1 · 1024x1024 png"] * 2 + ["image 1 · 1536x1024 png"] * 2
    captions = [c.value for c in at.caption]
    assert any("6 of 6 done" in c for c in captions)
    assert any(c.endswith("tokens · $0.011 (est.)") for c in captions)  # latency · tokens · estimated cost
    assert any("not billed" in c for c in captions)  # the failed cells
    assert at.text[1].value == "A detailed rendering of: a fox [demo:fail=moderation] [demo:only=quality:high]"
    assert at.query_params["compare"] == "1"  # a link to this comparison
    assert any("Today (UTC): $0.11" in c for c in captions)  # the spend total counts the new cells


def test_page_marks_a_winner_zooms_two_cells_and_reopens_a_past_comparison(compare_page: AppTest, studio_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = compare_page
    at.text_area(key="compare_prompt").input("a fox")
    run_comparison(at)
    at.button(key="compare_win_1_2").click().run()
    assert [s.value for s in at.success] == ["Winner: quality high"]
    assert "compare_win_1_2" not in [b.key for b in at.button]
    at.selectbox(key="compare_zoom_a_1").select("quality medium · image 1").run()
    zoom = [i.captions[0] for i in at.image if "·" in i.captions[0] and i.captions[0].startswith("quality")]
    assert zoom == ["quality medium · image 1 · 1024x1024", "quality high · image 1 · 1024x1024"]

    # A later session: nothing open until a past comparison is picked.
    later = AppTest.from_file(APP, default_timeout=30)
    later.run()
    later.switch_page("views/compare.py").run()
    assert not [m for m in later.markdown if m.value.startswith("**quality")]
    later.selectbox(key="compare_open").select(1).run()
    assert [m.value for m in later.markdown if m.value.startswith("**quality")] == [
        "**quality low**", "**quality medium**", "**quality high** · 🏆 winner"
    ]
    assert len([i for i in later.image if i.captions[0].startswith("image 1 ·")]) == 3


def test_page_says_no_price_known_for_a_model_without_one(studio_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MODEL", "relay-model-x")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("views/compare.py").run()
    assert any("No price known for relay-model-x, so this grid has no estimate" in i.value for i in at.info)
    at.text_area(key="compare_prompt").input("a fox")
    run_comparison(at)
    facts = [c.value for c in at.caption if " tokens · " in c.value]
    assert len(facts) == 3 and all(f.endswith("· no price known") for f in facts)
    assert not any("$" in f for f in facts)
    assert any("cost no price known" in c.value for c in at.caption)
    assert any("3 generation(s) used a model with no price known; they are not counted" in c.value for c in at.caption)
