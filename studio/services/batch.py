"""Batches: a file of prompts (one per line) or a CSV (a `prompt` column, and any request field as a column),
one background job per line, resumable.

Every line is read and validated before anything is sent; a bad row is named by its line in the file, with
what to change. Each line's job carries a key made of the file's path (or upload name), the line number and
the request, so a second run of the same file skips the lines that already succeeded (a line whose request
was changed in the file is run again)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Iterator

from studio.core.request import ImageRequest, ValidationError, field_names, validate
from studio.db.jobs import JobRecords
from studio.services.jobs import JobPool
from studio.services.studio import Outcome, Studio

INT_FIELDS = ("n", "output_compression", "partial_images")
BOOL_FIELDS = ("stream",)
CSV_FIELDS = tuple(name for name in field_names() if name != "input_fidelity")  # a batch generates; edits take files
MAX_LINES = 10_000


@dataclass(frozen=True)
class BatchLine:
    line: int  # in the file, counting from 1 (a CSV's header is line 1)
    request: ImageRequest
    key: str


@dataclass(frozen=True)
class Batch:
    source: str  # the file's resolved path, or "upload:NAME"
    lines: list[BatchLine]
    done: set[str]  # keys of lines that already succeeded in an earlier run

    @property
    def todo(self) -> list[BatchLine]:
        return [line for line in self.lines if line.key not in self.done]


def line_key(source: str, line: int, request: ImageRequest) -> str:
    text = json.dumps([source, line, asdict(request)], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read_batch(studio: Studio, source: str, name: str, data: bytes, defaults: ImageRequest) -> Batch:
    """The file's lines as validated requests (`defaults` gives every field a row leaves empty), and which
    of them an earlier run already did. Raises ValidationError naming every bad line; nothing is sent then."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError([f"{name} is not UTF-8 text; save it as UTF-8 and try again."]) from None
    rows = list(_csv_rows(text, name) if name.lower().endswith(".csv") else _text_rows(text))
    if not rows:
        raise ValidationError([f"{name} has no prompt in it: put one prompt per line (or a CSV with a prompt column)."])
    if len(rows) > MAX_LINES:
        raise ValidationError([f"{name} has {len(rows)} lines; a batch takes at most {MAX_LINES}: split the file."])
    accepts = studio.settings.provider.accepts_response_format
    lines, problems = [], []
    for number, values in rows:
        try:
            request = validate(_request(values, defaults), accepts, catalog=studio.catalog)
        except ValidationError as exc:
            problems.extend(f"{name} line {number}: {problem}" for problem in exc.problems)
            continue
        lines.append(BatchLine(number, request, line_key(source, number, request)))
    if problems:
        raise ValidationError(problems)
    done = JobRecords(studio.records.engine).done_keys([line.key for line in lines])
    return Batch(source, lines, done)


def _text_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        prompt = line.strip()
        if prompt and not prompt.startswith("#"):  # blank lines and # comments are skipped
            yield number, {"prompt": prompt}


def _csv_rows(text: str, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [column.strip() for column in reader.fieldnames or []]
    unknown = [column for column in header if column not in CSV_FIELDS]
    if unknown or "prompt" not in header:
        problems = [f"{name} line 1: column {column!r} is not a request field; use {', '.join(CSV_FIELDS)}." for column in unknown]
        if "prompt" not in header:
            problems.append(f"{name} line 1: the header needs a 'prompt' column (the first line names the columns).")
        raise ValidationError(problems)
    reader.fieldnames = header
    start = 2
    for row in reader:
        if None in row:  # more cells than the header has columns
            raise ValidationError([f"{name} line {start}: this row has more cells than the header has columns; "
                                   "quote a prompt that holds a comma."])
        values = {key: (value or "").strip() for key, value in row.items()}
        if any(values.values()):
            yield start, values
        start = reader.line_num + 1


def _request(values: dict[str, str], defaults: ImageRequest) -> ImageRequest:
    """A row's request: its non-empty cells over the defaults, numbers and yes/no read as such."""
    fields: dict[str, Any] = {}
    problems = []
    for name, raw in values.items():
        if raw == "":
            continue
        if name in INT_FIELDS:
            try:
                fields[name] = int(raw)
            except ValueError:
                problems.append(f"{name} must be a whole number, not {raw!r}.")
        elif name in BOOL_FIELDS:
            if raw.lower() not in ("true", "false", "yes", "no", "1", "0"):
                problems.append(f"{name} must be true or false, not {raw!r}.")
            fields[name] = raw.lower() in ("true", "yes", "1")
        else:
            fields[name] = raw
    if problems:
        raise ValidationError(problems)
    return replace(defaults, **fields)


@dataclass(frozen=True)
class LineResult:
    line: BatchLine
    job_id: int
    status: str
    outcome: Outcome | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        outcome = self.outcome
        return {
            "line": self.line.line, "job_id": self.job_id, "status": self.status, "prompt": self.line.request.prompt,
            "generation_id": outcome.generation_id if outcome else None,
            "images": [str(image.path) for image in outcome.images] if outcome else [],
            "error": self.error,
        }


def submit_batch(pool: JobPool, studio: Studio, batch: Batch) -> list[tuple[BatchLine, int]]:
    """One queued job per line not yet done, in file order."""
    return [(line, pool.submit_generate(studio, line.request, batch=(line.key, batch.source[:512], line.line)))
            for line in batch.todo]


def run_batch(pool: JobPool, studio: Studio, batch: Batch, on_result: Callable[[LineResult], None]) -> list[LineResult]:
    """Submit the lines not yet done and report each job as it finishes (in the order they finish)."""
    submitted = submit_batch(pool, studio, batch)
    waiting = {job_id: line for line, job_id in submitted}
    results = []
    while waiting:
        for job_id in pool.wait_any(list(waiting), timeout=1.0):
            line = waiting.pop(job_id)
            live = pool.live(job_id)
            [view] = pool.views([job_id])
            outcome = live.outcome if live is not None else None
            if outcome is None and view.generation_id is not None:
                outcome = studio.outcome(view.generation_id)
            result = LineResult(line, job_id, view.status, outcome, view.error)
            results.append(result)
            on_result(result)
    return results


@dataclass(frozen=True)
class Queued:
    """What the Generate page's upload queued: (job id, line) per line, and how many were already done."""

    jobs: list[tuple[int, BatchLine]]
    skipped: int


def queue_upload(pool: JobPool, studio: Studio, name: str, data: bytes, defaults: ImageRequest) -> Queued:
    """An uploaded prompts file as jobs (keyed by the upload's name, so the same file again skips its done lines)."""
    batch = read_batch(studio, f"upload:{name}", name, data, defaults)
    return Queued([(job_id, line) for line, job_id in submit_batch(pool, studio, batch)], len(batch.lines) - len(batch.todo))
