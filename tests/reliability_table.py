"""Rows of docs/reliability.md by section: each section's test module runs one scenario per row."""

from __future__ import annotations

import re

from tests.conftest import ROOT

DOC = ROOT / "docs" / "reliability.md"
_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def section_rows(section: str) -> dict[str, tuple[str, str]]:
    """{id: (message, stored)} for the table under `## section`; an unknown section is an error."""
    rows: dict[str, tuple[str, str]] = {}
    current = None
    found = False
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            found = found or current == section
            continue
        if current != section:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and _ID.fullmatch(cells[0]) and cells[0] != "id":
            assert cells[0] not in rows, f"row {cells[0]} appears twice"
            rows[cells[0]] = (cells[2], cells[3])
    assert found, f"docs/reliability.md has no section '## {section}'"
    return rows


def all_row_ids() -> list[str]:
    return [c[0] for c in (
        [x.strip() for x in line.strip().strip("|").split("|")] for line in DOC.read_text().splitlines())
        if len(c) == 4 and _ID.fullmatch(c[0]) and c[0] != "id"]


def assert_rows_match(rows: dict[str, tuple[str, str]], scenarios: dict) -> None:
    """A section's rows and its scenarios are the same set: no row untested, no scenario undocumented."""
    assert set(rows) - set(scenarios) == set(), "rows without a scenario"
    assert set(scenarios) - set(rows) == set(), "scenarios without a row"


def assert_message(row: str, message: str, seen: str) -> None:
    """The row's message is part of what the user saw; "—" means they saw none at all."""
    if message == "—":
        assert seen == "—", f"{row}: expected no message, the user saw: {seen}"
    else:
        assert message in seen, f"{row}: the user saw: {seen}"
