"""Fetching the image URLs a provider returns instead of bytes: at once (they expire), http(s) only,
no redirect to another host, and never more than a cap, whatever the server claims."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx2

from studio.core.errors import StudioError

DOWNLOAD_TIMEOUT_S = 60.0
DOWNLOAD_MAX_BYTES = 64 * 1024 * 1024


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
        raise StudioError(f"Could not download the image ({type(exc).__name__}); try again.", "download_unreachable") from None
