"""Asynchronous image tasks at relays: submit, then poll the task id until the images are there.

A submit answers a task id (202 from `/images/generations/async`, or `data[0] = {"status": "submitted",
"task_id": ...}` from the plain path); a poll answers a status, normalised here in one place
(`normalise_status`), and once done the images, as an OpenAI `data` list or as `result.images[].url`
(one URL or a list of URLs per image), downloaded at once (they expire). Every request goes through the
official client's low-level `post` / `get`, so headers, auth and timeouts are the client's.

The caller hears the task id (`on_task`) before the first poll, so that it can keep it: a process that
dies while polling leaves a task that another process polls again (`wait_for` with the stored TaskRef).
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

import httpx2
import openai
from openai import OpenAI

from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.core.task_api import CANCELLED, EXPIRED, FAILED, STATUS_WORDS, SUCCEEDED, UNKNOWN, TaskApi
from studio.core.wire import ApiResult, InputFile, ReturnedImage, TaskCallback, TaskRef, TaskState, TaskStatusCallback
from studio.provider.download import download

UNREACHABLE = ("download_unreachable", "download_timeout")  # a result URL that may work later
RESUME_HINT = "the studio polls it again at its next start, or run `python -m studio resume`"


class TaskPending(StudioError):
    """The task is not done within the time allowed (or cannot be polled now): its id is kept with the request,
    which stays pending, to be polled again."""


def normalise_status(word: Any, extra: Sequence[tuple[str, str]] = ()) -> str:
    """A provider's status word as one of queued / running / succeeded / failed / cancelled / expired, or
    unknown (polled again until the timeout). Case and `-`/space versus `_` do not matter."""
    if not isinstance(word, str):
        return UNKNOWN
    key = word.strip().lower().replace("-", "_").replace(" ", "_")
    return dict(extra).get(key) or STATUS_WORDS.get(key, UNKNOWN)


def dig(body: Any, dotted: str) -> Any:
    """`result.images` or `data.0.task_id` inside a JSON answer; None when any step is missing."""
    for step in dotted.split("."):
        if isinstance(body, dict):
            body = body.get(step)
        elif isinstance(body, list) and step.isdigit() and int(step) < len(body):
            body = body[int(step)]
        else:
            return None
    return body


def task_id_in(body: Any, api: TaskApi) -> str | None:
    """The task id an answer carries instead of images, or None when it carries none (or carries images)."""
    if not isinstance(body, dict):
        return None
    first = dig(body, "data.0")
    if isinstance(first, dict) and (first.get("b64_json") or first.get("url")):
        return None  # images: not a task
    for path in (api.id_field, f"data.{api.id_field}", f"data.0.{api.id_field}", "task_id", "data.task_id",
                 "data.0.task_id", "data.0.id", "id", "data.id"):
        value = dig(body, path)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            if path.endswith("id") and not path.endswith("task_id") and not _has_status(body, api):
                continue  # a bare `id` is only a task id next to a status
            return str(value).strip()
    return None


def _has_status(body: dict, api: TaskApi) -> bool:
    return any(dig(body, path) is not None for path in (api.status_field, f"data.{api.status_field}", f"data.0.{api.status_field}"))


def submit(client: OpenAI, request: ImageRequest, api: TaskApi, images: Sequence[InputFile] | None = None,
           mask: InputFile | None = None) -> tuple[TaskRef, float | None]:
    """Send the request to the task API's submit path: the task it started, and how long the provider asks to
    wait before the first poll (Retry-After). Failures are raised as the client raises them (the caller
    describes them as any request's)."""
    params = request.to_params()
    params.pop("stream", None)  # task paths refuse streaming
    params.pop("partial_images", None)
    # The client retries a submit that failed on the way (5xx, a dropped connection), and the provider may have
    # started the task already: one key for every attempt lets a relay that honours it start it once.
    headers = {"Idempotency-Key": f"studio-{uuid.uuid4().hex}"}
    if images is None:
        response = client.post(api.submit_path, body=params, cast_to=httpx2.Response, options={"headers": headers})
    else:
        files: list[tuple[str, Any]] = [("image" if len(images) == 1 else "image[]", f.as_tuple()) for f in images]
        if mask is not None:
            files.append(("mask", mask.as_tuple()))
        response = client.post(api.edit_submit_path, body=params, files=files, cast_to=httpx2.Response,
                               options={"headers": {**headers, "Content-Type": "multipart/form-data"}})
    try:
        body = response.json()
    except ValueError:
        raise StudioError("The provider's answer to the task submit was not JSON; check the base URL and the preset's "
                          "submit_path.", "malformed_response") from None
    ref = task_ref(client, body, api, response.headers.get("location"))
    if ref is None:
        raise StudioError("The provider answered the task submit without a task id; check the preset's id_field "
                          f"({api.id_field}).", "no_task_id")
    return ref, _retry_after(response.headers)


def task_ref(client: OpenAI, body: Any, api: TaskApi, location: str | None = None) -> TaskRef | None:
    """The task an answer names, with where to poll it: the answer's poll_url (or Location header) when it is on
    the provider's own host (the key is never sent anywhere else), else the preset's poll_path."""
    task_id = task_id_in(body, api)
    if task_id is None:
        return None
    poll_path = api.poll_path.replace("{task_id}", task_id)
    base = str(client.base_url).rstrip("/")
    for offered in (dig(body, "poll_url"), dig(body, "data.poll_url"), location):
        if isinstance(offered, str) and offered:
            if offered.startswith(base + "/"):
                poll_path = offered[len(base):]
                break
            if offered.startswith(urlsplit(base).path + "/") and not urlsplit(offered).netloc:
                poll_path = offered[len(urlsplit(base).path):]
                break
    expires = dig(body, "expires_at") or dig(body, "data.expires_at")
    return TaskRef(task_id, poll_path, time.time(), float(expires) if isinstance(expires, (int, float)) and not isinstance(expires, bool) else None)


def poll_once(client: OpenAI, ref: TaskRef, api: TaskApi) -> tuple[TaskState, Any, float | None]:
    """One poll: the task's state, the answer's body, and the wait its Retry-After asks for. Raises the client's
    errors (no retries: the poll loop decides when to ask again)."""
    response = client.get(ref.poll_path, cast_to=httpx2.Response, options={"max_retries": 0})
    ahead = _retry_after(response.headers)
    try:
        body = response.json()
    except ValueError:
        return TaskState(UNKNOWN, "not JSON"), None, ahead
    inner = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
    word = dig(inner, api.status_field)
    if word is None and inner is not body:
        word = dig(body, api.status_field)
    status = normalise_status(word, api.statuses)
    if status == UNKNOWN and isinstance(body, dict) and isinstance(body.get("data"), list) and body["data"]:
        status = SUCCEEDED if not _has_status(body, api) else status  # images without a status: done
    message = _reason(inner, api) or (_reason(body, api) if inner is not body else None)
    progress = dig(inner, "progress") if isinstance(inner, dict) else None
    return TaskState(status, str(word) if word is not None else "", message, progress), body, ahead


def _reason(body: Any, api: TaskApi) -> str | None:
    for path in (api.error_field, f"{api.error_field}.message", "fail_reason", "failure_reason", "message", "msg"):
        value = dig(body, path)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:300]
    return None


def _retry_after(headers: Any) -> float | None:
    """`retry-after-ms` or `Retry-After` (seconds), as the official client reads them; None when absent or odd."""
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        if headers.get("retry-after"):
            return max(0.0, float(headers["retry-after"]))
    except (TypeError, ValueError):
        return None
    return None


def wait_for(client: OpenAI, ref: TaskRef, api: TaskApi, on_status: TaskStatusCallback | None = None,
             timeout_s: float | None = None, first_wait_s: float | None = None,
             should_stop: Callable[[], bool] | None = None) -> ApiResult:
    """Poll until the task is done: its images (downloaded), or a StudioError saying why not. A task still not
    done after `timeout_s` (the preset's by default) raises TaskPending; so does a provider that cannot be
    polled (refused key, unreachable) at the end, since the task may yet finish there. `should_stop` (e.g. a
    job's cancel) is asked before each poll: when it says so, StudioError `cancelled` (the task runs on at the
    provider; its cost is unknown)."""
    limit = api.timeout_s if timeout_s is None else timeout_s
    deadline = time.monotonic() + limit
    wait = api.poll_interval_s if first_wait_s is None else first_wait_s
    last: TaskState | None = None
    trouble: str | None = None
    while True:
        _pause(max(0.0, min(wait, deadline - time.monotonic())), should_stop)
        if should_stop is not None and should_stop():
            raise StudioError(f"Cancelled while waiting for the provider's task {ref.task_id}; it may still run (and be "
                              "billed) there.", "cancelled")
        ahead = None
        try:
            state, body, ahead = poll_once(client, ref, api)
            trouble = None
        except openai.NotFoundError:
            raise StudioError(f"The provider no longer knows task {ref.task_id} (404): it expired or was removed; no image "
                              "was returned.", "task_expired", 404) from None
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise TaskPending(f"Polling task {ref.task_id} was refused (HTTP {exc.status_code}); check the API key. The "
                                  f"task id is kept with the request, which stays pending: {RESUME_HINT}.", "task_pending",
                                  exc.status_code) from None
            trouble = f"HTTP {exc.status_code}"
            ahead = _retry_after(exc.response.headers)
            state = None
        except (openai.APIConnectionError, httpx2.HTTPError):
            trouble, state = "the provider could not be reached", None
        if state is not None:
            if on_status is not None and (last is None or (state.status, state.word) != (last.status, last.word)):
                on_status(state)
            last = state
            if state.status == SUCCEEDED:
                try:
                    return task_result(body, api, ref)
                except StudioError as exc:
                    if exc.code not in UNREACHABLE:
                        raise
                    # Paid and ready, but its files cannot be fetched now: the task is polled again later.
                    raise TaskPending(f"The provider's task {ref.task_id} finished, but its images could not be downloaded "
                                      f"now ({exc.message.rstrip('.')}). Its id is kept with the request, which stays "
                                      f"pending: {RESUME_HINT}.", "task_pending") from None
            if state.status == FAILED:
                said = f": {state.message}" if state.message else " (it gave no reason)"
                raise StudioError(f"The provider's task failed{said}", "task_failed")
            if state.status == CANCELLED:
                raise StudioError(f"The provider cancelled task {ref.task_id}; no image was returned.", "task_cancelled")
            if state.status == EXPIRED:
                raise StudioError(f"Task {ref.task_id} expired at the provider before it delivered an image; try again.",
                                  "task_expired")
        if time.monotonic() >= deadline:
            now = last.word or last.status if last is not None else "not answered"
            why = f" (last poll: {trouble})" if trouble else ""
            raise TaskPending(f"The provider's task {ref.task_id} is still {now} after {limit:g} s{why}. Its id is kept with "
                              f"the request, which stays pending: {RESUME_HINT}.", "task_pending")
        # The provider's Retry-After when it gives one; otherwise half as long again each time (trouble included).
        wait = ahead if ahead is not None else min(api.max_interval_s, max(wait, api.poll_interval_s) * 1.5)


def _pause(seconds: float, should_stop: Callable[[], bool] | None) -> None:
    """Sleep, waking every 0.1 s to ask `should_stop`, so a cancel is not kept waiting for a long Retry-After."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.1) if should_stop is not None else left)
        if should_stop is not None and should_stop():
            return


def task_result(body: Any, api: TaskApi, ref: TaskRef) -> ApiResult:
    """A finished task's images as the same result a synchronous answer gives."""
    inner = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
    items: list[Any] = []
    for source in (body, inner):
        if isinstance(source, dict) and isinstance(source.get("data"), list):
            items = source["data"]
            break
    if not items:
        found = dig(inner, api.result_field) or dig(inner, "result.data") or dig(inner, "images") or dig(body, api.result_field)
        items = found if isinstance(found, list) else []
    images: list[ReturnedImage] = []
    for item in items:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            continue
        urls = item.get("url")
        for url in urls if isinstance(urls, list) else [urls]:
            images.append(_returned(item, url))
    if not images:
        raise StudioError(f"The provider's task {ref.task_id} finished but returned no images; check the preset's "
                          f"result_field ({api.result_field}).", "no_images")
    if all(image.problem for image in images):
        raise images[0].problem  # type: ignore[misc]
    source = inner if isinstance(inner, dict) else {}
    usage = source.get("usage") if isinstance(source.get("usage"), dict) else None
    created = source.get("created") or source.get("created_at")
    return ApiResult(images=images, created=created if isinstance(created, int) else None, usage=usage,
                     size=_text(source.get("size")), quality=_text(source.get("quality")),
                     background=_text(source.get("background")), output_format=_text(source.get("output_format")),
                     latency_s=time.time() - ref.submitted_at)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _returned(item: dict, url: Any) -> ReturnedImage:
    revised = item.get("revised_prompt")
    try:
        if item.get("b64_json"):
            try:
                return ReturnedImage(base64.b64decode(item["b64_json"], validate=True), revised)
            except (binascii.Error, ValueError, TypeError):
                raise StudioError("The provider returned an image that is not valid base64; nothing was kept.", "bad_base64") from None
        if isinstance(url, str) and url:
            return ReturnedImage(download(url), revised)
        raise StudioError("The provider's task returned an item with neither b64_json nor url.", "no_image_data")
    except StudioError as exc:
        return ReturnedImage(b"", None, exc)


def follow(client: OpenAI, ref: TaskRef, api: TaskApi, on_task: TaskCallback | None,
           on_status: TaskStatusCallback | None, first_wait_s: float | None = None,
           should_stop: Callable[[], bool] | None = None) -> ApiResult:
    """Hand the task to the caller to keep, then poll it until done."""
    if on_task is not None:
        on_task(ref)
    return wait_for(client, ref, api, on_status, first_wait_s=first_wait_s, should_stop=should_stop)


__all__ = ["TaskPending", "follow", "normalise_status", "poll_once", "submit", "task_id_in",
           "task_ref", "task_result", "wait_for"]
