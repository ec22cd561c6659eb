"""`python -m studio batch prompts.txt|prompts.csv`: one background job per line, at most --concurrency at
once; progress on stderr, one JSON line per finished job on stdout; a second run skips the lines done."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.core.config import load_settings
from studio.core.errors import StudioError
from studio.core.request import ValidationError
from studio.cli.images import add_request_options, request_from_args
from studio.services.batch import LineResult, read_batch, run_batch
from studio.services.jobs import JobPool
from studio.services.studio import Studio


def add_batch_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("batch", help="run every line of a prompts file (.txt, or .csv with request columns)")
    parser.add_argument("file", help="a text file (one prompt per line; # comments) or a CSV with a prompt column "
                                     "and any request field as a column (an empty cell takes the option's value)")
    add_request_options(parser)
    parser.add_argument("--concurrency", type=int, help="requests at once (default: STUDIO_JOBS_PER_PROVIDER, 3)")


def cmd_batch(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudioError(f"Could not read {path}: {exc.strerror or exc}. Check the file's path.", "file_unreadable") from None
    settings = load_settings()
    concurrency = args.concurrency or settings.jobs_per_provider
    if not 1 <= concurrency <= 64:
        raise StudioError(f"--concurrency {concurrency} is out of range; use 1 to 64.", "bad_concurrency")
    studio = Studio.open(settings)
    defaults = request_from_args(args, settings.model, prompt="")  # what a line's empty cells take
    try:
        batch = read_batch(studio, str(path.resolve()), path.name, data, defaults)
    except ValidationError as exc:  # every bad line, one per line; nothing was sent
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{path.name}: nothing was sent; fix the lines above and run again.", file=sys.stderr)
        return 1
    todo = len(batch.todo)
    print(f"{path.name}: {len(batch.lines)} lines, {len(batch.lines) - todo} already done, {todo} to run "
          f"({concurrency} at once)", file=sys.stderr, flush=True)
    pool = JobPool(studio, per_provider=concurrency, adopt=False)
    finished: list[LineResult] = []

    def report(result: LineResult) -> None:
        finished.append(result)
        print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
        said = f" (generation #{result.outcome.generation_id})" if result.outcome else ""
        problem = f": {result.error}" if result.error and result.status != "succeeded" else ""
        print(f"[{len(finished)}/{todo}] line {result.line.line} {result.status}{said}{problem}", file=sys.stderr, flush=True)

    try:
        results = run_batch(pool, studio, batch, report)
    except KeyboardInterrupt:
        stopped = [view.id for view in pool.active()]
        for job_id in stopped:
            pool.cancel(job_id)
        print(f"stopped: {len(stopped)} lines not finished; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        pool.close()
    failed = [result for result in results if result.status != "succeeded"]
    print(f"{path.name}: {len(results) - len(failed)} succeeded, {len(failed)} failed"
          + (" (run again to retry them)" if failed else ""), file=sys.stderr)
    return 1 if failed else 0
