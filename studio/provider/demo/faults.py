"""The demo endpoint's fault switches: `[demo:...]` directives in a prompt, and the error bodies they send.

A directive fails one request (so a page test can trigger a refusal from the prompt box); `DemoConfig.fail`
fails every request the same way. See the package docstring for the list of kinds.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

DIRECTIVE_RE = re.compile(r"\[demo:([a-z_-]+)(?:=([^\]]*))?\]")

# Kinds answered with the API's standard error body: (status, the `error` object).
ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "moderation": (400, {"message": "Your request was rejected by the safety system.", "type": "image_generation_user_error", "param": None, "code": "moderation_blocked"}),
    "unknown_parameter": (400, {"message": "Unknown parameter: 'response_format'.", "type": "invalid_request_error", "param": "response_format", "code": "unknown_parameter"}),
    "401": (401, {"message": "Incorrect API key provided.", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}),
    "403": (403, {"message": "Your organization is not allowed to use this model.", "type": "invalid_request_error", "param": None, "code": "unsupported_country_region_territory"}),
    "404": (404, {"message": "The model does not exist or you do not have access to it.", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}),
    "429": (429, {"message": "Rate limit reached for images per minute.", "type": "requests", "param": None, "code": "rate_limit_exceeded"}),
    "quota": (429, {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}),
    "500": (500, {"message": "The server had an error while processing your request.", "type": "server_error", "param": None, "code": None}),
    # Relays that take a model but not all of its fields (the catalog says what the model takes at OpenAI).
    "no_xhigh": (400, {"message": "Invalid value: 'xhigh'. Supported values are: 'low', 'medium', 'high', and 'auto'.", "type": "invalid_request_error", "param": "quality", "code": "invalid_value"}),
    "no_input_fidelity": (400, {"message": "input_fidelity is not supported for this model.", "type": "invalid_request_error", "param": "input_fidelity", "code": "unsupported_parameter"}),
    "no_stream": (400, {"message": "Unknown parameter: 'stream'.", "type": "invalid_request_error", "param": "stream", "code": "unknown_parameter"}),
}
URL_FAULTS = ("url_html", "url_404", "url_redirect", "url_huge")
STREAM_ERRORS = ("stream_error", "stream_moderation")


def parse_directives(prompt: str) -> dict[str, str]:
    return {m[1]: (m[2] or "") for m in DIRECTIVE_RE.finditer(prompt)}


def counted(fail: str, prompt: str, counters: dict[str, int], lock: threading.Lock) -> str | None:
    """`500x2` fails the first two requests with this prompt as `500`, then lets them pass (None);
    any other kind is returned as it is."""
    match = re.fullmatch(r"(\d{3})x(\d+)", fail)
    if not match:
        return fail
    with lock:
        seen = counters.get(prompt, 0)
        counters[prompt] = seen + 1
    return match[1] if seen < int(match[2]) else None


def _html(title: str, text: str) -> bytes:
    return (f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><center><h1>{title}</h1></center>"
            f"<p>{text}</p><hr><center>nginx</center></body></html>\n").encode()


# Answers that are not the API's: a web page where an API was expected, a proxy's error page, and relays'
# own error shapes inside a 200. Each is (status, content type, body).
ODD_ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "html_page": (200, "text/html; charset=utf-8", _html("Welcome - Dashboard", "Sign in to manage your API keys.")),
    "html_413": (413, "text/html", _html("413 Request Entity Too Large", "")),
    "html_400_large": (400, "text/html", _html("400 Request Header Or Cookie Too Large", "")),
    "html_400": (400, "text/html", _html("400 Bad Request", "")),
    "html_502": (502, "text/html", _html("502 Bad Gateway", "")),
    "json_413": (413, "application/json", json.dumps({"error": {"message": "Request body too large: at most 10 MB.", "type": "invalid_request_error", "param": None, "code": "request_too_large"}}).encode()),
    "error_200": (200, "application/json", json.dumps({"error": {"message": "balance insufficient, please recharge", "type": "new_api_error", "param": "", "code": "insufficient_user_quota"}}).encode()),
    "error_200_text": (200, "application/json", json.dumps({"error": "upstream channel unavailable"}).encode()),
    "error_200_msg": (200, "application/json", json.dumps({"code": 10003, "msg": "token expired", "data": None}).encode()),
}
# revised_prompt values a careless relay may send: text with a lone surrogate (JSON's "\ud800") and a NUL, not text.
ODD_REVISED: dict[str, Any] = {"revised_surrogate": "A fox \ud800 in snow\x00", "revised_list": ["a", "list"], "revised_number": 5}
MAX_BODY_RE = re.compile(rb"\[demo:max_body=(\d+)\]")


def body_limit(raw: bytes) -> int | None:
    """`[demo:max_body=N]`: behave like a proxy with a body size limit (nginx's client_max_body_size)."""
    match = MAX_BODY_RE.search(raw)
    return int(match[1]) if match else None
