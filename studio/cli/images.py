"""`python -m studio generate | edit | inspect`: one request into the gallery, or the metadata inside a file."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from studio.core.config import load_settings
from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.services.edits import EditImage, read_image
from studio.services.inspect import inspect_file, read_input
from studio.services.studio import Outcome, Studio
from studio.services.tasks import resume_pending_tasks


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt")
    add_request_options(parser)


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """Every request field as an option, named as the API names it (the batch command takes them too)."""
    parser.add_argument("--model", help="model name (default: STUDIO_MODEL or the provider's first model)")
    parser.add_argument("--size")
    parser.add_argument("--quality")
    parser.add_argument("--n", type=int)
    parser.add_argument("--background")
    parser.add_argument("--output-format", dest="output_format")
    parser.add_argument("--output-compression", dest="output_compression", type=int)
    parser.add_argument("--moderation")
    parser.add_argument("--response-format", dest="response_format")
    parser.add_argument("--complexity", help="low, medium or high: how much the model plans the picture (gpt-image-2.6)")
    parser.add_argument("--frame-count", dest="frame_count", type=int, help="frames of an animated gif, 2 to 16 (with --output-format gif)")


def request_from_args(args: argparse.Namespace, default_model: str, prompt: str | None = None) -> ImageRequest:
    return ImageRequest(
        prompt=args.prompt if prompt is None else prompt,
        model=args.model or default_model,
        n=args.n,
        size=args.size,
        quality=args.quality,
        background=args.background,
        moderation=args.moderation,
        output_format=args.output_format,
        output_compression=args.output_compression,
        response_format=args.response_format,
        complexity=args.complexity,
        frame_count=args.frame_count,
    )


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "generation_id": outcome.generation_id,
        "status": outcome.status,
        "revised_prompts": [image.revised_prompt for image in outcome.images],
        "images": [
            {"path": str(image.path), "width": image.width, "height": image.height, "format": image.format, "sha256": image.sha256}
            for image in outcome.images
        ],
    }


def report(outcome: Outcome) -> int:
    """What generate and edit print: the error (exit 1), or a note and the outcome as JSON (exit 0)."""
    if outcome.error:
        kept = "kept pending" if outcome.status == "pending" else "recorded as failed"
        print(f"error: {outcome.error.message} (generation {outcome.generation_id} {kept})", file=sys.stderr)
        return 1
    if outcome.note:
        print(f"note: {outcome.note}", file=sys.stderr)
    print(json.dumps(outcome_json(outcome)))
    return 0


def open_studio() -> Studio:
    """The gallery, with any provider task a stopped process left pending polled again in the background."""
    studio = Studio.open(load_settings())
    resume_pending_tasks(studio)
    return studio


def cmd_generate(args: argparse.Namespace) -> int:
    studio = open_studio()
    return report(studio.generate(request_from_args(args, studio.settings.model)))


def cmd_edit(args: argparse.Namespace) -> int:
    images: list[EditImage] = [read_image(Path(path).name, read_input(path, "image")) for path in args.image]
    mask = read_input(args.mask, "mask") if args.mask else None
    studio = open_studio()
    request = replace(request_from_args(args, studio.settings.model), input_fidelity=args.input_fidelity)
    return report(studio.edit(request, images, mask))


def cmd_inspect(args: argparse.Namespace) -> int:
    try:
        found = inspect_file(args.file)
    except StudioError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(found.metadata, ensure_ascii=False, indent=2))
    if found.problems:  # shown above as it is; an import or the doctor would leave these fields out
        print(f"error: {args.file} carries metadata the gallery cannot hold: {'; '.join(found.problems)}.", file=sys.stderr)
        return 1
    return 0


def add_image_parsers(commands: Any) -> None:
    add_request_arguments(commands.add_parser("generate", help="generate images into the gallery; prints JSON"))
    edit = commands.add_parser("edit", help="edit images (the first is the one edited) into the gallery; prints JSON")
    add_request_arguments(edit)
    edit.add_argument("--image", action="append", required=True, metavar="FILE",
                      help="a reference image (PNG, WebP or JPEG); repeat for up to 16, the first is edited")
    edit.add_argument("--mask", metavar="PNG", help="PNG the first image's size; its transparent pixels mark what to change")
    edit.add_argument("--input-fidelity", dest="input_fidelity", help="low or high: how closely to keep the input's details")
    commands.add_parser("inspect", help="print the prompt and settings saved inside an image file, as JSON").add_argument("file")
