"""Command line: `python -m studio generate "PROMPT" ...` and friends, on the same core path as the pages."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from studio.cli.compare import add_compare_parser, add_spend_parser, cmd_compare, cmd_spend
from studio.core.config import ConfigError, load_settings
from studio.db.engine import migrate
from studio.services.edits import EditImage, read_image
from studio.core.errors import StudioError
from studio.core.request import ImageRequest, ValidationError
from studio.services.studio import Outcome, Studio
from studio.db.copy import add_copy_database_parser, cmd_copy_database
from studio.files.storage import read_location
from studio.files.move import add_migrate_storage_parser, cmd_migrate_storage


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt")
    parser.add_argument("--model", help="model name (default: STUDIO_MODEL or the provider's first model)")
    parser.add_argument("--size")
    parser.add_argument("--quality")
    parser.add_argument("--n", type=int)
    parser.add_argument("--background")
    parser.add_argument("--output-format", dest="output_format")
    parser.add_argument("--output-compression", dest="output_compression", type=int)
    parser.add_argument("--moderation")
    parser.add_argument("--response-format", dest="response_format")


def request_from_args(args: argparse.Namespace, default_model: str) -> ImageRequest:
    return ImageRequest(
        prompt=args.prompt,
        model=args.model or default_model,
        n=args.n,
        size=args.size,
        quality=args.quality,
        background=args.background,
        moderation=args.moderation,
        output_format=args.output_format,
        output_compression=args.output_compression,
        response_format=args.response_format,
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


def cmd_generate(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    outcome = studio.generate(request_from_args(args, studio.settings.model))
    if outcome.error:
        print(f"error: {outcome.error.message} (generation {outcome.generation_id} recorded as failed)", file=sys.stderr)
        return 1
    print(json.dumps(outcome_json(outcome)))
    return 0


def _read_file(path: str, what: str) -> bytes:
    try:
        return read_location(path)  # a file, or an s3:// URL as `generate` prints for a bucket
    except OSError as exc:
        raise StudioError(f"Cannot read the {what} {path} ({exc.strerror or 'not found'}); check the path.", "unreadable_file") from None


def cmd_edit(args: argparse.Namespace) -> int:
    images: list[EditImage] = [read_image(Path(path).name, _read_file(path, "image")) for path in args.image]
    mask = _read_file(args.mask, "mask") if args.mask else None
    studio = Studio.open(load_settings())
    request = replace(request_from_args(args, studio.settings.model), input_fidelity=args.input_fidelity)
    outcome = studio.edit(request, images, mask)
    if outcome.error:
        print(f"error: {outcome.error.message} (generation {outcome.generation_id} recorded as failed)", file=sys.stderr)
        return 1
    print(json.dumps(outcome_json(outcome)))
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database_url)
    print("database is at the newest schema", file=sys.stderr)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from studio.files.filemeta import read_metadata

    try:
        data = read_location(args.file)
    except OSError:
        print(f"error: there is no file {args.file}; give the path of a PNG, JPEG or WebP image.", file=sys.stderr)
        return 1
    metadata = read_metadata(data)
    if metadata is None:
        print(f"error: {args.file} carries no Image Studio metadata.", file=sys.stderr)
        return 1
    print(json.dumps(metadata, ensure_ascii=False, indent=2))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from studio.services.gallery import GalleryService

    studio = Studio.open(load_settings())
    report = GalleryService(studio).doctor(fix=args.fix)
    print(json.dumps({"healthy": report.healthy, **asdict(report)}, indent=2))
    return 0 if report.healthy or args.fix else 1


def cmd_export(args: argparse.Namespace) -> int:
    from studio.services.gallery import GalleryService

    studio = Studio.open(load_settings())
    library = GalleryService(studio)
    ids = [image_id for image_id, *_ in library.browse.file_rows()]
    library.export_zip(ids, args.zip)
    print(json.dumps({"zip": args.zip, "images": len(ids)}))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from studio.services.gallery import GalleryService

    studio = Studio.open(load_settings())
    report = GalleryService(studio).import_zip(Path(args.zip))
    print(json.dumps(asdict(report)))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "generate": cmd_generate, "edit": cmd_edit, "migrate": cmd_migrate, "compare": cmd_compare, "spend": cmd_spend,
    "inspect": cmd_inspect, "doctor": cmd_doctor, "export": cmd_export, "import": cmd_import,
    "migrate-storage": cmd_migrate_storage, "copy-database": cmd_copy_database,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m studio", description="Image Studio from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_request_arguments(commands.add_parser("generate", help="generate images into the gallery; prints JSON"))
    edit = commands.add_parser("edit", help="edit images (the first is the one edited) into the gallery; prints JSON")
    add_request_arguments(edit)
    edit.add_argument("--image", action="append", required=True, metavar="FILE",
                      help="a reference image (PNG, WebP or JPEG); repeat for up to 16, the first is edited")
    edit.add_argument("--mask", metavar="PNG", help="PNG the first image's size; its transparent pixels mark what to change")
    edit.add_argument("--input-fidelity", dest="input_fidelity", help="low or high: how closely to keep the input's details")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("inspect", help="print the prompt and settings saved inside an image file, as JSON").add_argument("file")
    doctor = commands.add_parser("doctor", help="check that the gallery's rows and files agree")
    doctor.add_argument("--fix", action="store_true", help="settle what it finds: drop rows whose file is gone, take stray images back in, remove stray thumbnails, rebuild missing ones")
    commands.add_parser("export", help="write every image and a metadata.jsonl to a zip").add_argument("zip")
    commands.add_parser("import", help="add the images of an exported zip, skipping ones already kept").add_argument("zip")
    add_compare_parser(commands)
    add_spend_parser(commands)
    add_migrate_storage_parser(commands)
    add_copy_database_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValidationError, StudioError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
