"""What a background job hands the studio's request path: where to say the generation row exists, and
whether the user cancelled while the request ran (the answer is then not kept)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from studio.core.errors import StudioError

CANCELLED_RUNNING = ("Cancelled while its request was running: nothing was kept, and whether the provider bills "
                     "it is unknown (cost unknown).")


class JobCancelled(StudioError):
    """The job was cancelled while its request ran: the generation is recorded as failed with this message."""


@dataclass
class JobLink:
    job_id: int
    on_recorded: Callable[[int], None] = lambda _generation_id: None
    on_answered: Callable[[], None] = lambda: None  # the provider answered: what follows is local work
    cancelled: threading.Event = field(default_factory=threading.Event)
    generation_id: int | None = None

    def recorded(self, generation_id: int) -> None:
        self.generation_id = generation_id
        self.on_recorded(generation_id)

    def check(self) -> None:
        """Called once the answer is in, before its files are saved."""
        self.on_answered()
        if self.cancelled.is_set():
            raise JobCancelled(CANCELLED_RUNNING, "cancelled")
