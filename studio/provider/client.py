"""The one place that talks to the Images API, through the official `openai` client."""

from __future__ import annotations

import base64
import binascii
import re
import time
from functools import lru_cache
from typing import Any, Sequence
from urllib.parse import urlsplit

import httpx2
import openai
from openai import OpenAI

from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.core.wire import ApiResult, InputFile, PartialCallback, ReturnedImage

# What callers hold between requests; named here so that nothing outside this module imports `openai`.
Client = OpenAI
DOWNLOAD_TIMEOUT_S = 60.0
DOWNLOAD_MAX_BYTES = 64 * 1024 * 1024


class StreamingRejected(StudioError):
    """The provider refused `stream`/`partial_images`: send the request again without them."""


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
    http_client = openai.DefaultHttpxClient(event_hooks={"response": [_no_retry_when_out_of_quota]})
    return OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=max_retries, http_client=http_client)


def send_request(
    client: OpenAI, request: ImageRequest, *, images: Sequence[InputFile] | None = None,
    mask: InputFile | None = None, on_partial: PartialCallback | None = None,
) -> ApiResult:
    """A generation, or an edit when `images` are given; streamed when `request.stream` is set.
    Raises StreamingRejected when the provider refuses to stream, StudioError for any other failure."""
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
    try:
        if params.get("stream"):
            return _read_stream(call(**params), client.timeout, started, on_partial)
        response = call(**params)
    except openai.OpenAIError as exc:
        if params.get("stream") and _refuses_streaming(exc):
            raise StreamingRejected("The provider does not stream images; sent without live preview.", "stream_unsupported", getattr(exc, "status_code", None)) from None
        raise describe_error(exc) from None
    except ValueError:  # a 200 whose body is not JSON
        raise StudioError("The provider's answer was not valid JSON; check the base URL.", "malformed_response") from None
    return _result(response, client.timeout, started)


def _refuses_streaming(exc: Exception) -> bool:
    """A 400/422 that names `stream` or `partial_images`: the provider has no streaming, the request is fine."""
    if not isinstance(exc, (openai.BadRequestError, openai.UnprocessableEntityError)):
        return False
    if (getattr(exc, "code", None) or "") in ("moderation_blocked", "content_policy_violation"):
        return False
    param = getattr(exc, "param", None) or ""
    # Whole words only: "upstream error" is not a refusal to stream.
    return param in ("stream", "partial_images") or re.search(r"\b(stream|streaming|partial_images)\b", _detail(exc), re.I) is not None


def _read_stream(stream: Any, timeout: Any, started: float, on_partial: PartialCallback | None) -> ApiResult:
    """Collect a stream of `*.partial_image` / `*.completed` events into the same result as a plain request."""
    response = getattr(stream, "response", None)
    if response is not None and "json" in (response.headers.get("content-type") or ""):
        # Some providers ignore stream=true and answer with the plain JSON body.
        response.read()
        from openai.types import ImagesResponse

        return _result(ImagesResponse.model_validate(response.json()), timeout, started)
    images: list[ReturnedImage] = []
    usage = None
    last: Any = None
    for event in stream:
        kind = getattr(event, "type", "") or ""
        if kind.endswith(".partial_image"):
            if on_partial is not None:
                _show_partial(on_partial, event)
        elif kind.endswith(".completed"):
            # The API's completed events carry no revised_prompt; keep one if a provider adds it.
            images.append(ReturnedImage(_item_bytes(event, timeout), getattr(event, "revised_prompt", None)))
            usage = event.usage.model_dump(exclude_none=True) if getattr(event, "usage", None) else usage
            last = event
    if last is None:
        raise StudioError("The provider's stream ended without a final image; try again, or turn off live preview.", "no_images")
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
    # A preview is a nicety: a bad partial image or a failing callback must not cost the final image.
    try:
        data = base64.b64decode(event.b64_json, validate=True)
        on_partial(int(getattr(event, "partial_image_index", 0) or 0), data)
    except Exception:  # noqa: BLE001 - deliberately broad, see above
        pass


def _result(response: Any, timeout: Any, started: float) -> ApiResult:
    data = getattr(response, "data", None)
    if not isinstance(data, list) or not data:
        raise StudioError("The provider answered but returned no images; try again or check the model.", "no_images")
    images = [ReturnedImage(_item_bytes(item, timeout), getattr(item, "revised_prompt", None)) for item in data]
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


def _item_bytes(item: Any, timeout: Any) -> bytes:
    if getattr(item, "b64_json", None):
        try:
            return base64.b64decode(item.b64_json, validate=True)
        except (binascii.Error, ValueError):
            raise StudioError("The provider returned an image that is not valid base64; nothing was kept.", "bad_base64") from None
    if getattr(item, "url", None):
        return download(item.url)
    raise StudioError("The provider returned an item with neither b64_json nor url.", "no_image_data")


def download(url: str, timeout_s: float = DOWNLOAD_TIMEOUT_S, max_bytes: int = DOWNLOAD_MAX_BYTES) -> bytes:
    """Fetch an image URL at once (they expire): http(s) only, no redirect to another host, capped size."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise StudioError(f"The provider returned an image URL with scheme {parts.scheme!r}; only http(s) is fetched.", "bad_url")
    try:
        with httpx2.Client(timeout=timeout_s, follow_redirects=False) as http:
            for _hop in range(5):
                with http.stream("GET", url) as response:
                    if response.is_redirect:
                        target = str(response.next_request.url) if response.next_request else ""
                        if urlsplit(target).netloc != parts.netloc:
                            raise StudioError("The image URL redirected to another host; it was not followed.", "redirect_refused")
                        url = target
                        continue
                    if response.status_code != 200:
                        raise StudioError(f"Downloading the image failed with HTTP {response.status_code}; the URL may have expired.", "download_failed")
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise StudioError(f"The image at the returned URL is larger than {max_bytes // 2**20} MB; it was not kept.", "download_too_large")
                    chunks, total = [], 0
                    for chunk in response.iter_bytes():
                        total += len(chunk)
                        if total > max_bytes:
                            raise StudioError(f"The image at the returned URL is larger than {max_bytes // 2**20} MB; it was not kept.", "download_too_large")
                        chunks.append(chunk)
                    return b"".join(chunks)
            raise StudioError("The image URL redirected too many times.", "download_failed")
    except httpx2.TimeoutException:
        raise StudioError(f"Downloading the image took longer than {timeout_s:.0f} s; try again.", "download_timeout") from None
    except httpx2.HTTPError as exc:
        raise StudioError(f"Could not download the image ({type(exc).__name__}); try again.", "download_failed") from None


def describe_error(exc: Exception) -> StudioError:
    """A short message a user understands for any exception the client raises."""
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None) or ""
    detail = _detail(exc)
    if code in ("moderation_blocked", "content_policy_violation"):  # a 400, or an error event mid-stream
        return StudioError("The provider's safety system refused this prompt. Rephrase it; it was not retried.", code, status)
    if isinstance(exc, openai.APITimeoutError):
        return StudioError("The request timed out; try again, pick a lower quality or raise STUDIO_TIMEOUT_S.", "timeout")
    if isinstance(exc, openai.APIConnectionError):
        return StudioError("Could not reach the provider; check the base URL and your network connection.", "connection_error")
    if isinstance(exc, openai.BadRequestError):
        param = getattr(exc, "param", None)
        where = f" ({param})" if param else ""
        return StudioError(f"The provider rejected the request{where}: {detail}", code or "bad_request", status)
    if isinstance(exc, openai.AuthenticationError):
        return StudioError("The API key was refused (401); check OPENAI_API_KEY.", code or "unauthorized", status)
    if isinstance(exc, openai.PermissionDeniedError):
        return StudioError(f"Access denied (403): your organisation, project or region is not allowed this model. ({detail})", code or "forbidden", status)
    if isinstance(exc, openai.NotFoundError):
        return StudioError("Not found (404); check the base URL and the model name.", code or "not_found", status)
    if isinstance(exc, openai.RateLimitError):
        if code == "insufficient_quota":
            return StudioError("The account is out of quota (429 insufficient_quota); check your plan and billing.", code, status)
        return StudioError("Rate limit reached (429); wait a moment and try again.", code or "rate_limited", status)
    if isinstance(exc, openai.InternalServerError):
        return StudioError(f"The provider had an error ({status}); try again later.", code or "server_error", status)
    if isinstance(exc, openai.APIStatusError):
        return StudioError(f"The provider answered HTTP {status}: {detail}", code or "http_error", status)
    if isinstance(exc, openai.APIResponseValidationError):
        return StudioError("The provider's answer was not in the expected format; check the base URL.", "malformed_response", status)
    return StudioError(f"The request failed: {detail}", code or "error", status)


def _detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
