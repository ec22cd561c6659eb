"""`python -m studio template | history | versions`: a prompt template's prompts and cost (and sending them), the
prompts sent so far, and a generation's prompt versions — the pages' prompt tools, as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from studio.core.config import load_settings
from studio.core.template import DEFAULT_CONFIRM_LIMIT
from studio.services.prompt_history import prompt_history, prompt_versions
from studio.services.studio import Studio
from studio.services.templates import preview_template, run_template
from studio.cli.images import add_request_arguments, outcome_json, request_from_args


def cmd_template(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    request = request_from_args(args, studio.settings.model)
    plan = preview_template(studio, args.prompt, request, args.confirm_limit)
    summary = {"prompts": [v.prompt for v in plan.variants], "count": plan.count, "estimate_usd": plan.usd,
               "estimate": plan.cost_text}
    if args.dry_run:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    if plan.needs_confirmation and not args.yes:
        print(f"error: this template makes {plan.count} prompts, more than --confirm-limit {args.confirm_limit}; "
              f"add --yes to send them all ({plan.cost_text}), or --dry-run to list them.", file=sys.stderr)
        return 1
    outcomes = run_template(studio, args.prompt, request, args.parent, confirmed=True)
    for outcome in outcomes:
        print(json.dumps({"prompt": outcome.generation.prompt, **outcome_json(outcome),
                          **({"error": outcome.error.message} if outcome.error else {})}, ensure_ascii=False))
    return 1 if all(o.error for o in outcomes) else 0


def cmd_history(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    entries = [{"prompt": e.prompt, "generation_id": e.generation_id, "last_sent": e.last_sent.isoformat(),
                "thumbnail": e.thumbnail} for e in prompt_history(studio, args.search or "", args.limit)]
    print(json.dumps(entries, ensure_ascii=False, indent=2))
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    versions = prompt_versions(studio, args.generation_id)
    if not versions:
        print(f"error: there is no generation {args.generation_id} in the gallery.", file=sys.stderr)
        return 1
    rows: list[dict[str, Any]] = [{"generation_id": v.generation_id, "prompt": v.prompt, "status": v.status,
                                   "created_at": v.created_at.isoformat(), "changed": v.changed} for v in versions]
    print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0


def add_prompt_parsers(commands: Any) -> None:
    template = commands.add_parser("template", help="send every prompt of a {a|b} template, one generation each; prints JSON lines")
    add_request_arguments(template)
    template.add_argument("--dry-run", action="store_true", help="list the prompts and the estimate; send nothing")
    template.add_argument("--confirm-limit", dest="confirm_limit", type=int, default=DEFAULT_CONFIRM_LIMIT,
                          help=f"refuse more prompts than this unless --yes (default {DEFAULT_CONFIRM_LIMIT})")
    template.add_argument("--yes", action="store_true", help="send even above --confirm-limit")
    template.add_argument("--parent", type=int, help="record each prompt as a version of this generation's")
    history = commands.add_parser("history", help="the prompts sent, most recent first, as JSON")
    history.add_argument("--search", help="words that must all be in the prompt")
    history.add_argument("--limit", type=int, default=20)
    commands.add_parser("versions", help="a generation's prompt versions, oldest first, as JSON").add_argument("generation_id", type=int)
