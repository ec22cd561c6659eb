"""A limit on the whole of each HTTP attempt, body and stream included.

The client's timeout bounds each read, not the request: a body trickled a piece a second, or an event
stream of keep-alive comments, never trips it and runs on for as long as the provider likes. Each attempt
gets a watchdog: when STUDIO_TIMEOUT_S has passed it shuts the connection's socket (which wakes a blocked
read at once), and every chunk read after that raises. `send_request` opens a `deadline_scope` so that it
can tell "stopped by the limit" from a provider that hung up.
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import httpx2

_local = threading.local()


class DeadlinePassed(httpx2.ReadTimeout):
    """Raised while reading once the attempt's limit has passed; a timeout to the client and its retries."""


class _Clock:
    """One daemon thread for every watchdog of the process: a thread per attempt would cost a thread start on
    each request's path (most of a millisecond on a busy machine), while a heap costs microseconds."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watchdog]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._count = 0

    def watch(self, watchdog: "Watchdog") -> None:
        with self._wake:
            self._count += 1
            heapq.heappush(self._heap, (watchdog.deadline, self._count, watchdog))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="studio-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0][2] is watchdog:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _deadline, _order, watchdog = heapq.heappop(self._heap)
            watchdog.expire()


_clock = _Clock()


class Watchdog:
    def __init__(self, limit_s: float):
        self.limit_s = limit_s
        self.deadline = time.monotonic() + limit_s
        self.passed = False
        self.answering = False  # headers are in: from here on only this watchdog bounds the attempt
        self._done = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        _clock.watch(self)

    def attach(self, response: httpx2.Response) -> None:
        """Watch this attempt's response: its socket is shut at the deadline, its chunks checked as they come."""
        network_stream = response.extensions.get("network_stream")
        sock = network_stream.get_extra_info("socket") if network_stream is not None else None
        with self._lock:
            self._socket = sock
            self.answering = True
        response.stream = _Guarded(response.stream, self)  # type: ignore[assignment]
        if self.overdue():
            raise DeadlinePassed(f"no complete answer within {self.limit_s:g} s")

    def overdue(self) -> bool:
        if not self.passed and time.monotonic() > self.deadline:
            self.passed = True
        return self.passed

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.passed = True
            if self._socket is not None:
                try:
                    self._socket.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed

    def finish(self) -> None:
        """The attempt is over: never touch its socket again (the connection may serve another request)."""
        with self._lock:
            self._done = True  # its heap entry stays until the deadline and is then ignored
            self._socket = None


class _Guarded(httpx2.SyncByteStream):
    def __init__(self, inner: Any, watchdog: Watchdog):
        self._inner = inner
        self._watchdog = watchdog

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if self._watchdog.overdue():
                raise DeadlinePassed(f"no complete answer within {self._watchdog.limit_s:g} s")
            yield chunk

    def close(self) -> None:
        self._watchdog.finish()  # before the connection can go back to the pool
        self._inner.close()


class Scope:
    def __init__(self) -> None:
        self.watchdogs: list[Watchdog] = []

    @property
    def passed(self) -> bool:
        """A watchdog stopped an answer in progress (before the headers, the client's own timeout speaks)."""
        return any(w.passed and w.answering for w in self.watchdogs)

    def finish(self) -> None:
        for watchdog in self.watchdogs:
            watchdog.finish()


@contextmanager
def deadline_scope() -> Iterator[Scope]:
    """The watchdogs of every attempt (retries included) made on this thread inside the block."""
    scope, previous = Scope(), getattr(_local, "scope", None)
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = previous
        scope.finish()


def hooks(limit_s: float) -> dict[str, list[Any]]:
    """httpx event hooks that give each attempt a watchdog (the request hook runs as the attempt is sent,
    the response hook once its headers are in, before the body is read)."""

    def on_request(_request: httpx2.Request) -> None:
        watchdog = Watchdog(limit_s)
        _local.current = watchdog
        scope = getattr(_local, "scope", None)
        if scope is not None:
            scope.watchdogs.append(watchdog)

    def on_response(response: httpx2.Response) -> None:
        watchdog = getattr(_local, "current", None)
        if watchdog is not None:
            _local.current = None
            watchdog.attach(response)

    return {"request": [on_request], "response": [on_response]}
