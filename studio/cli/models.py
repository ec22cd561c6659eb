"""`python -m studio models`: the model catalog as JSON, what each model takes and which are retired."""

from __future__ import annotations

import argparse
import json
from typing import Any

from studio.core.catalog import ModelRules, load_catalog
from studio.core.config import load_settings


def rules_json(rules: ModelRules, successor: str | None, retired: bool) -> dict[str, Any]:
    return {
        "model": rules.name, "retired": retired, "shutdown": rules.shutdown.isoformat() if rules.shutdown else None,
        "successor": successor, "qualities": list(rules.qualities), "sizes": list(rules.sizes),
        "custom_sizes": rules.custom_sizes, "output_formats": list(rules.output_formats),
        "transparent_background": rules.transparent_background, "input_fidelity": rules.input_fidelity,
        "complexities": list(rules.complexities), "frame_count": list(rules.frame_count) if rules.frame_count else None,
        "price": rules.price,
    }


def cmd_models(args: argparse.Namespace) -> int:
    catalog = load_catalog(load_settings().data_dir)
    names = [args.model] if args.model else list(catalog.models)
    rows = []
    for name in names:
        rules = catalog.rules(name)
        retired = rules.retired()
        if retired and not args.all and not args.model:
            continue
        rows.append(rules_json(rules, catalog.successor(name) if retired else None, retired) | {"listed": rules.listed})
    print(json.dumps(rows, indent=2))
    return 0


def add_models_parser(commands: Any) -> None:
    parser = commands.add_parser("models", help="what each model takes (the model catalog), as JSON")
    parser.add_argument("model", nargs="?", help="one model (any name: an unlisted one shows the generic rules)")
    parser.add_argument("--all", action="store_true", help="include retired models")
