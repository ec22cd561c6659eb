"""`python -m studio template | history | versions`: the prompt tools from the command line, over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.provider.demo import DemoServer


def lines(capsys: pytest.CaptureFixture[str]) -> tuple[list[dict], str]:
    out = capsys.readouterr()
    return [json.loads(line) for line in out.out.splitlines() if line.strip()], out.err


def test_template_dry_run_lists_and_estimates_then_sends_one_generation_each(
        studio_env: Path, demo_server: DemoServer, capsys: pytest.CaptureFixture[str]) -> None:
    before = demo_server.config.requests_seen
    assert main(["template", "a {red|green} fox", "--model", "gpt-image-2", "--quality", "low", "--dry-run"]) == 0
    [summary], _ = lines(capsys)
    assert summary["prompts"] == ["a red fox", "a green fox"] and summary["count"] == 2 and summary["estimate_usd"] > 0
    assert demo_server.config.requests_seen == before
    assert main(["template", "a {red|green} fox", "--model", "gpt-image-2", "--quality", "low"]) == 0
    sent, _ = lines(capsys)
    assert [s["prompt"] for s in sent] == ["a red fox", "a green fox"] and all(s["status"] == "succeeded" for s in sent)
    assert demo_server.config.requests_seen == before + 2

    assert main(["versions", str(sent[0]["generation_id"])]) == 0
    assert [v["prompt"] for v in json.loads(capsys.readouterr().out)] == ["a red fox"]
    assert main(["template", "a red fox {asleep|awake}", "--parent", str(sent[0]["generation_id"])]) == 0
    children, _ = lines(capsys)
    assert main(["versions", str(children[1]["generation_id"])]) == 0
    assert [v["prompt"] for v in json.loads(capsys.readouterr().out)] == ["a red fox", "a red fox awake"]

    assert main(["history", "--search", "FOX awake"]) == 0
    assert [e["prompt"] for e in json.loads(capsys.readouterr().out)] == ["a red fox awake"]


def test_template_refuses_a_malformed_template_and_asks_for_yes_above_the_limit(
        studio_env: Path, demo_server: DemoServer, capsys: pytest.CaptureFixture[str]) -> None:
    before = demo_server.config.requests_seen
    assert main(["template", "a {red|green fox"]) == 1
    assert "The `{` at column 3 is never closed" in capsys.readouterr().err
    assert main(["template", "{a|b|c} fox", "--confirm-limit", "2"]) == 1
    assert "makes 3 prompts, more than --confirm-limit 2; add --yes" in capsys.readouterr().err
    assert main(["versions", "999"]) == 1
    assert "no generation 999" in capsys.readouterr().err
    assert demo_server.config.requests_seen == before
    assert main(["template", "{a|b|c} fox", "--confirm-limit", "2", "--yes"]) == 0
    assert len(lines(capsys)[0]) == 3
