"""How a provider's asynchronous image tasks are submitted and polled: a preset's `[providers.KEY.tasks]` table.

Relays that run image requests as tasks answer a submit with a task id instead of image bytes, then answer
a poll of that id with a status and, once done, the images. `mode = "async"` sends the preset's `models`
(all of them when the list is empty) to `submit_path` and polls `poll_path`; in the default `mode = "sync"`
requests go to the plain path, and an answer that carries a task id anyway is still polled (see
provider/tasks.py). The defaults below are the common relay shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The statuses a task can be in, once normalised (provider/tasks.py `normalise_status`).
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED, UNKNOWN = (
    "queued", "running", "succeeded", "failed", "cancelled", "expired", "unknown")
FINAL = (SUCCEEDED, FAILED, CANCELLED, EXPIRED)

# Status words seen at relays (lower-cased) and what each means.
STATUS_WORDS: dict[str, str] = {
    "pending": QUEUED, "queued": QUEUED, "submitted": QUEUED, "not_start": QUEUED, "not_started": QUEUED,
    "waiting": QUEUED, "created": QUEUED,
    "processing": RUNNING, "in_progress": RUNNING, "running": RUNNING, "started": RUNNING, "generating": RUNNING,
    "succeeded": SUCCEEDED, "completed": SUCCEEDED, "success": SUCCEEDED, "succeed": SUCCEEDED, "done": SUCCEEDED,
    "finished": SUCCEEDED,
    "failed": FAILED, "failure": FAILED, "fail": FAILED, "error": FAILED,
    "cancelled": CANCELLED, "canceled": CANCELLED,
    "expired": EXPIRED, "timeout": EXPIRED,
}


@dataclass(frozen=True)
class TaskApi:
    mode: str = "sync"  # "async": send `models` as tasks; "sync": the plain path (a task id in its answer is still polled)
    models: tuple[str, ...] = ()  # the models sent as tasks in async mode; empty: every model
    submit_path: str = "/images/generations/async"  # relative to the base URL
    edit_submit_path: str = "/images/edits/async"
    poll_path: str = "/tasks/{task_id}"  # `{task_id}` is replaced; a poll_url on the same host wins
    id_field: str = "task_id"  # where the id is in a submit answer (`id`, `data.task_id`, `data.0.task_id` are tried too)
    status_field: str = "status"  # in a poll answer, or inside its `data` object
    result_field: str = "result.images"  # where the images are when not in an OpenAI-style `data` list
    error_field: str = "error"  # the provider's reason for a failed task (`fail_reason`, `message` are tried too)
    statuses: tuple[tuple[str, str], ...] = ()  # extra (word, meaning) pairs, from a table like {PAINTING = "running"}
    poll_interval_s: float = 3.0  # the first wait, unless the provider's Retry-After says otherwise
    max_interval_s: float = 15.0  # waits grow by half each poll up to this
    timeout_s: float = 900.0  # then the task id is kept and the request stays pending, to be resumed

    def sends_as_task(self, model: str) -> bool:
        return self.mode == "async" and (not self.models or model in self.models)


# What each field of a [providers.KEY.tasks] table must be.
TASK_FIELDS: dict[str, type | tuple[type, ...]] = {
    "mode": str, "models": list, "submit_path": str, "edit_submit_path": str, "poll_path": str, "id_field": str,
    "status_field": str, "result_field": str, "error_field": str, "statuses": dict,
    "poll_interval_s": (int, float), "max_interval_s": (int, float), "timeout_s": (int, float),
}
NORMAL = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED)


def task_api_problem(entry: Any, where: str) -> str | None:
    """What is wrong with a tasks table, said so that the user knows what to change; None when usable."""
    if not isinstance(entry, dict):
        return f"{where} must be a table ([{where}])."
    for name, value in entry.items():
        kind = TASK_FIELDS.get(name)
        if kind is None:
            return f"{where}.{name} is not a task setting; use one of {', '.join(TASK_FIELDS)}."
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{where}.{name} has the wrong type ({type(value).__name__})."
    if entry.get("mode", "sync") not in ("sync", "async"):
        return f"{where}.mode must be \"sync\" or \"async\"."
    for name in ("submit_path", "edit_submit_path", "poll_path"):
        if name in entry and not entry[name].startswith("/"):
            return f"{where}.{name} must be a path starting with / (relative to the base URL), e.g. \"/tasks/{{task_id}}\"."
    if "poll_path" in entry and "{task_id}" not in entry["poll_path"]:
        return f"{where}.poll_path must contain {{task_id}}, e.g. \"/tasks/{{task_id}}\"."
    for name in ("poll_interval_s", "max_interval_s", "timeout_s"):
        if name in entry and not 0 < entry[name] <= 86400:
            return f"{where}.{name} must be a number of seconds above 0 (at most 86400)."
    bad = [word for word, meaning in entry.get("statuses", {}).items() if meaning not in NORMAL]
    if bad:
        return f"{where}.statuses: {bad[0]!r} must map to one of {', '.join(NORMAL)}."
    if not all(isinstance(m, str) for m in entry.get("models", [])):
        return f"{where}.models must be a list of model names."
    return None


def task_api_from(entry: dict[str, Any] | None) -> TaskApi:
    """A checked tasks table (see task_api_problem) as a TaskApi; None or {} is the default (sync) shape."""
    if not entry:
        return TaskApi()
    values = dict(entry)
    if "models" in values:
        values["models"] = tuple(values["models"])
    if "statuses" in values:
        values["statuses"] = tuple((str(k).lower(), v) for k, v in values["statuses"].items())
    for name in ("poll_interval_s", "max_interval_s", "timeout_s"):
        if name in values:
            values[name] = float(values[name])
    return TaskApi(**values)
