"""`python -m studio migrate | doctor | export | import | copy-database | migrate-storage`: looking after a gallery."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from studio.core.config import load_settings
from studio.services.archive import check_export_target
from studio.services.gallery import GalleryService
from studio.services.moves import copy_database, move_storage
from studio.services.studio import Studio


def cmd_migrate(_args: argparse.Namespace) -> int:
    Studio.open(load_settings())  # makes the data folder and migrates the schema (and settles dead requests) as every start does
    print("database is at the newest schema", file=sys.stderr)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    report = GalleryService(studio).doctor(fix=args.fix)
    print(json.dumps({"healthy": report.healthy, **asdict(report)}, indent=2))
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 0 if report.healthy or args.fix else 1


def cmd_export(args: argparse.Namespace) -> int:
    settings = load_settings()
    check_export_target(settings, Path(args.zip), args.force)  # before the database is opened: a refusal touches nothing
    library = GalleryService(Studio.open(settings))
    ids = [image_id for image_id, *_ in library.images.file_rows()]
    report = library.export_file(ids, args.zip, args.force)
    print(json.dumps(asdict(report)))
    if report.missing:
        print(f"warning: {len(report.missing)} image(s) were not packed because their file is missing (their lines are kept); "
              "run `python -m studio doctor` to see why.", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    if not Path(args.zip).is_file():
        print(f"error: there is no file {args.zip}; give the path of a zip exported from a gallery.", file=sys.stderr)
        return 1
    report = GalleryService(studio).import_zip(Path(args.zip))
    print(json.dumps(asdict(report)))
    for problem in report.problems:  # the import went on past each; said here in full, one a line
        print(f"problem: {problem}", file=sys.stderr)
    return 0


def add_copy_database_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "copy-database", help="copy the gallery's rows into another (empty) database, e.g. PostgreSQL",
        description="Copies every row from STUDIO_DATABASE_URL (default the SQLite file in the data folder) into --to, "
        "in one transaction. Then set STUDIO_DATABASE_URL to the --to value and restart.",
    )
    parser.add_argument("--to", required=True, help="postgresql+psycopg://user:password@host:5432/db (password from a secret)")


def cmd_copy_database(args: argparse.Namespace) -> int:
    counts = copy_database(load_settings(), args.to)
    print(json.dumps({"copied": counts}))
    print("The gallery's rows are in the new database: set STUDIO_DATABASE_URL to it and restart the studio.", file=sys.stderr)
    return 0


def add_migrate_storage_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "migrate-storage", help="copy the gallery's files to object storage (or back); safe to stop and re-run",
        description="Copies every file the gallery's rows point to from the current storage (STUDIO_STORAGE_URL, "
        "default the data folder) to --to. Then set STUDIO_STORAGE_URL to the --to value and restart.",
    )
    parser.add_argument("--to", required=True, help="s3://bucket/prefix or a folder")
    parser.add_argument("--from", dest="source", help="default: STUDIO_STORAGE_URL or the data folder")
    parser.add_argument("--workers", type=int, default=8)


def cmd_migrate_storage(args: argparse.Namespace) -> int:
    def progress(done: int, total: int, path: str, result: str) -> None:
        print(f"{done}/{total} {result} {path}", file=sys.stderr, flush=True)

    report = move_storage(load_settings(), args.to, args.source, max(1, min(args.workers, 32)), progress)
    print(json.dumps(report.as_json()))
    if not report.complete:
        print(f"error: {len(report.missing)} missing and {len(report.damaged)} damaged files were not copied; "
              "run `python -m studio doctor` on the old storage, then this again.", file=sys.stderr)
        return 1
    print(f"All {report.total} files are in {report.target}: set STUDIO_STORAGE_URL={report.target} and restart the studio.",
          file=sys.stderr)
    return 0


def add_admin_parsers(commands: Any) -> None:
    commands.add_parser("migrate", help="bring the database schema up to date")
    doctor = commands.add_parser("doctor", help="check that the gallery's rows and files agree")
    doctor.add_argument("--fix", action="store_true", help="settle what it finds: drop rows whose file is gone, take stray images back in, remove stray thumbnails, rebuild missing ones")
    export = commands.add_parser("export", help="write every image and a metadata.jsonl to a zip",
                                 description="Writes a new zip (never into the data folder's database or image folders).")
    export.add_argument("zip", help="the zip to write, e.g. ~/gallery-export.zip")
    export.add_argument("--force", action="store_true", help="replace an existing zip (an earlier export) at that path")
    commands.add_parser("import", help="add the images of an exported zip, skipping ones already kept").add_argument("zip")
    add_migrate_storage_parser(commands)
    add_copy_database_parser(commands)
