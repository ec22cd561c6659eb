"""The layer rules of docs/architecture.md, held by reading every module's imports (nothing is imported to check)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

MAX_LINES = 350
LONG_REASON = "Longer than 350 lines because"  # the opening comment of a longer module must say why
# Which packages each layer may import from the project (its own package always).
LAYERS: dict[str, set[str]] = {
    "studio.core": set(),
    "studio.provider": {"studio.core"},
    "studio.db": {"studio.core"},
    "studio.files": {"studio.core"},
    "studio.meaning": {"studio.core"},  # the embedding model and the vector index (search by meaning)
    "studio.services": {"studio.core", "studio.provider", "studio.db", "studio.files", "studio.meaning"},
    "studio.cli": {"studio.core", "studio.services"},
    "views": {"studio.core", "studio.services"},
    "app": {"views", "studio.core"},
}
# Third-party packages only one layer may use: who talks to the provider, who runs SQL, who touches buckets.
OWNERS = {"openai": {"studio.provider"}, "httpx2": {"studio.provider"}, "sqlalchemy": {"studio.db"},
          "alembic": {"studio.db"}, "boto3": {"studio.files"}, "botocore": {"studio.files"},
          "streamlit": {"views", "app"}, "streamlit_drawable_canvas": {"views"}, "altair": {"views"},
          "imagehash": {"studio.files"}, "wordllama": {"studio.meaning"}, "numpy": {"studio.meaning"},
          "cairosvg": {"studio.files"}, "defusedxml": {"studio.files"}}


def modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for folder in ("studio", "views"):
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (function-level imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def layer_of(module: str) -> str | None:
    return next((layer for layer in sorted(LAYERS, key=len, reverse=True)
                 if module == layer or module.startswith(layer + ".")), None)


def test_every_module_belongs_to_a_layer():
    stray = [m for m in modules() if layer_of(m) is None and m not in ("studio", "studio.__main__")]
    assert not stray, "\n".join(stray)


def test_layers_import_only_what_docs_architecture_allows():
    broken = []
    for module, path in modules().items():
        layer = layer_of(module)
        if layer is None:
            continue
        for name in imports_of(path):
            target = layer_of(name)
            if target and target != layer and target not in LAYERS[layer] and name in modules():
                broken.append(f"{module} imports {name}")
    assert not broken, "\n".join(broken)


def test_third_party_packages_stay_with_their_layer():
    broken = []
    for module, path in modules().items():
        for name in imports_of(path):
            owners = OWNERS.get(name.split(".")[0])
            if owners and layer_of(module) not in owners:
                broken.append(f"{module} imports {name} (only {' or '.join(sorted(owners))} may)")
    assert not broken, "\n".join(broken)


def test_no_import_cycles():
    known = modules()
    graph = {m: {n for n in imports_of(p) if n in known and n != m} for m, p in known.items()}
    cycles = []

    def visit(node: str, trail: list[str], done: set[str]) -> None:
        for nxt in graph[node]:
            if nxt in trail:
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in done:
                visit(nxt, trail + [nxt], done)
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start], done)
    # A package's __init__ naming its own submodules is not a cycle anyone can fall into.
    cycles = [c for c in cycles if not all(part.startswith(c.split(" -> ")[0]) for part in c.split(" -> "))]
    assert not cycles, "\n".join(cycles)


def test_long_modules_say_why():
    long = []
    for module, path in modules().items():
        lines = path.read_text().count("\n")
        if lines > MAX_LINES and LONG_REASON not in (ast.get_docstring(ast.parse(path.read_text())) or ""):
            long.append(f"{module}: {lines} lines")
    assert not long, "\n".join(long)
