"""Sign-in for a shared deployment (STUDIO_PASSWORD): the password check, a growing wait after wrong
guesses, and the signed cookie that keeps a browser signed in across reloads.

The cookie is `<expiry>.<nonce>.<signature>`: an HMAC-SHA256 over the first two parts, keyed by the
password and a random secret kept in the data dir. Nothing secret is in the cookie; it cannot be made
without the server's secret, it stops working at its expiry, and changing the password (or deleting the
secret file) signs every browser out."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Hashable, Iterable

from studio.core.errors import StudioError

COOKIE_NAME = "studio_session"
SESSION_S = 7 * 24 * 3600  # a week: a designer is not asked again every morning
SECRET_FILE = ".session-secret"


def password_matches(given: str, expected: str) -> bool:
    """Compare in constant time, so the answer's timing says nothing about how much of a guess was right."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


# --- a growing wait after wrong guesses ---------------------------------------------------------------

@dataclass
class _Record:
    failures: int = 0
    not_before: float = 0.0
    last: float = 0.0


@dataclass
class Throttle:
    """Wrong guesses per key (a browser session, a client address): the first `free` cost nothing (a typo),
    then each makes the next guess wait twice as long, from `base_s` up to `max_s`. A guess while the wait
    runs is not checked at all. Keys nobody used for `forget_s` are dropped, so memory stays small."""

    free: int = 2
    base_s: float = 1.0
    max_s: float = 300.0
    forget_s: float = 3600.0
    _records: dict[Hashable, _Record] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def delay_after(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        return min(self.base_s * 2 ** (failures - self.free - 1), self.max_s)

    def wait_s(self, keys: Iterable[Hashable], now: float | None = None) -> float:
        """How long these keys must still wait before a guess is checked (0: go ahead)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max([0.0, *(r.not_before - now for k in keys if (r := self._records.get(k)))])

    def failed(self, keys: Iterable[Hashable], now: float | None = None) -> float:
        """Count a wrong guess against every key; returns the wait before the next one."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            self._forget_old(now)
            for key in keys:
                record = self._records.setdefault(key, _Record())
                record.failures += 1
                record.last = now
                record.not_before = now + self.delay_after(record.failures)
                wait = max(wait, record.not_before - now)
        return wait

    def succeeded(self, keys: Iterable[Hashable]) -> None:
        with self._lock:
            for key in keys:
                self._records.pop(key, None)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, r in self._records.items() if now - r.last > max(self.forget_s, r.not_before - r.last)]:
            del self._records[key]


# --- the signed cookie --------------------------------------------------------------------------------

def session_key(password: str, data_dir: Path) -> bytes:
    """The signing key: the password with a random per-data-dir secret (made on first use, readable only
    by the owner), so a cookie from one deployment or one password is worthless in another. A data folder
    where the secret cannot be made (read-only) gets one for this process: sign-in still works, and a
    cookie lasts until the server restarts. A secret that is there but unusable is a StudioError."""
    path = data_dir / SECRET_FILE
    try:
        secret = _read_or_make_secret(path)
    except OSError as exc:
        if path.exists() or os.path.lexists(path):
            raise StudioError(f"{path} cannot be read ({exc.strerror}); delete it (every browser will have to sign in "
                              "again) or fix its permissions.", "session_secret") from None
        secret = _PROCESS_SECRET
    if len(secret) < 16:
        raise StudioError(f"{path} is damaged (too short); delete it to sign every browser out and start afresh.", "session_secret")
    return hmac.new(secret, password.encode("utf-8"), hashlib.sha256).digest()


_PROCESS_SECRET = secrets.token_bytes(32)  # for a data folder that cannot keep one


def _read_or_make_secret(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server process made it first
            return path.read_bytes()
        secret = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as out:
            out.write(secret)
            out.flush()
            os.fsync(out.fileno())
        return secret


def _signature(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()


def make_cookie(key: bytes, now: float | None = None, lifetime_s: int = SESSION_S) -> str:
    expiry = int((time.time() if now is None else now) + lifetime_s)
    payload = f"{expiry}.{secrets.token_hex(8)}"
    return f"{payload}.{_signature(key, payload)}"


def cookie_valid(key: bytes, cookie: str | None, now: float | None = None) -> bool:
    """True for a cookie this server signed that has not expired; anything else (tampered, expired,
    signed with another password or secret, garbage) is False."""
    if not cookie or len(cookie) > 200 or not cookie.isascii():
        return False
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit():
        return False
    if not hmac.compare_digest(_signature(key, f"{parts[0]}.{parts[1]}"), parts[2]):
        return False
    return int(parts[0]) > (time.time() if now is None else now)
