"""The demo endpoint's fault switches: `[demo:...]` directives in a prompt, and the error bodies they send.

A directive fails one request (so a page test can trigger a refusal from the prompt box); `DemoConfig.fail`
fails every request the same way. See the package docstring for the list of kinds.
"""

from __future__ import annotations

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
