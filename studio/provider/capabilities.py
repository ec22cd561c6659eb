"""What the studio has learnt about each provider, kept in a small JSON file in the data dir.

Today one fact: a provider that answered 400 to `stream=true` does not stream, so later requests go
to it without streaming at once instead of being refused first. A provider is keyed by its preset and
its base URL's host (two custom endpoints are two providers). The file is rewritten atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from studio.core.config import Provider

FILE_NAME = "provider_capabilities.json"
_lock = threading.Lock()


def provider_id(provider: Provider) -> str:
    return f"{provider.key}@{provider.host}"


class Capabilities:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / FILE_NAME

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # missing or damaged: nothing learnt yet, which only costs one refused request
        return data if isinstance(data, dict) else {}

    def streams(self, provider: Provider) -> bool | None:
        """True or False once known, None while the provider has not been asked to stream."""
        value = self._read().get(provider_id(provider), {}).get("stream")
        return value if isinstance(value, bool) else None

    def note_stream(self, provider: Provider, supported: bool) -> None:
        with _lock:
            data = self._read()
            entry = data.setdefault(provider_id(provider), {})
            if entry.get("stream") == supported:
                return
            entry.update(stream=supported, stream_noted_at=int(time.time()))
            self._write(data)

    def forget(self, provider: Provider) -> None:
        """Try streaming again next time (e.g. the provider has added it)."""
        with _lock:
            data = self._read()
            if data.pop(provider_id(provider), None) is not None:
                self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
            os.replace(temporary, self.path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)  # losing this note only costs one refused request later
