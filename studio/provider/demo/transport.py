"""How requests and answers travel to and from the demo endpoint: an edit's multipart form in; answers out
whole, as server-sent events, or in the broken ways real providers and proxies send them (cut short,
trickled, kept alive with comments, endless)."""

from __future__ import annotations

import io
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Iterable

from python_multipart import parse_form

# What a client that went away looks like from the writing side.
GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError)


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def send_cut_short(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    """Promise more bytes than are sent, then hang up: a proxy that dropped the connection mid-answer."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body) * 2))
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.wfile.flush()
    handler.close_connection = True


def send_trickled(handler: BaseHTTPRequestHandler, body: bytes, pieces: int = 40, pause_s: float = 0.2) -> None:
    """The whole body, but a piece at a time: every read arrives within any per-read timeout, the answer never does."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    step = max(1, -(-len(body) // pieces))
    try:
        for start in range(0, len(body), step):
            handler.wfile.write(body[start:start + step])
            handler.wfile.flush()
            time.sleep(pause_s)
    except GONE:
        handler.close_connection = True  # the client gave up, as it should


def start_events(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()


def write_chunk(handler: BaseHTTPRequestHandler, chunk: bytes) -> None:
    handler.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
    handler.wfile.flush()


def end_chunks(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()


def send_events(handler: BaseHTTPRequestHandler, events: Iterable[tuple[str, dict[str, Any]]], pause_s: float = 0.0,
                cut_after: int | None = None) -> None:
    """Server-sent events, chunked. `cut_after`: hang up after that many events without ending the stream."""
    start_events(handler)
    sent = 0
    try:
        for name, payload in events:
            if cut_after is not None and sent >= cut_after:
                handler.close_connection = True
                return
            write_chunk(handler, f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())
            sent += 1
            if pause_s:
                time.sleep(pause_s)
        end_chunks(handler)
    except GONE:
        handler.close_connection = True


def send_keepalive(handler: BaseHTTPRequestHandler, pause_s: float = 0.2, for_s: float = 30.0) -> None:
    """An event stream of `: keep-alive` comments and never an event: alive to every per-read timeout."""
    start_events(handler)
    stop = time.monotonic() + for_s
    try:
        while time.monotonic() < stop:
            write_chunk(handler, b": keep-alive\n\n")
            time.sleep(pause_s)
        end_chunks(handler)
    except GONE:
        handler.close_connection = True


def send_huge(handler: BaseHTTPRequestHandler) -> None:
    """Stream 80 MB with no Content-Length, so only a cap on what is read can stop it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b"\0" * (1 << 20)
    try:
        for _ in range(80):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")
    except GONE:
        handler.close_connection = True  # the client stopped reading at its cap, as it should


def read_form(content_type: str, raw: bytes) -> tuple[dict[str, str], dict[str, list[bytes]]]:
    """An edit's multipart body, parsed with python-multipart: its fields, and its files by field name."""
    fields: dict[str, str] = {}
    files: dict[str, list[bytes]] = {}

    def on_field(part: Any) -> None:
        fields[part.field_name.decode()] = (part.value or b"").decode()

    def on_file(part: Any) -> None:
        part.file_object.seek(0)
        # The official client names a list of files `image[]`; a single file is `image`.
        files.setdefault(part.field_name.decode().removesuffix("[]"), []).append(part.file_object.read())

    parse_form({"Content-Type": content_type, "Content-Length": str(len(raw))}, io.BytesIO(raw), on_field, on_file)
    return fields, files
