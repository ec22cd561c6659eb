"""The one check every value from outside passes before it reaches a column: an export's metadata line, the
metadata embedded in a file, or what a provider echoes back (`size`, `quality`, `usage`, ...).

The rules come from the columns themselves (type, string width) plus the ranges the API allows, so a new
column is covered without a new `if`. A value that fails is a *problem* (said so a person can fix the line
it came from); `clean_*` functions that must not fail (a paid provider answer) drop it to None instead.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text

from studio.core.pricing import MAX_TOKENS  # no image request uses more; beyond it a count is nonsense
from studio.db.models import Generation, Image

MAX_INT = 2**31 - 1  # the Integer columns are 32-bit on PostgreSQL
MAX_TEXT = 256 * 1024  # a prompt is at most 32,000 characters; anything far longer is not one of ours
# The API's own ranges, where narrower than the column's.
RANGES: dict[str, tuple[float, float]] = {
    "n": (1, 10), "output_compression": (0, 100), "partial_images": (0, 3), "frame_count": (2, 16), "batch_index": (0, 1000),
    "width": (1, 100_000), "height": (1, 100_000), "bytes": (0, MAX_INT), "latency_s": (0, 86_400 * 7),
    "http_status": (100, 599), "input_tokens": (0, MAX_TOKENS), "output_tokens": (0, MAX_TOKENS),
    "total_tokens": (0, MAX_TOKENS), "created": (0, MAX_INT),
}
_TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens")
_DETAIL_KEYS = ("image_tokens", "text_tokens")


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def value_problem(name: str, value: Any, column: Any) -> str | None:
    """Why `value` cannot be stored in `column`, said about the field `name`; None when it can (None always can)."""
    if value is None:
        return None
    kind = column.type
    wrong = f'"{name}" is not what it should be ({_short(value)})'
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else wrong
    if isinstance(kind, Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            return wrong
        low, high = RANGES.get(name, (-MAX_INT, MAX_INT))
        return None if low <= value <= high else f'"{name}" is {_short(value)}, outside {low:g} to {high:g}'
    if isinstance(kind, Float):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return wrong
        low, high = RANGES.get(name, (-1e12, 1e12))
        return None if low <= value <= high else f'"{name}" is {_short(value)}, outside {low:g} to {high:g}'
    if isinstance(kind, (String, Text)):
        if not isinstance(value, str):
            return wrong
        width = getattr(kind, "length", None) or MAX_TEXT
        if len(value) > width:
            return f'"{name}" is {len(value):,} characters, longer than the {width:,} it may hold'
        if "\x00" in value:
            return f'"{name}" holds a NUL character'
        return None if _is_utf8(value) else f'"{name}" holds a broken character (a lone UTF-16 surrogate, e.g. \\ud800)'

    if isinstance(kind, DateTime):
        return None if parse_datetime(value) else f'"{name}" is not an ISO date and time ({_short(value)})'
    if name == "usage":
        return None if isinstance(value, dict) else wrong
    return None


def parse_datetime(value: Any) -> datetime | None:
    """An aware datetime from an ISO string (or a datetime), or None; naive times are taken as UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    try:  # "0001-01-01T00:00+05:00" parses, but is before year 1 in UTC: no column can hold it
        parsed.astimezone(timezone.utc)
    except OverflowError:
        return None
    return parsed


def _problems(record: Mapping[str, Any], table: Any, skip: tuple[str, ...]) -> list[str]:
    return [problem for column in table.columns if column.key not in skip and column.key in record
            if (problem := value_problem(column.key, record[column.key], column))]


def generation_problems(record: Mapping[str, Any]) -> list[str]:
    """What is wrong with the generation fields of an export line or embedded metadata (the `id` is never taken)."""
    problems = _problems(record, Generation.__table__, ("id", "worker"))
    if isinstance(record.get("usage"), dict) and clean_usage(record["usage"]) != record["usage"]:
        problems.append(f'"usage" holds values that are not token counts ({_short(record["usage"])})')
    return problems


def image_problems(record: Mapping[str, Any]) -> list[str]:
    return _problems(record, Image.__table__, ("id", "generation_id", "path", "thumbnail_path"))


def clean_int(name: str, value: Any) -> int | None:
    """A provider's echoed number, kept only when it is a whole number in the field's range."""
    return value if value_problem(name, value, Generation.__table__.columns[name]) is None else None


def clean_text(name: str, value: Any) -> str | None:
    """A provider's echoed text, kept only when it fits its column: an odd echo must not cost the images."""
    return value if isinstance(value, str) and value_problem(name, value, Generation.__table__.columns[name]) is None else None


def clean_revised_prompt(value: Any) -> str | None:
    """A provider's `revised_prompt` as the gallery can keep it: text only (a number or a list is dropped),
    NUL taken out, a lone surrogate (JSON allows `\\ud800`, no database or UTF-8 file does) replaced by U+FFFD,
    cut to what the column holds. It is cleaned, never refused: the image it came with was paid for."""
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "")
    if not _is_utf8(value):
        value = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value[:MAX_TEXT] or None


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS else None


def clean_usage(usage: Any) -> dict[str, Any] | None:
    """The `usage` object with only sane token counts (whole, not negative, not absurd); None when none is left.

    Cost estimates read this stored object, so a nonsense count makes the cost "unknown", never a number."""
    if not isinstance(usage, Mapping):
        return None
    clean: dict[str, Any] = {}
    for key in _TOKEN_KEYS:
        if (count := _count(usage.get(key))) is not None:
            clean[key] = count
    details = usage.get("input_tokens_details")
    if isinstance(details, Mapping):
        kept = {key: count for key in _DETAIL_KEYS if (count := _count(details.get(key))) is not None}
        if kept:
            clean["input_tokens_details"] = kept
    return clean or None
