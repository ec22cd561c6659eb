"""Compare: one prompt over a grid of quality (rows) x an optional second axis (columns), run concurrently.

Every cell is a normal generation made through `Studio.generate`, so it lands in the gallery like any
other; the grid itself is kept as a compare group that can be re-opened and given a winner (`comparisons.py`).

Longer than 350 lines because a grid's spec, axes, validation, estimate and run (on threads or as jobs of the
job pool) are one use case whose parts share CellSpec/CellResult/GridRun; the run cannot move out without
an import cycle. The next thing added here should split the run into its own module with those types.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Iterator

from studio.core.errors import StudioError
from studio.db.models import Generation
from studio.core.pricing import Cost, PriceTable, format_usd, generation_cost, load_prices
from studio.core.catalog import Catalog
from studio.core.request import BACKGROUNDS, COMPLEXITIES, OUTPUT_FORMATS, QUALITIES, STANDARD_SIZES, ImageRequest, ValidationError, validate
from studio.core.template import expand
from studio.core.wire import PartialCallback
from studio.services.job_link import JobLink
from studio.services.jobs import JobPool
from studio.services.studio import Outcome, Studio

AXES = ("size", "model", "background", "output_format", "complexity")  # the second axis; quality is always the first
PROMPT_AXIS = "prompt"  # the variants of a prompt template (`prompt_grid`); not a CLI list like the others
AXIS_CHOICES: dict[str, tuple[str, ...]] = {"size": STANDARD_SIZES, "background": BACKGROUNDS, "output_format": OUTPUT_FORMATS,
                                            "complexity": COMPLEXITIES}
DEFAULT_QUALITIES = ("low", "medium", "high")
TOP_QUALITIES = ("high", "xhigh", "max")  # the dearer tiers of gpt-image-2.5 and 2.6, side by side


def axis_choices(axis: str, model: str, catalog: Catalog) -> tuple[str, ...]:
    """What the Compare page offers for an axis with this model: the catalog's values for the fields it lists."""
    rules = catalog.rules(model)
    listed = {"size": rules.sizes, "output_format": rules.output_formats, "complexity": rules.complexities,
              "background": tuple(b for b in BACKGROUNDS if b != "transparent" or rules.transparent_background)}
    return listed.get(axis, AXIS_CHOICES.get(axis, ()))


def default_qualities(model: str, catalog: Catalog) -> tuple[str, ...]:
    """low, medium, high; for a model with xhigh and max, the top tiers high, xhigh, max."""
    qualities = catalog.rules(model).qualities
    tiers = TOP_QUALITIES if all(q in qualities for q in TOP_QUALITIES) else DEFAULT_QUALITIES
    return tuple(q for q in tiers if q in qualities)
MAX_CELLS = 24  # a bigger grid is rarely what someone means, and it spends real money
MAX_WORKERS = 8
log = logging.getLogger(__name__)


def default_workers(cells: int) -> int:
    """One worker per cell, up to 8: the grid takes about as long as its slowest cell."""
    return max(1, min(cells, MAX_WORKERS))


@dataclass(frozen=True)
class CellSpec:
    position: int  # row-major: quality row, then axis column
    quality: str
    axis: str | None
    axis_value: str | None
    request: ImageRequest

    @property
    def label(self) -> str:
        return f"quality {self.quality}" + (f" · {self.axis} {self.axis_value}" if self.axis else "")


@dataclass(frozen=True)
class GridSpec:
    base: ImageRequest  # prompt, model, n and every shared field; its quality is ignored
    qualities: tuple[str, ...] = DEFAULT_QUALITIES
    axis: str | None = None
    axis_values: tuple[str, ...] = ()
    # The prompt axis: each value is a variant's label ("red · snow"), and this its prompt (base.prompt: the template).
    axis_prompts: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str | None, ...]:
        return self.axis_values if self.axis else (None,)

    def _varied(self, index: int, value: str | None) -> dict[str, Any]:
        if self.axis == PROMPT_AXIS:
            return {"prompt": self.axis_prompts[index]} if index < len(self.axis_prompts) else {}
        return {self.axis: value} if self.axis else {}

    def cells(self) -> list[CellSpec]:
        specs = []
        for quality in self.qualities:
            for index, value in enumerate(self.columns):
                request = replace(self.base, quality=quality, **self._varied(index, value))
                specs.append(CellSpec(len(specs), quality, self.axis, value, request))
        return specs


def prompt_grid(base: ImageRequest, qualities: tuple[str, ...] = DEFAULT_QUALITIES) -> GridSpec:
    """A prompt × quality grid: `base.prompt` is a template (core/template.py), each of its prompts a row.
    Raises ValidationError, saying where and what to change, for a malformed template."""
    variants = expand(base.prompt)
    labels: list[str] = []
    for number, variant in enumerate(variants, start=1):
        label = variant.label
        labels.append(label if label not in labels else f"{number}: {label}"[:128])
    return GridSpec(base, qualities, PROMPT_AXIS, tuple(labels), tuple(v.prompt for v in variants))


def grid_rows(quality_count: int, column_count: int) -> list[list[int]]:
    """The cell positions as a page lays them out: one row per axis value, the quality tiers side by side.
    Cells are numbered quality-major (`GridSpec.cells`), so the row of axis value c holds q * columns + c."""
    return [[quality * column_count + column for quality in range(quality_count)] for column in range(column_count)]


def validate_grid(spec: GridSpec, accepts_response_format: bool = True, catalog: Catalog | None = None) -> list[CellSpec]:
    """The cells to run, or ValidationError listing every problem (each saying what to change) before any request."""
    problems: list[str] = []
    if not spec.qualities:
        problems.append("Pick at least one quality to compare.")
    for name, values in (("quality", spec.qualities), (spec.axis or "", spec.axis_values)):
        if len(set(values)) != len(values):
            problems.append(f"The {name} values repeat; pick each one once.")
    bad_qualities = [q for q in spec.qualities if q not in QUALITIES]
    if bad_qualities:
        problems.append(f"quality {', '.join(bad_qualities)} is not allowed; choose from {', '.join(QUALITIES)}.")
    if spec.axis is not None:
        if spec.axis not in (*AXES, PROMPT_AXIS):
            problems.append(f"The second axis {spec.axis!r} is not one of {', '.join(AXES)}, {PROMPT_AXIS}; pick one or none.")
        elif spec.axis == PROMPT_AXIS and len(spec.axis_prompts) != len(spec.axis_values):
            problems.append("The prompt axis needs one prompt per value; write the prompts as a template, e.g. {red|green} fox.")
        elif not spec.axis_values:
            problems.append(f"Pick at least one {spec.axis} to compare, or no second axis.")
        elif any(not value.strip() for value in spec.axis_values):
            problems.append(f"One of the {spec.axis} values is empty; remove it.")
    cells = spec.cells() if not problems else []
    if len(cells) > MAX_CELLS:
        problems.append(f"This grid has {len(cells)} cells; make it at most {MAX_CELLS} by picking fewer values.")
    if not problems:
        for cell in cells:
            try:
                validate(cell.request, accepts_response_format, catalog=catalog)
            except ValidationError as exc:
                for problem in exc.problems:
                    # Shared fields fail in every cell: say it once. Per-cell ones name their cell.
                    text = problem if spec.axis is None or spec.axis not in problem else f"{cell.axis_value}: {problem}"
                    if text not in problems:
                        problems.append(text)
    if problems:
        raise ValidationError(problems)
    return cells


@dataclass(frozen=True)
class GridEstimate:
    usd: float  # the cells with a known price
    unknown: tuple[str, ...]  # models of cells with no price known

    @property
    def text(self) -> str:
        if self.unknown and not self.usd:
            return f"{NO_PRICE_SENTENCE} for {', '.join(self.unknown)}, so this grid has no estimate"
        known = f"this grid costs about {format_usd(self.usd)}"
        return known + (f", plus cells with {', '.join(self.unknown)} ({NO_PRICE_SENTENCE})" if self.unknown else "")


NO_PRICE_SENTENCE = "no price known"


def estimate_grid(spec: GridSpec, prices: PriceTable) -> GridEstimate:
    usd, unknown = 0.0, []
    for cell in spec.cells():
        r = cell.request
        cost = prices.estimate(r.model, r.quality, r.size, r.n, r.complexity)
        if cost is None:
            # A priced model's tier without a figure (xhigh, max) or a complexity is named as such.
            label = (r.model if r.model not in prices.models else f"{r.model} with complexity set" if r.complexity
                     else f"{r.model} quality {r.quality}")
            if label not in unknown:
                unknown.append(label)
        else:
            usd += cost
    return GridEstimate(usd, tuple(unknown))


@dataclass(frozen=True)
class CellResult:
    position: int
    quality: str
    axis: str | None
    axis_value: str | None
    outcome: Outcome | None  # None: the cell never ran (or its generation was deleted)
    cost: Cost | None = None

    @property
    def status(self) -> str:
        return self.outcome.status if self.outcome else "not run"

    @property
    def error(self) -> StudioError | None:
        return self.outcome.error if self.outcome else None

    @property
    def generation(self) -> Generation | None:
        return self.outcome.generation if self.outcome else None

    @property
    def label(self) -> str:
        return f"quality {self.quality}" + (f" · {self.axis} {self.axis_value}" if self.axis else "")

    def field(self, name: str) -> Any:
        """A request field of this cell (the axis value, else what the generation recorded)."""
        if name == "quality":
            return self.quality
        if name == self.axis and name != PROMPT_AXIS:  # a prompt cell's value is its label; the generation has the prompt
            return self.axis_value
        return getattr(self.generation, name, None)


@dataclass
class GridRun:
    """A grid under way: iterate `results()` to get each cell as soon as it finishes, or look at
    `finished_so_far()` without waiting (a page following it)."""

    group_id: int
    cells: list[CellSpec]
    workers: int
    _futures: list[concurrent.futures.Future[CellResult]] = field(repr=False)
    _executor: concurrent.futures.ThreadPoolExecutor | None = field(repr=False)  # None: the cells are jobs of a pool
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    # Streamed cells (live preview): the latest (partial_image_index, bytes) per cell position.
    partials: dict[int, tuple[int, bytes]] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> int:
        return len(self.cells)

    def results(self) -> Iterator[CellResult]:
        """Each cell's result in the order they finish. Cells keep running (and are saved) even if the caller stops."""
        try:
            for future in concurrent.futures.as_completed(self._futures):
                yield future.result()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=False)
        self.finished = time.perf_counter()

    def finished_so_far(self) -> list[CellResult]:
        """The cells that have finished, without waiting (a page drawing the run as it goes)."""
        done = [future.result() for future in self._futures if future.done()]
        if len(done) == len(self._futures) and self.finished is None:
            self.finished = time.perf_counter()
            if self._executor is not None:
                self._executor.shutdown(wait=False)
        return done

    @property
    def wall_s(self) -> float:
        return (self.finished or time.perf_counter()) - self.started


def _run_cell(
    studio: Studio, prices: PriceTable, cell: CellSpec, cell_id: int, partials: dict[int, tuple[int, bytes]] | None = None,
    job: JobLink | None = None, also: PartialCallback | None = None,
) -> CellResult:
    # Studio.generate records every request it sends, failed or not; a cell never raises.
    def on_partial(index: int, data: bytes) -> None:
        if partials is not None:
            partials[cell.position] = (index, data)
        if also is not None:
            also(index, data)

    try:
        outcome = studio.generate(cell.request, on_partial=on_partial, job=job)
    except ValidationError as exc:  # validated up front; kept so a cell can never raise
        return _unrecorded(cell, StudioError(" ".join(exc.problems), "invalid_request"))
    except StudioError as exc:
        return _unrecorded(cell, exc)
    except Exception as exc:  # noqa: BLE001 - one cell's surprise must not sink the grid
        return _unrecorded(cell, StudioError(f"The request failed unexpectedly ({type(exc).__name__}); try again.", "unexpected"))
    try:
        studio.records.link_compare_cell(cell_id, outcome.generation_id)
    except Exception:  # noqa: BLE001 - the images are safe in the gallery; only the grid loses this link
        log.warning("could not link generation %s to compare cell %s", outcome.generation_id, cell_id, exc_info=True)
    cost = generation_cost(prices, outcome.generation, len(outcome.images))
    return CellResult(cell.position, cell.quality, cell.axis, cell.axis_value, outcome, cost)


def _unrecorded(cell: CellSpec, error: StudioError) -> CellResult:
    generation = Generation(status="failed", prompt=cell.request.prompt, model=cell.request.model, error_message=error.message, error_code=error.code)
    return CellResult(cell.position, cell.quality, cell.axis, cell.axis_value, Outcome(generation, [], error))


def start_grid(studio: Studio, spec: GridSpec, workers: int | None = None, pool: JobPool | None = None) -> GridRun:
    """Validate, save the group, and start every cell on a bounded pool; returns at once. With `pool` (the
    server's job pool) each cell is a background job: in the jobs tray, cancellable, and counted against the
    provider's limit with the user's other jobs (`workers` then limits the grid further)."""
    cells = validate_grid(spec, studio.settings.provider.accepts_response_format, studio.catalog)
    if workers is not None and not 1 <= workers <= 32:
        raise ValidationError([f"workers is {workers}; use 1 to 32 parallel requests."])
    studio.client()  # a missing API key is one clear error now, not one per cell
    prices = load_prices(studio.settings.data_dir)
    shared = {k: v for k, v in asdict(spec.base).items() if k not in ("prompt", "quality", spec.axis)}
    group_id, cell_ids = studio.records.create_compare_group(
        spec.base.prompt, spec.base.model, spec.axis, shared, [(c.position, c.quality, c.axis_value) for c in cells]
    )
    size = workers or default_workers(len(cells))
    if pool is not None:
        return _start_jobs(studio, prices, pool, group_id, cells, cell_ids, size)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="studio-compare")
    started = time.perf_counter()
    partials: dict[int, tuple[int, bytes]] = {}
    futures = [executor.submit(_run_cell, studio, prices, cell, cell_ids[cell.position], partials) for cell in cells]
    return GridRun(group_id, cells, size, futures, executor, started, partials=partials)


def _start_jobs(studio: Studio, prices: PriceTable, pool: JobPool, group_id: int, cells: list[CellSpec],
                cell_ids: dict[int, int], size: int) -> GridRun:
    """Each cell as a job of the pool; a cell whose job is cancelled before it was sent ends as "not run"."""
    partials: dict[int, tuple[int, bytes]] = {}
    grid_slots = threading.Semaphore(size)
    futures: list[concurrent.futures.Future[CellResult]] = []
    started = time.perf_counter()
    for cell in cells:
        future: concurrent.futures.Future[CellResult] = concurrent.futures.Future()

        def work(on_partial: PartialCallback, link: JobLink, cell: CellSpec = cell,
                 future: concurrent.futures.Future[CellResult] = future) -> Outcome:
            with grid_slots:
                result = _run_cell(studio, prices, cell, cell_ids[cell.position], partials, link, on_partial)
            future.set_result(result)
            return result.outcome  # type: ignore[return-value]

        def ended(cell: CellSpec = cell, future: concurrent.futures.Future[CellResult] = future) -> None:
            if not future.done():  # cancelled before it was sent
                future.set_result(CellResult(cell.position, cell.quality, cell.axis, cell.axis_value, None))

        pool.submit_work(studio, "compare", cell.request, work, on_end=ended)
        futures.append(future)
    return GridRun(group_id, cells, min(size, pool.per_provider), futures, None, started, partials=partials)


def run_grid(
    studio: Studio, spec: GridSpec, workers: int | None = None, on_cell: Callable[[CellResult, int, int], None] | None = None
) -> tuple[GridRun, list[CellResult]]:
    """Run the whole grid; `on_cell(result, done, total)` is called as each cell finishes. Results by position."""
    run = start_grid(studio, spec, workers)
    results = []
    for result in run.results():
        results.append(result)
        if on_cell:
            on_cell(result, len(results), run.total)
    return run, sorted(results, key=lambda r: r.position)
