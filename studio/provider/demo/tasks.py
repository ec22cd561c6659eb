"""The demo endpoint's asynchronous image tasks, in the two shapes relays use.

- `POST /v1/images/generations/async` (or `/v1/images/edits/async`) answers 202 with a task id, a `poll_url`,
  a `Location` header and `Retry-After`; `GET /v1/images/generations/{id}` answers `status` (queued,
  processing, completed, failed, cancelled, expired), `progress`, and once completed the usual `data` list.
- The plain path answers `data[0] = {"status": "submitted", "task_id": ...}` for a model in
  `DemoConfig.task_models` or a prompt with `[demo:task]`; `GET /v1/tasks/{id}` answers
  `{"code": "success", "data": {"status": NOT_START | IN_PROGRESS | SUCCESS | FAILURE | CANCELLED | expired,
  "progress": "50%", "fail_reason", "result": {"images": [{"url": [...]}]}}}`.
Either poll path serves any task. A task is queued for the first third of its run time
(`[demo:task_s=SECONDS]`, default `DemoConfig.task_s`), then running, then done as its fate says
(`[demo:task_fate=fail|expire|queued|cancel|gone|empty]`, default succeed; `queued` never leaves the queue, `gone`
answers every poll 404, `empty` completes without images). `[demo:task_no_id]`: the async submit names no task. `[demo:submit_lost]`: the first submit starts the task but
is answered 502; a retry with the same Idempotency-Key gets the task it started. `[demo:dead_urls]`: result URLs nothing answers. `[demo:poll_busy=N]`: the first N polls of the task answer 429 with Retry-After;
`[demo:poll_down=N]`: the first N answer a proxy's 502 page.
Tasks live in the server process, so they outlive any studio that polls them.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from PIL import Image

from studio.provider.demo import transport
from studio.provider.demo.faults import ERRORS, ODD_ANSWERS, parse_directives
from studio.provider.demo.pictures import draw_edit, draw_image, encode_image

LOWER = {"queued": "queued", "running": "processing", "succeed": "completed", "empty": "completed", "fail": "failed", "cancel": "cancelled", "expire": "expired"}
UPPER = {"queued": "NOT_START", "running": "IN_PROGRESS", "succeed": "SUCCESS", "empty": "SUCCESS", "fail": "FAILURE", "cancel": "CANCELLED", "expire": "expired"}
FAIL_REASON = "The upstream image model reported an error: content generation failed (demo task fault)."
TASK_LIFETIME_S = 24 * 3600


@dataclass
class DemoTask:
    id: str
    body: dict[str, Any]
    run_s: float
    fate: str  # succeed, fail, expire, queued, cancel, gone
    busy_polls: int = 0  # polls still to answer 429
    down_polls: int = 0  # polls still to answer 502 with a proxy's page, before the 429s
    dead_urls: bool = False  # result URLs on a port nothing listens on: a file host that is down
    sources: list[Image.Image] | None = None
    mask: Image.Image | None = None
    started: float = field(default_factory=time.monotonic)
    created: int = field(default_factory=lambda: int(time.time()))
    images: list[tuple[bytes, str]] | None = None  # drawn once, when first asked for after it is done
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stage(self) -> str:
        """queued, running, or the fate once the run time has passed."""
        elapsed = time.monotonic() - self.started
        if self.fate == "gone":  # a provider that forgot the task (restarted, or past its lifetime): 404 at once
            return "gone"
        if self.fate == "queued" or elapsed < self.run_s / 3:
            return "queued"
        return "running" if elapsed < self.run_s else self.fate

    def progress(self) -> int:
        return min(100, int(100 * (time.monotonic() - self.started) / self.run_s)) if self.run_s else 100

    def pictures(self) -> list[tuple[bytes, str]]:
        with self.lock:
            if self.images is None:
                body, fmt = self.body, str(self.body.get("output_format") or "png")
                size, prompt = str(body.get("size") or "auto"), str(body.get("prompt"))
                drawn = [draw_edit(prompt, self.sources, self.mask, size, i) if self.sources else
                         draw_image(prompt, size, fmt, str(body.get("background") or "auto"), i, str(body.get("quality") or "auto"))
                         for i in range(int(body.get("n") or 1))]
                self.images = [(encode_image(picture, fmt, body.get("output_compression")), fmt) for picture in drawn]
            return self.images


def start_task(handler: BaseHTTPRequestHandler, body: dict[str, Any], directives: dict[str, str],
               sources: list[Image.Image] | None, mask: Image.Image | None) -> DemoTask:
    config = handler.server.config  # type: ignore[attr-defined]
    key = handler.headers.get("Idempotency-Key")
    with config.lock:
        if key and key in config.task_keys:  # a retried submit: the task it already started
            return config.tasks[config.task_keys[key]]
    task = DemoTask(id=f"imgtask_{uuid.uuid4().hex[:24]}", body=body,
                    run_s=float(directives.get("task_s") or config.task_s), fate=directives.get("task_fate") or config.task_fate or "succeed",
                    busy_polls=int(directives.get("poll_busy") or 0), sources=sources, mask=mask,
                    down_polls=int(directives.get("poll_down") or 0), dead_urls="dead_urls" in directives)
    with config.lock:
        config.tasks[task.id] = task
        config.tasks_submitted += 1
        if key:
            config.task_keys[key] = task.id
    if "submit_lost" in directives and config.task_keys.get(f"lost:{key}") is None:
        config.task_keys[f"lost:{key}"] = task.id  # the task is started, but the first answer is lost (a 502)
        raise SubmitLost
    return task


class SubmitLost(Exception):
    """The task was started, and the answer to its submit is lost on the way back (see `[demo:submit_lost]`)."""


def answer_submitted(handler: BaseHTTPRequestHandler, task: DemoTask, plain: bool) -> None:
    """The submit's answer: the plain path's `data[0]` with status submitted, or the async path's 202."""
    if plain:
        transport.send(handler, 200, json.dumps({"created": task.created, "data": [{"status": "submitted", "task_id": task.id}]}).encode())
        return
    config = handler.server.config  # type: ignore[attr-defined]
    if "task_no_id" in parse_directives(str(task.body.get("prompt"))):  # a relay that forgot to say which task
        transport.send(handler, 202, json.dumps({"object": "image.task", "status": "queued"}).encode())
        return
    poll_url = f"http://{handler.headers.get('Host')}/v1/images/generations/{task.id}"
    answer = {"id": task.id, "task_id": task.id, "object": "image.task", "status": "queued", "poll_url": poll_url,
              "created_at": task.created, "expires_at": task.created + TASK_LIFETIME_S}
    transport.send(handler, 202, json.dumps(answer).encode(), headers=_retry_headers(config.task_poll_s) | {"Location": poll_url})


def _retry_headers(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds))), "retry-after-ms": str(int(seconds * 1000))}


def answer_get(handler: BaseHTTPRequestHandler, path: str) -> bool:
    """Answer `GET /v1/tasks/{id}`, `GET /v1/images/generations/{id}`, or `GET /demo/stats` (what a test in another
    process can ask: requests, tasks submitted, polls); False when the path is none of them."""
    config = handler.server.config  # type: ignore[attr-defined]
    if path == "/demo/stats":
        transport.send(handler, 200, json.dumps({"requests_seen": config.requests_seen, "tasks_submitted": config.tasks_submitted,
                                                 "task_polls": config.task_polls}).encode())
        return True
    plain = path.startswith("/v1/tasks/")
    if not (plain or path.startswith("/v1/images/generations/")):
        return False
    task = config.tasks.get(path.rsplit("/", 1)[-1])
    with config.lock:
        config.task_polls += 1
        down = task is not None and task.down_polls > 0
        busy = not down and task is not None and task.busy_polls > 0
        if down:
            task.down_polls -= 1  # type: ignore[union-attr]
        elif busy:
            task.busy_polls -= 1  # type: ignore[union-attr]
    if down:
        status, content_type, page = ODD_ANSWERS["html_502"]
        transport.send(handler, status, page, content_type)
        return True
    if busy:
        status, error = ERRORS["429"]
        transport.send(handler, status, json.dumps({"error": error}).encode(), headers=_retry_headers(config.task_poll_s))
        return True
    stage = task.stage() if task is not None else "gone"
    if stage == "gone":
        transport.send(handler, 404, json.dumps({"error": {"message": "Task not found.", "type": "invalid_request_error", "param": None, "code": "task_not_found"}}).encode())
        return True
    host = handler.headers.get("Host")
    answer = _plain_answer(task, stage, host, config) if plain else _async_answer(task, stage, host, config)  # type: ignore[arg-type]
    transport.send(handler, 200, json.dumps(answer).encode(), headers=None if stage not in ("queued", "running") else _retry_headers(config.task_poll_s))
    return True


def _urls(task: DemoTask, host: str | None, config: Any) -> list[str]:
    urls = []
    for index, (data, fmt) in enumerate(task.pictures()):
        name = f"{task.id}-{index}.{fmt}"
        config.files[name] = (data, f"image/{fmt}")
        urls.append(f"http://{'127.0.0.1:9' if task.dead_urls else host}/files/{name}")
    return urls


def _async_answer(task: DemoTask, stage: str, host: str | None, config: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": task.id, "object": "image.task", "status": LOWER[stage], "progress": task.progress(),
                              "created_at": task.created, "expires_at": task.created + TASK_LIFETIME_S}
    if stage == "fail":
        answer["error"] = {"message": FAIL_REASON, "code": "generation_failed"}
    elif stage == "succeed":
        prompt = str(task.body.get("prompt"))
        if task.body.get("response_format") == "url":
            items = [{"url": url} for url in _urls(task, host, config)]
        else:
            items = [{"b64_json": base64.b64encode(data).decode()} for data, _fmt in task.pictures()]
        answer["data"] = [item | {"revised_prompt": f"A detailed rendering of: {prompt}"} for item in items]
        answer["usage"] = {"input_tokens": 10, "output_tokens": 1056 * len(items), "total_tokens": 10 + 1056 * len(items)}
        answer["output_format"] = task.pictures()[0][1]
    return answer


def _plain_answer(task: DemoTask, stage: str, host: str | None, config: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"task_id": task.id, "status": UPPER[stage], "progress": f"{task.progress()}%",
                            "expires_at": task.created + TASK_LIFETIME_S, "estimated_time": task.run_s}
    if stage == "fail":
        data["fail_reason"] = FAIL_REASON
    elif stage == "succeed":
        data["result"] = {"images": [{"url": [url]} for url in _urls(task, host, config)]}
    return {"code": "success", "data": data}


def answers_as_task(config: Any, body: dict[str, Any], directives: dict[str, str]) -> bool:
    """Whether the plain path answers this request with a task id instead of images."""
    return "task" in directives or str(body.get("model")) in config.task_models
