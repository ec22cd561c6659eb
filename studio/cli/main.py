"""Command line: `python -m studio COMMAND ...`, on the same services as the pages. Each command lives in
the module named for what it does (images, compare, admin); this one only dispatches and reports errors."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from studio.cli.admin import (add_admin_parsers, cmd_copy_database, cmd_doctor, cmd_export, cmd_import, cmd_migrate,
                              cmd_migrate_storage)
from studio.cli.arena import add_arena_parser, cmd_arena_stats
from studio.cli.batch import add_batch_parser, cmd_batch
from studio.cli.compare import add_compare_parser, add_spend_parser, cmd_compare, cmd_spend
from studio.cli.images import add_image_parsers, cmd_edit, cmd_generate, cmd_inspect
from studio.cli.tasks import add_tasks_parser, cmd_resume
from studio.cli.meaning import add_meaning_parsers, cmd_index_prompts, cmd_search_meaning
from studio.cli.prompts import add_prompt_parsers, cmd_history, cmd_template, cmd_versions
from studio.cli.models import add_models_parser, cmd_models
from studio.core.config import ConfigError
from studio.core.errors import StudioError
from studio.core.request import ValidationError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "generate": cmd_generate, "edit": cmd_edit, "migrate": cmd_migrate, "compare": cmd_compare, "spend": cmd_spend,
    "inspect": cmd_inspect, "doctor": cmd_doctor, "export": cmd_export, "import": cmd_import,
    "migrate-storage": cmd_migrate_storage, "copy-database": cmd_copy_database,
    "arena-stats": cmd_arena_stats, "resume": cmd_resume, "index-prompts": cmd_index_prompts,
    "search-meaning": cmd_search_meaning,
    "template": cmd_template, "history": cmd_history, "versions": cmd_versions,
    "models": cmd_models,
    "batch": cmd_batch,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m studio", description="Image Studio from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_image_parsers(commands)
    add_prompt_parsers(commands)
    add_compare_parser(commands)
    add_spend_parser(commands)
    add_arena_parser(commands)
    add_models_parser(commands)
    add_batch_parser(commands)
    add_admin_parsers(commands)
    add_tasks_parser(commands)
    add_meaning_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValidationError, StudioError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
