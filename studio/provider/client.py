"""The one place that talks to the Images API, through the official `openai` client."""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
from functools import lru_cache
from typing import Any, Callable, Sequence

import httpx2
import openai
from openai import OpenAI
from PIL import Image

from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.core.task_api import TaskApi
from studio.core.wire import ApiResult, InputFile, PartialCallback, ReturnedImage, TaskCallback, TaskStatusCallback
from studio.provider.deadline import deadline_scope, hooks
from studio.provider.download import download
from studio.provider.errors import _detail, _looks_like_html, _shorten, _transport_error, describe_error
from studio.provider.tasks import follow, submit, task_ref

# What callers hold between requests; named here so that nothing outside this module imports `openai`.
Client = OpenAI


class StreamingRejected(StudioError):
    """The provider refused `stream`/`partial_images`: send the request again without them."""


class StreamingUseless(StreamingRejected):
    """The provider took `stream=true` but its stream carried no image (some relays stream nothing, or
    empty events): to the studio that is a provider without streaming."""


def _no_retry_when_out_of_quota(response: httpx2.Response) -> None:
    """The client retries every 429, but `insufficient_quota` will not clear by waiting: mark it final with
    the `x-should-retry` header, which the client obeys before its own rules."""
    if response.status_code == 429 and "x-should-retry" not in response.headers:
        response.read()
        if b"insufficient_quota" in response.content:
            response.headers["x-should-retry"] = "false"


@lru_cache(maxsize=16)
def make_client(base_url: str, api_key: str, timeout_s: float, max_retries: int) -> OpenAI:
    """One client per endpoint and key, so its connection pool is reused across requests."""
    watchdog = hooks(timeout_s)  # first, so that every read of the body (the quota check's too) is watched
    http_client = openai.DefaultHttpxClient(event_hooks={"request": watchdog["request"],
                                                         "response": [*watchdog["response"], _no_retry_when_out_of_quota]})
    return OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries, http_client=http_client)


def send_request(
    client: OpenAI, request: ImageRequest, *, images: Sequence[InputFile] | None = None,
    mask: InputFile | None = None, on_partial: PartialCallback | None = None,
    tasks: TaskApi | None = None, on_task: TaskCallback | None = None, on_task_status: TaskStatusCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ApiResult:
    """A generation, or an edit when `images` are given; streamed when `request.stream` is set.
    Raises StreamingRejected when the provider refuses to stream, StudioError for any other failure.
    A provider task (the preset's async mode, or a task id in a plain answer) is handed to `on_task` to be
    kept, then polled until done (provider/tasks.py); TaskPending when it is not done in time; `should_stop`
    is asked between polls (a cancel)."""
    api = tasks or TaskApi()
    if api.sends_as_task(request.model):
        with deadline_scope():
            try:
                ref, first_wait = submit(client, request, api, images, mask)
            except openai.OpenAIError as exc:
                raise describe_error(exc) from None
            except httpx2.HTTPError as exc:
                raise _transport_error(exc) from None
        return follow(client, ref, api, on_task, on_task_status, first_wait, should_stop)
    params = request.to_params()
    if params.get("stream") is False:
        del params["stream"]  # not streaming is the default; a provider without streaming may refuse the field itself
    call = client.images.generate
    if images is not None:
        call = client.images.edit
        # One file goes as `image`, several as `image[]` (the official client's encoding of a list).
        params["image"] = images[0].as_tuple() if len(images) == 1 else [f.as_tuple() for f in images]
        if mask is not None:
            params["mask"] = mask.as_tuple()
    started = time.perf_counter()
    limit = _seconds(client.timeout)
    with deadline_scope() as attempts:
        try:
            response = _read_stream(call(**params), client.timeout, started, on_partial) if params.get("stream") else call(**params)
            if isinstance(response, ApiResult):
                return response
        except openai.OpenAIError as exc:
            if attempts.passed:
                raise _took_too_long(limit) from None
            if params.get("stream") and _refuses_streaming(exc):
                raise StreamingRejected("The provider does not stream images; sent without live preview.", "stream_unsupported", getattr(exc, "status_code", None)) from None
            raise describe_error(exc) from None
        except httpx2.HTTPError as exc:  # while reading a stream, which the client does not wrap
            if attempts.passed:
                raise _took_too_long(limit) from None
            raise _transport_error(exc) from None
        except ValueError:  # a 200 whose body is not JSON
            raise StudioError("The provider's answer was not valid JSON; check the base URL.", "malformed_response") from None
    # Some relays answer the plain path with a task id instead of images: a task to poll, whatever the preset says.
    ref = task_ref(client, body, api) if (body := _without_images(response)) is not None else None
    return follow(client, ref, api, on_task, on_task_status, None, should_stop) if ref else _result(response, client.timeout, started)


def _without_images(response: Any) -> dict | None:
    """A parsed answer whose first item has no image, as a dict (to look for a task id); None otherwise."""
    data = getattr(response, "data", None)
    if not hasattr(response, "model_dump") or (isinstance(data, list) and data and (getattr(data[0], "b64_json", None) or getattr(data[0], "url", None))):
        return None
    return response.model_dump(warnings=False)


def _seconds(timeout: Any) -> float | None:
    return timeout if isinstance(timeout, (int, float)) else getattr(timeout, "read", None)


def _took_too_long(limit: float | None) -> StudioError:
    within = f" ({limit:g} s)" if limit else ""
    return StudioError(f"The request took longer than the limit{within} and was stopped; try again, pick a lower quality "
                       "or raise STUDIO_TIMEOUT_S.", "timeout")




def _refuses_streaming(exc: Exception) -> bool:
    """A 400/422 that names `stream` or `partial_images`: the provider has no streaming, the request is fine."""
    if not isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
        return False
    if (getattr(exc, "code", None) or "") in ("moderation_blocked", "content_policy_violation"):
        return False
    param = getattr(exc, "param", None) or ""
    # Whole words only: "upstream error" is not a refusal to stream.
    return param in ("stream", "partial_images") or re.search(r"\b(stream|streaming|partial_images)\b", _detail(exc), re.I) is not None


def _read_stream(stream: Any, timeout: Any, started: float, on_partial: PartialCallback | None) -> Any:
    """Collect a stream of `*.partial_image` / `*.completed` events into the same result as a plain request; a
    plain JSON answer (the provider ignored `stream`) is handed back parsed, to be read as one."""
    response = getattr(stream, "response", None)
    content_type = (response.headers.get("content-type") or "") if response is not None else ""
    if response is not None and ("json" in content_type or "html" in content_type):
        # Some providers ignore stream=true and answer with the plain JSON body (or a web page stands there).
        response.read()
        if "html" in content_type:
            return _result(response.text, timeout, started)
        from openai.types import ImagesResponse

        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("not an object")
        # Built as the client builds a plain answer (no strict validation), so `{"error": ...}` (or a task id) reads the same.
        return ImagesResponse.construct(**body)
    images: list[ReturnedImage] = []
    usage = None
    last: Any = None
    events = 0
    try:
        for event in stream:
            events += 1
            kind = getattr(event, "type", "") or ""
            if kind.endswith(".partial_image"):
                if on_partial is not None:
                    _show_partial(on_partial, event)
            elif kind.endswith(".completed"):
                if not (getattr(event, "b64_json", None) or getattr(event, "url", None)):
                    raise StreamingUseless("The provider's stream carried no image; sent again without live preview.", "stream_without_image")
                # The API's completed events carry no revised_prompt; keep one if a provider adds it.
                images.append(_returned(event, timeout))
                usage = event.usage.model_dump(exclude_none=True) if getattr(event, "usage", None) else usage
                last = event
    finally:
        stream.close()  # the connection goes back to the pool only once the response is closed
    if last is None and events == 0:
        raise StreamingUseless("The provider's stream ended without any event; sent again without live preview.", "stream_without_image")
    if last is None:
        raise StudioError("The provider's stream ended without a final image; try again, or turn off live preview.", "no_images")
    if all(image.problem for image in images):
        raise images[0].problem  # type: ignore[misc]
    return ApiResult(
        images=images,
        created=getattr(last, "created_at", None),
        usage=usage,
        size=getattr(last, "size", None),
        quality=getattr(last, "quality", None),
        background=getattr(last, "background", None),
        output_format=getattr(last, "output_format", None),
        latency_s=time.perf_counter() - started,
    )


def _show_partial(on_partial: PartialCallback, event: Any) -> None:
    """Hand a partial image to the page only if it is one: the page draws it on another thread, where bytes
    that are not an image would fail the whole request's display although the final image is fine."""
    try:
        data = base64.b64decode(event.b64_json or "", validate=True)
        if not data:
            return
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
        on_partial(int(getattr(event, "partial_image_index", 0) or 0), data)
    except Exception:  # noqa: BLE001 - a preview is a nicety: a bad partial or a failing callback must not cost the final image
        pass


def _result(response: Any, timeout: Any, started: float) -> ApiResult:
    if isinstance(response, str):  # the client hands back the text of an answer that is not JSON
        if _looks_like_html(response):
            raise StudioError("The provider answered with a web page, not the Images API: the base URL probably points at a "
                              "website. Check OPENAI_BASE_URL (an API's base URL usually ends in /v1).", "html_response")
        raise StudioError("The provider's answer was not valid JSON; check the base URL.", "malformed_response")
    data = getattr(response, "data", None)
    if not isinstance(data, list) or not data:
        complaint = _error_in_answer(response)
        if complaint is not None:
            raise complaint
        raise StudioError("The provider answered but returned no images; try again or check the model.", "no_images")
    images = [_returned(item, timeout) for item in data]
    if all(image.problem for image in images):  # nothing usable: the first reason is the request's
        raise images[0].problem  # type: ignore[misc]
    latency = time.perf_counter() - started
    usage = response.usage.model_dump(exclude_none=True) if getattr(response, "usage", None) else None
    return ApiResult(
        images=images,
        created=getattr(response, "created", None),
        usage=usage,
        size=getattr(response, "size", None),
        quality=getattr(response, "quality", None),
        background=getattr(response, "background", None),
        output_format=getattr(response, "output_format", None),
        latency_s=latency,
    )


def _error_in_answer(response: Any) -> StudioError | None:
    """Relays often answer 200 with an error inside: `{"error": {...}}`, `{"error": "..."}` or `{"code", "msg"}`."""
    extra = getattr(response, "model_extra", None) or {}
    error = extra.get("error")
    if isinstance(error, dict):
        text, code = error.get("message") or error.get("msg") or error.get("type"), error.get("code") or error.get("type")
    elif isinstance(error, str):
        text, code = error, None
    else:
        text = extra.get("message") or extra.get("msg") or extra.get("detail")
        code = extra.get("code")
    if not text or not isinstance(text, str):
        return None
    text = _shorten(text)
    code = code if isinstance(code, str) and code else "provider_error"
    return StudioError(f"The provider answered with an error: {text}", code[:64])








def _returned(item: Any, timeout: Any) -> ReturnedImage:
    """One item of an answer; an item that cannot be read carries its reason instead of failing the batch."""
    try:
        return ReturnedImage(_item_bytes(item, timeout), getattr(item, "revised_prompt", None))
    except StudioError as exc:
        return ReturnedImage(b"", None, exc)


def _item_bytes(item: Any, timeout: Any) -> bytes:
    if getattr(item, "b64_json", None):
        try:
            return base64.b64decode(item.b64_json, validate=True)
        except (binascii.Error, ValueError):
            raise StudioError("The provider returned an image that is not valid base64; nothing was kept.", "bad_base64") from None
    if getattr(item, "url", None):
        return download(item.url)
    raise StudioError("The provider returned an item with neither b64_json nor url.", "no_image_data")
