"""The one error type the studio shows to people: a short message that says what happened and what to do."""

from __future__ import annotations


class StudioError(Exception):
    def __init__(self, message: str, code: str = "error", http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status

    def __str__(self) -> str:
        return self.message
