"""Sign-in for a shared deployment."""

from __future__ import annotations

import hmac


def password_matches(given: str, expected: str) -> bool:
    """Compare in constant time, so the answer's timing says nothing about how much of a guess was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
