"""Numbers, ids and dates read from a URL's query parameters, which anyone can type or edit.

Only ASCII digits count (`str.isdigit()` is true for "²" and "٣", which int() then refuses or reads),
every number is bounded (an id past what a database column holds made SQLite and PostgreSQL raise
OverflowError), and a date must be a plain YYYY-MM-DD within years a gallery can hold, so a day after
it still exists. A bad value gives a sentence saying what was wrong; the caller drops the value and
shows the sentence. Nothing here raises."""

from __future__ import annotations

import re
from datetime import date

MAX_ID = 2**63 - 1  # the largest BIGINT; SQLite's INTEGER is the same 8 bytes
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
_DIGITS = re.compile(r"[0-9]{1,19}")  # 19 digits already exceed MAX_ID: longer input is never parsed
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def shown(raw: str) -> str:
    """A URL value quoted for a message, shortened: a link can carry anything, of any length."""
    text = raw if len(raw) <= 40 else raw[:37] + "…"
    return repr(text)


def parse_number(raw: str | None, name: str, low: int = 1, high: int = MAX_ID) -> tuple[int | None, str | None]:
    """(value, None) for ASCII digits within [low, high]; (None, None) when absent or empty;
    (None, problem) otherwise."""
    if raw is None or raw == "":
        return None, None
    if _DIGITS.fullmatch(raw) and low <= int(raw) <= high:
        return int(raw), None
    if _DIGITS.fullmatch(raw) or (len(raw) > 19 and raw.isascii() and raw.isdigit()):
        return None, f"{name}={shown(raw)} in the link is out of range (from {low} to {high}); it was ignored."
    return None, f"{name}={shown(raw)} in the link is not a whole number written with the digits 0-9; it was ignored."


def parse_id(raw: str | None, name: str) -> tuple[int | None, str | None]:
    """A row id: 1 to 2**63 - 1."""
    return parse_number(raw, name, 1, MAX_ID)


def parse_day(raw: str | None, name: str) -> tuple[date | None, str | None]:
    """A YYYY-MM-DD date from 1970-01-01 to 2999-12-31."""
    if raw is None or raw == "":
        return None, None
    match = _DAY.fullmatch(raw)
    if match is None:
        return None, f"{name}={shown(raw)} in the link is not a date written YYYY-MM-DD; that filter was dropped."
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None, f"{name}={shown(raw)} in the link is not a date on the calendar; that filter was dropped."
    if not FIRST_DAY <= day <= LAST_DAY:
        return None, f"{name}={shown(raw)} in the link is outside {FIRST_DAY} to {LAST_DAY}; that filter was dropped."
    return day, None
