"""`python -m studio compare "PROMPT" --quality low,medium,high [--size S[,S...]] [--n N]`: one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from studio.services.compare import AXES, DEFAULT_QUALITIES, CellResult, GridSpec, estimate_grid, run_grid
from studio.services.comparisons import spend
from studio.core.config import load_settings
from studio.core.pricing import load_prices
from studio.core.request import ImageRequest, ValidationError
from studio.services.studio import Studio


def _values(raw: str | None) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()] if raw else []


def add_compare_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "compare", help="run one prompt over a grid of qualities (x one more field); prints JSON",
        description="Each of --size, --model, --background, --output-format, --complexity takes one value (shared by every cell) "
        "or a comma-separated list, which becomes the grid's second axis (at most one such list).",
    )
    parser.add_argument("prompt")
    parser.add_argument("--quality", default=",".join(DEFAULT_QUALITIES), help="comma-separated, default low,medium,high")
    parser.add_argument("--size")
    parser.add_argument("--model", help="default: STUDIO_MODEL or the provider's first model")
    parser.add_argument("--background")
    parser.add_argument("--output-format", dest="output_format")
    parser.add_argument("--complexity", help="low, medium or high (gpt-image-2.6); a comma-separated list makes it the axis")
    parser.add_argument("--frame-count", dest="frame_count", type=int, help="frames of a gif (2-16), with --output-format gif")
    parser.add_argument("--n", type=int, help="images per cell")
    parser.add_argument("--output-compression", dest="output_compression", type=int)
    parser.add_argument("--moderation")
    parser.add_argument("--response-format", dest="response_format")
    parser.add_argument("--workers", type=int, help="parallel requests (default one per cell, up to 8)")


def spec_from_args(args: argparse.Namespace, default_model: str) -> GridSpec:
    lists = {axis: _values(getattr(args, axis)) for axis in AXES}
    varied = [axis for axis, values in lists.items() if len(values) > 1]
    if len(varied) > 1:
        raise ValidationError([f"Only one field besides quality can vary; {' and '.join(varied)} both have several values."])
    single = {axis: (values[0] if len(values) == 1 else None) for axis, values in lists.items() if axis not in varied}
    base = ImageRequest(
        prompt=args.prompt,
        model=single.pop("model", None) or default_model,
        n=args.n,
        moderation=args.moderation,
        output_compression=args.output_compression,
        response_format=args.response_format,
        frame_count=args.frame_count,
        **single,
    )
    axis = varied[0] if varied else None
    return GridSpec(base, tuple(_values(args.quality)), axis, tuple(lists[axis]) if axis else ())


def cell_json(cell: CellResult) -> dict[str, Any]:
    generation = cell.generation
    outcome = cell.outcome
    return {
        "position": cell.position,
        "quality": cell.quality,
        "size": cell.field("size"),
        **({cell.axis: cell.axis_value} if cell.axis and cell.axis != "size" else {}),
        "status": cell.status,
        "generation_id": generation.id if generation is not None else None,
        "latency_s": round(generation.latency_s, 3) if generation is not None and generation.latency_s is not None else None,
        "total_tokens": generation.total_tokens if generation is not None else None,
        "cost_usd": round(cell.cost.usd, 6) if cell.cost else None,
        "images": [str(image.path) for image in outcome.images] if outcome else [],
        "revised_prompts": [image.revised_prompt for image in outcome.images] if outcome else [],
        "error": cell.error.message if cell.error else None,
    }


def cmd_compare(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    spec = spec_from_args(args, studio.settings.model)
    estimate = estimate_grid(spec, load_prices(studio.settings.data_dir))
    run, cells = run_grid(studio, spec, args.workers)
    costs = [c.cost.usd for c in cells if c.cost]
    print(json.dumps({
        "compare_group_id": run.group_id,
        "prompt": spec.base.prompt,
        "model": spec.base.model,
        "axis": spec.axis,
        "workers": run.workers,
        "wall_s": round(run.wall_s, 3),
        "estimate_usd": round(estimate.usd, 6) if not estimate.unknown else None,
        "cost_usd": round(sum(costs), 6) if costs else None,
        "cells": [cell_json(c) for c in cells],
    }))
    failed = [c for c in cells if c.status != "succeeded"]
    for cell in failed:
        print(f"error: {cell.label}: {cell.error.message if cell.error else cell.status}", file=sys.stderr)
    return 0 if len(failed) < len(cells) else 1


def add_spend_parser(commands: Any) -> None:
    commands.add_parser("spend", help="estimated spend per day (UTC) and overall, from the gallery; prints JSON")


def cmd_spend(_args: argparse.Namespace) -> int:
    totals = spend(Studio.open(load_settings()))
    print(json.dumps({
        "overall_usd": round(totals.usd, 6),
        "unpriced_generations": totals.unpriced,
        "days": [{"day": d.day, "usd": round(d.usd, 6), "priced": d.priced, "unpriced": d.unpriced} for d in totals.days],
    }))
    return 0
