"""What a background job hands the studio's request path: where to say the generation row exists, and
whether the user cancelled while the request ran (the answer is then not kept)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from studio.core.errors import StudioError
from studio.core.wire import PartialCallback
from studio.provider import deadline

CANCELLED_RUNNING = ("Cancelled while its request was running: nothing was kept, and whether the provider bills "
                     "it is unknown (cost unknown).")


class JobCancelled(StudioError):
    """The job was cancelled while its request ran: the generation is recorded as failed with this message."""


@dataclass
class JobLink:
    job_id: int
    on_recorded: Callable[[int], None] = lambda _generation_id: None
    on_answered: Callable[[], None] = lambda: None  # the provider answered: what follows is local work
    cancelled_elsewhere: Callable[[], bool] = lambda: False  # the row says cancelled (from another process's tray)
    cancelled: threading.Event = field(default_factory=threading.Event)
    generation_id: int | None = None

    _attempts: Any = field(default=None, repr=False)  # the request's deadline scope, once it streams

    def watch(self, on_partial: PartialCallback) -> PartialCallback:
        """`on_partial` that also notes, on the request's own thread, the watchdogs of the request's attempts,
        so that `abort` can shut their connection (a streamed request has one as soon as its events flow)."""
        def watched(index: int, data: bytes) -> None:
            if self._attempts is None:
                # deadline_scope() keeps the attempts of the request running on this thread here.
                self._attempts = getattr(deadline._local, "scope", None)  # noqa: SLF001 - see above
                if self.cancelled.is_set():
                    self.abort()
            on_partial(index, data)
        return watched

    def abort(self) -> None:
        """Cancel: the answer is not kept, and a streamed request's connection is shut now (a plain request's
        answer is only known once it comes, and is then dropped)."""
        self.cancelled.set()
        attempts = self._attempts
        for watchdog in list(getattr(attempts, "watchdogs", ())):
            watchdog.expire()

    def cancelled_error(self, error: BaseException) -> BaseException:
        """What a request that failed after a cancel is recorded as: cancelled, not the error the abort caused."""
        return JobCancelled(CANCELLED_RUNNING, "cancelled") if self.cancelled.is_set() else error

    def recorded(self, generation_id: int) -> None:
        self.generation_id = generation_id
        self.on_recorded(generation_id)

    def check(self) -> None:
        """Called once the answer is in, before its files are saved."""
        self.on_answered()
        if not self.cancelled.is_set() and self.cancelled_elsewhere():
            self.cancelled.set()
        if self.cancelled.is_set():
            raise JobCancelled(CANCELLED_RUNNING, "cancelled")
