"""`python -m studio resume`: poll the provider tasks of pending requests now (each start does it in the
background too) and wait for them, so that a paid image left at the provider reaches the gallery."""

from __future__ import annotations

import argparse
import json
from typing import Any

from studio.core.config import load_settings
from studio.services.studio import Studio
from studio.services.tasks import resume_and_wait


def add_tasks_parser(commands: Any) -> None:
    resume = commands.add_parser("resume", help="poll the provider tasks of pending requests and keep their images; prints JSON")
    resume.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="stop waiting after this long (the tasks stay pending and are polled again later)")


def cmd_resume(args: argparse.Namespace) -> int:
    if args.timeout is not None and args.timeout <= 0:
        raise SystemExit("error: --timeout must be a number of seconds above 0.")
    counts = resume_and_wait(Studio.open(load_settings()), args.timeout)
    print(json.dumps(counts))
    return 0 if counts["failed"] == 0 else 1
