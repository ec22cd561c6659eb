"""`python -m studio index-prompts` (the backfill of prompt vectors, in the foreground with progress) and
`python -m studio search-meaning TEXT` / `--like ID` (the closest generations, one JSON line each)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from studio.core.config import load_settings
from studio.services import meaning, meaning_index
from studio.services.studio import Studio


def add_meaning_parsers(commands: Any) -> None:
    index = commands.add_parser("index-prompts", help="give every generation without them its prompt vectors (search by meaning)",
                                description="Resumable: stopped half way, it goes on from the first generation still without vectors.")
    index.add_argument("--batch", type=int, default=meaning_index.BATCH, help="generations embedded and committed at a time")
    search = commands.add_parser("search-meaning", help="the generations whose prompts mean about the same as TEXT")
    search.add_argument("text", nargs="?", default="", help="what the picture showed, in any words")
    search.add_argument("--like", type=int, help="instead of TEXT: the generations nearest to this generation id")
    search.add_argument("--limit", type=int, default=10)


def cmd_index_prompts(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    done = meaning_index.backfill(studio.vectors, max(1, args.batch),
                                  on_batch=lambda count: print(f"{count:,} generations indexed", file=sys.stderr))
    counts = meaning_index.stored_coverage(studio.vectors)
    print(json.dumps({"indexed_now": done, "indexed": counts.indexed, "generations": counts.total}))
    return 0


def cmd_search_meaning(args: argparse.Namespace) -> int:
    studio = Studio.open(load_settings())
    for hit, prompt in meaning.closest_prompts(studio, args.text, args.like, max(1, args.limit)):
        print(json.dumps({"generation_id": hit.generation_id, "score": round(hit.score, 3), "prompt": prompt}))
    return 0
