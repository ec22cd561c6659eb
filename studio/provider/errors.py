"""What the client's failures mean to a user: one short StudioError for each exception `openai` or the
transport raises, with what to change."""

from __future__ import annotations

import html
import re

import httpx2
import openai

from studio.core.errors import StudioError


def _transport_error(exc: Exception) -> StudioError:
    """What went wrong on the wire, for errors the client did not wrap (or wrapped as a connection error)."""
    if "without sending complete message body" in str(exc) or isinstance(exc, httpx2.RemoteProtocolError):
        return StudioError("The provider's answer was cut off before it was complete (the connection closed mid-answer); "
                           "nothing was kept. Try again.", "incomplete_response")
    if isinstance(exc, httpx2.DecodingError):  # e.g. `Content-Encoding: gzip` on a body that is not gzip
        return StudioError("The provider's answer could not be decoded (its Content-Encoding header does not match the body): "
                           "a proxy in front of the API is probably changing it. Check the base URL, or try again.", "undecodable_response")
    if isinstance(exc, httpx2.TimeoutException):
        return StudioError("The request timed out; try again, pick a lower quality or raise STUDIO_TIMEOUT_S.", "timeout")
    return StudioError("Could not reach the provider; check the base URL and your network connection.", "connection_error")


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in head


def _html_title(text: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S) or re.search(r"<h1[^>]*>(.*?)</h1>", text, re.I | re.S)
    return _shorten(html.unescape(re.sub(r"<[^>]+>", "", match[1])), 120) if match else ""


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
        return _transport_error(exc.__cause__ or exc)
    page = _html_page(exc)
    if status == 413 or (page is not None and status == 400 and "too large" in page.lower()):
        said = page if page is not None else (detail if isinstance(getattr(exc, "body", None), dict) else "")
        return StudioError(f"The request was too large for the provider (HTTP {status}{': ' + said if said else ''}); send fewer "
                           "or smaller reference images, or a shorter prompt.", code or "request_too_large", status)
    if page is not None and status is not None and status < 500:
        return StudioError(f"The provider answered HTTP {status} with a web page ({page or 'no title'}) instead of an API "
                           "error: a proxy or web server in front of the API refused the request. Check the base URL.",
                           code or "html_error", status)
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


def _html_page(exc: Exception) -> str | None:
    """The title of the web page an error came with (a proxy's or web server's), or None for an API error."""
    body = getattr(exc, "body", None)
    return _html_title(body) if isinstance(body, str) and _looks_like_html(body) else None


def _detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    page = _html_page(exc)
    if page is not None:
        return page or "a web page"
    return _shorten(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
