"""What a demo endpoint is set to do (its key, a fault for every request, delays) and what it has seen, which
tests read: how many requests arrived."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class DemoConfig:
    api_key: str | None = None  # when set, any other bearer token gets a 401
    fail: str | None = None
    delay_s: float = 0.0
    reject_response_format: bool = False  # behave like OpenAI, which refuses response_format for gpt-image models
    reject_stream: bool = False  # behave like a provider without streaming: 400 unknown_parameter 'stream'
    partial_delay_s: float = 0.0  # pause between streamed events, so a page can be seen showing a partial image
    stream_requests: int = 0  # how many stream=true requests arrived (rejected ones included)
    counters: dict[str, int] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests_seen: int = 0
    # Asynchronous tasks (demo/tasks.py): how long one runs, how it ends, the wait it asks between polls,
    # the models the plain path answers as tasks; the tasks themselves and what was seen of them.
    task_s: float = 1.0
    task_fate: str | None = None
    task_poll_s: float = 0.5
    task_models: tuple[str, ...] = ()
    tasks: dict = field(default_factory=dict)
    task_keys: dict = field(default_factory=dict)  # Idempotency-Key -> task id
    tasks_submitted: int = 0
    task_polls: int = 0

    def arrived(self) -> None:
        with self.lock:
            self.requests_seen += 1
