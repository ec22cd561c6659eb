"""A local endpoint that speaks the OpenAI Images API: the offline demo and the tests' double.

It answers `POST /v1/images/generations` as the real API does (b64_json by default, url when asked,
revised_prompt, usage, the echoed settings, the standard error body) with real PNG/JPEG/WebP images
drawn by Pillow, and `POST /v1/images/edits` (multipart: one or many `image` parts, optional `mask`;
the edit repaints the mask's transparent area of the first image in the prompt's colour). With
`stream=true` both answer with server-sent events as the API does (`image_generation.partial_image` /
`image_generation.completed`, `image_edit.partial_image` / `image_edit.completed`).
It can fail on purpose, either for every request (`DemoConfig.fail`) or for one
request through a directive in the prompt, so that a page test can trigger a refusal:

    [demo:fail=moderation]  [demo:fail=500x1]  [demo:delay=0.5]  [demo:no-revised]
    [demo:no-stream]  (400 to stream=true, like a provider without streaming)
    [demo:partial_delay=0.3]  (seconds between streamed events)
    [demo:ignore-stream]  (answer stream=true with the plain JSON body, as some providers do)

`[demo:only=FIELD:VALUE]` limits the prompt's fail directive to requests whose body has that value,
e.g. `[demo:fail=moderation] [demo:only=quality:high]` fails only the high-quality cell of a comparison.

Fail kinds: moderation, unknown_parameter, 401, 403, 404, 429, quota, 500, 500xN / 429xN (the first N
requests with that prompt fail, then it succeeds), malformed, empty, null_data, not_image, bomb, and for
url responses: url_html, url_404, url_redirect (to another host), url_huge (more bytes than any cap);
for streams: stream_error / stream_moderation (a server error or a safety refusal as an error event
after the first partial image).

    python -m studio.provider.demo --port 8765 [--key KEY] [--fail KIND] [--delay SECONDS] [--no-stream]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import math
import re
import struct
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw, ImageFilter
from python_multipart import parse_form

DIRECTIVE_RE = re.compile(r"\[demo:([a-z_-]+)(?:=([^\]]*))?\]")
# gpt-image-1 output tokens per image at 1024x1024, by quality: the demo reports usage in the same shape.
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "auto": 1056}

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
MAX_EDIT_IMAGES = 16


@dataclass
class DemoConfig:
    api_key: str | None = None  # when set, any other bearer token gets a 401
    fail: str | None = None
    delay_s: float = 0.0
    reject_response_format: bool = False  # behave like OpenAI, which refuses response_format for gpt-image models
    reject_stream: bool = False  # behave like a provider without streaming: 400 unknown_parameter 'stream'
    partial_delay_s: float = 0.0  # pause between streamed events, so a page can be seen showing a partial image
    stream_requests: int = 0  # how many stream=true requests arrived (rejected ones included)
    counters: dict[str, int] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests_seen: int = 0


def parse_directives(prompt: str) -> dict[str, str]:
    return {m[1]: (m[2] or "") for m in DIRECTIVE_RE.finditer(prompt)}


def prompt_colour(prompt: str, index: int) -> tuple[int, int, int]:
    digest = hashlib.sha256(f"{prompt}|{index}".encode()).digest()
    return (digest[0], digest[1], digest[2])


def render_image(prompt: str, size: str, output_format: str, background: str, compression: int | None, index: int, quality: str = "auto") -> bytes:
    """A real image of the requested size and format, coloured by the prompt so results differ."""
    return encode_image(draw_image(prompt, size, output_format, background, index, quality), output_format, compression)


# How many small satellites the demo draws around its disc: the higher the quality, the more detail,
# so a Compare grid of quality tiers shows a visible difference even offline.
DETAIL = {"low": 0, "medium": 8, "high": 24, "auto": 8}


def draw_image(prompt: str, size: str, output_format: str, background: str, index: int, quality: str = "auto") -> Image.Image:
    width, height = (1024, 1024) if size in ("auto", "") else map(int, size.split("x"))
    colour = prompt_colour(prompt, index)
    transparent = background == "transparent" and output_format in ("png", "webp")
    image = Image.new("RGBA" if transparent else "RGB", (width, height), (0, 0, 0, 0) if transparent else colour)
    draw = ImageDraw.Draw(image)
    inset = min(width, height) // 6
    accent = (255 - colour[0], 255 - colour[1], 255 - colour[2], 255)
    draw.ellipse((inset, inset, width - inset, height - inset), fill=accent)
    satellites = DETAIL.get(quality, 8)
    centre_x, centre_y, radius, dot = width / 2, height / 2, min(width, height) * 0.42, max(4, min(width, height) // 40)
    for k in range(satellites):
        angle = 2 * math.pi * k / satellites
        x, y = centre_x + radius * math.cos(angle), centre_y + radius * math.sin(angle)
        draw.ellipse((x - dot, y - dot, x + dot, y + dot), fill=(255, 255, 255, 255))
    draw.text((16, 16), f"demo #{index + 1} ({quality}): {prompt[:60]}", fill=(255, 255, 255, 255))
    return image


def draw_edit(prompt: str, sources: list[Image.Image], mask: Image.Image | None, size: str, index: int) -> Image.Image:
    """The first source with the mask's transparent area (or, without a mask, a centre patch) painted in
    the prompt's colour; the other sources appear as thumbnails along the bottom edge."""
    base = sources[0].convert("RGBA")
    if size not in ("auto", ""):
        base = base.resize(tuple(map(int, size.split("x"))))
    colour = (*prompt_colour(prompt, index), 255)
    if mask is not None:
        change = mask.convert("RGBA").getchannel("A").resize(base.size, Image.Resampling.NEAREST).point(lambda a: 255 if a == 0 else 0)
    else:
        change = Image.new("L", base.size, 0)
        w, h = base.size
        ImageDraw.Draw(change).rectangle((w // 4, h // 4, w * 3 // 4, h * 3 // 4), fill=255)
    base.paste(Image.new("RGBA", base.size, colour), (0, 0), change)
    thumb = max(8, min(base.size) // 8)
    for position, other in enumerate(sources[1:]):
        base.paste(other.convert("RGBA").resize((thumb, thumb)), (position * thumb, base.size[1] - thumb))
    return base


def encode_image(image: Image.Image, output_format: str, compression: int | None) -> bytes:
    if output_format == "jpeg" or image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    options: dict[str, Any] = {}
    if output_format in ("jpeg", "webp"):
        options["quality"] = compression if compression is not None else 90
    if output_format == "png":
        options["compress_level"] = 1  # fast: the demo stands in for a remote model, not a PNG optimiser
    image.save(buffer, format=output_format.upper(), **options)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def decompression_bomb() -> bytes:
    """A small PNG whose header claims 30000x30000 pixels (~900 MB decoded), far past Pillow's guard."""
    buffer = io.BytesIO()
    Image.new("1", (16, 16)).save(buffer, format="PNG")
    png = bytearray(buffer.getvalue())
    # IHDR is the first chunk: 8-byte signature, 4-byte length, b"IHDR", then width and height.
    png[16:24] = struct.pack(">II", 30000, 30000)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


class DemoHandler(BaseHTTPRequestHandler):
    server_version = "ImageStudioDemo/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; Nagle would stall them 40 ms

    @property
    def config(self) -> DemoConfig:
        return self.server.config  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: request lines carry nothing a user needs, and tests run many

    def _send(self, status: int, body: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_huge(self) -> None:
        """Stream 80 MB with no Content-Length, so only a cap on what is read can stop it."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"\0" * (1 << 20)
        try:
            for _ in range(80):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its cap, as it should

    def _error(self, kind: str) -> None:
        status, error = ERRORS[kind]
        headers = {"retry-after-ms": "10"} if status == 429 and kind == "429" else None
        self._send(status, json.dumps({"error": error}).encode(), headers=headers)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        name = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/files/url_html"):
            self._send(200, b"<html><body>Sign in to continue</body></html>", "text/html")
        elif self.path.startswith("/files/url_redirect"):
            port = self.server.server_address[1]  # type: ignore[attr-defined]
            self._send(302, b"", headers={"Location": f"http://localhost:{port}/files/elsewhere.png"})
        elif self.path.startswith("/files/url_huge"):
            self._send_huge()
        elif self.path.startswith("/files/") and name in self.config.files:
            body, mime = self.config.files[name]
            self._send(200, body, mime)
        elif self.path in ("/health", "/v1/health"):
            self._send(200, b'{"ok": true}')
        else:
            self._send(404, json.dumps({"error": {"message": "Not found", "type": "invalid_request_error", "param": None, "code": None}}).encode())

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with self.config.lock:
            self.config.requests_seen += 1
        path = self.path.rstrip("/")
        if path not in ("/v1/images/generations", "/v1/images/edits"):
            self._send(404, json.dumps({"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error", "param": None, "code": None}}).encode())
            return
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if self.config.api_key is not None and token != self.config.api_key:
            self._error("401")
            return
        if path.endswith("/images/edits"):
            self._edit(raw)
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._bad_request("We could not parse the JSON body of your request.")
            return
        self._generate(body)

    def _bad_request(self, message: str, param: str | None = None, code: str | None = None) -> None:
        self._send(400, json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}).encode())

    def _edit(self, raw: bytes) -> None:
        """Parse the multipart body with python-multipart, check it as the API does, then answer."""
        fields: dict[str, str] = {}
        files: dict[str, list[bytes]] = {}

        def on_field(part: Any) -> None:
            fields[part.field_name.decode()] = (part.value or b"").decode()

        def on_file(part: Any) -> None:
            part.file_object.seek(0)
            # The official client names a list of files `image[]`; a single file is `image`.
            files.setdefault(part.field_name.decode().removesuffix("[]"), []).append(part.file_object.read())

        try:
            headers = {"Content-Type": self.headers.get("Content-Type", ""), "Content-Length": str(len(raw))}
            parse_form(headers, io.BytesIO(raw), on_field, on_file)
        except Exception as exc:  # a malformed body is the caller's error, as at the API
            self._bad_request(f"Could not parse the multipart form: {type(exc).__name__}.")
            return
        if not files.get("image"):
            self._bad_request("Missing required parameter: 'image'.", "image", "missing_required_parameter")
            return
        if len(files["image"]) > MAX_EDIT_IMAGES:
            self._bad_request(f"Too many images: at most {MAX_EDIT_IMAGES}.", "image")
            return
        sources = []
        for data in files["image"]:
            try:
                opened = Image.open(io.BytesIO(data))
                opened.load()
            except Exception:
                self._bad_request("Invalid image file: it is not a PNG, WebP or JPEG image.", "image", "invalid_image_file")
                return
            if opened.format not in ("PNG", "JPEG", "WEBP"):
                self._bad_request(f"Invalid image file: unsupported format {opened.format}.", "image", "invalid_image_format")
                return
            sources.append(opened)
        mask = None
        if files.get("mask"):
            try:
                mask = Image.open(io.BytesIO(files["mask"][0]))
                mask.load()
            except Exception:
                mask = None
            if mask is None or mask.format != "PNG":
                self._bad_request("Invalid mask image: the mask must be a PNG file.", "mask", "invalid_mask_image")
                return
            if mask.size != sources[0].size:
                self._bad_request("Invalid mask image: the mask must be the same size as the image.", "mask", "invalid_mask_image_size")
                return
        body: dict[str, Any] = dict(fields)
        for name in ("n", "output_compression", "partial_images"):
            if body.get(name, "") != "":
                body[name] = int(body[name])
        if "stream" in body:
            body["stream"] = body["stream"].lower() == "true"
        self._generate(body, sources=sources, mask=mask)

    def _generate(self, body: dict[str, Any], sources: list[Image.Image] | None = None, mask: Image.Image | None = None) -> None:
        """Answer a generation, or an edit when `sources` are given; streamed when `stream` is true."""
        prompt = str(body.get("prompt") or "")
        if not prompt:
            self._bad_request("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
            return
        directives = parse_directives(prompt)
        delay = float(directives.get("delay") or self.config.delay_s or 0)
        if delay:
            time.sleep(delay)
        fail = directives.get("fail") or self.config.fail
        only = directives.get("only", "").partition(":")
        if only[1] and str(body.get(only[0])) != only[2]:
            fail = self.config.fail  # this request is not the one the directive aims at
        if "response_format" in body and self.config.reject_response_format:
            fail = "unknown_parameter"
        stream = body.get("stream") is True and "ignore-stream" not in directives  # some providers answer plain JSON
        if stream:
            with self.config.lock:
                self.config.stream_requests += 1
            if self.config.reject_stream or "no-stream" in directives:
                fail = "no_stream"
        if fail and self._fails(fail, prompt):
            return
        n = int(body.get("n") or 1)
        size = str(body.get("size") or "auto")
        quality = str(body.get("quality") or "auto")
        background = str(body.get("background") or "auto")
        output_format = str(body.get("output_format") or "png")
        compression = body.get("output_compression")
        as_url = body.get("response_format") == "url" and not stream
        pictures = [
            draw_edit(prompt, sources, mask, size, index) if sources else draw_image(prompt, size, output_format, background, index, quality)
            for index in range(n)
        ]
        data = []
        for picture in pictures:
            if fail == "not_image":
                image = b"this is not an image"
            elif fail == "bomb":
                image = decompression_bomb()
            else:
                image = encode_image(picture, output_format, compression)
            item: dict[str, Any] = {}
            if as_url and fail in ("url_html", "url_404", "url_redirect", "url_huge"):
                item["url"] = f"http://{self.headers.get('Host')}/files/{fail}"
            elif as_url:
                name = f"{uuid.uuid4().hex}.{output_format}"
                self.config.files[name] = (image, f"image/{output_format}")
                item["url"] = f"http://{self.headers.get('Host')}/files/{name}"
            else:
                item["b64_json"] = base64.b64encode(image).decode()
            if "no-revised" not in directives:
                item["revised_prompt"] = f"A detailed rendering of: {prompt}"
            data.append(item)
        if fail == "empty":
            data = []
        elif fail == "null_data":
            data = None  # type: ignore[assignment]
        text_tokens = max(1, len(prompt.split()))
        image_tokens = 194 * len(sources or [])  # input images cost tokens too
        output_tokens = OUTPUT_TOKENS.get(quality, 1056) * n
        usage = {
            "input_tokens": text_tokens + image_tokens,
            "output_tokens": output_tokens,
            "total_tokens": text_tokens + image_tokens + output_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
        }
        settings = {
            "background": "opaque" if background == "auto" else background,
            "output_format": output_format,
            "quality": "medium" if quality == "auto" else quality,
            "size": f"{pictures[0].size[0]}x{pictures[0].size[1]}" if size == "auto" and pictures else size,
        }
        if stream:
            self._stream(pictures, data or [], usage, settings, int(body.get("partial_images") or 0), "image_edit" if sources else "image_generation", directives, fail, compression)
            return
        if fail == "malformed":
            self._send(200, b'{"created": 1, "data": [')
            return
        self._send(200, json.dumps({"created": int(time.time()), "data": data, "usage": usage, **settings}).encode())

    def _stream(self, pictures: list[Image.Image], data: list[dict[str, Any]], usage: dict[str, Any], settings: dict[str, str],
                partial_images: int, kind: str, directives: dict[str, str], fail: str | None, compression: int | None) -> None:
        """Server-sent events, chunked: for each image its partial images (blurrier first), then its completed event."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pause = float(directives.get("partial_delay") or self.config.partial_delay_s or 0)

        def event(name: str, payload: dict[str, Any]) -> None:
            chunk = f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()
            self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()

        try:
            for picture, item in zip(pictures, data):
                for index in range(partial_images):
                    blurred = picture.filter(ImageFilter.GaussianBlur(radius=4 * 2 ** (partial_images - index)))
                    partial = encode_image(blurred, settings["output_format"], compression)
                    event(f"{kind}.partial_image", {"type": f"{kind}.partial_image", "b64_json": base64.b64encode(partial).decode(),
                                                    "partial_image_index": index, "created_at": int(time.time()), **settings})
                    if pause:
                        time.sleep(pause)
                    if fail in ("stream_error", "stream_moderation"):
                        break
                if fail in ("stream_error", "stream_moderation"):  # the API reports a failure mid-stream as an error event
                    _status, error = ERRORS["moderation" if fail == "stream_moderation" else "500"]
                    event("error", {"type": "error", "error": error})
                    return
                completed = {"type": f"{kind}.completed", "b64_json": item.get("b64_json", ""), "created_at": int(time.time()), "usage": usage, **settings}
                event(f"{kind}.completed", completed)
        finally:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _fails(self, fail: str, prompt: str) -> bool:
        """Send the failure `fail` names and return True, or return False when this request should pass."""
        match = re.fullmatch(r"(\d{3})x(\d+)", fail)
        if match:  # fail the first N requests with this prompt, then succeed
            with self.config.lock:
                seen = self.config.counters.get(prompt, 0)
                self.config.counters[prompt] = seen + 1
            if seen >= int(match[2]):
                return False
            fail = match[1]
        if fail in ERRORS:
            self._error(fail)
            return True
        return False  # kinds handled while building the response (malformed, empty, not_image)


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: DemoConfig):
        super().__init__(address, DemoHandler)
        self.config = config
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "DemoServer":
        self._thread = threading.Thread(target=self.serve_forever, name="demo-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def start_demo_server(host: str = "127.0.0.1", port: int = 0, config: DemoConfig | None = None) -> DemoServer:
    """Start the endpoint on a background thread; port 0 picks a free port (see `.base_url`)."""
    return DemoServer((host, port), config or DemoConfig()).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local OpenAI-compatible image endpoint (placeholder images).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", help="require this bearer token (401 otherwise)")
    parser.add_argument("--fail", help="fail every request this way (see the module docstring)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--reject-response-format", action="store_true", help="answer 400 to response_format, as OpenAI does")
    parser.add_argument("--no-stream", action="store_true", help="answer 400 to stream=true, like a provider without streaming")
    parser.add_argument("--partial-delay", type=float, default=0.0, help="seconds between streamed events")
    args = parser.parse_args(argv)
    config = DemoConfig(api_key=args.key, fail=args.fail, delay_s=args.delay, reject_response_format=args.reject_response_format,
                        reject_stream=args.no_stream, partial_delay_s=args.partial_delay)
    server = DemoServer((args.host, args.port), config)
    print(f"demo endpoint on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
