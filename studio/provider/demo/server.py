"""The demo endpoint's HTTP side: a stdlib ThreadingHTTPServer that answers the Images API's two paths
as the API does, JSON or server-sent events, and sends the faults `faults.py` names."""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

from PIL import Image, ImageFilter

from studio.provider.demo import tasks, transport
from studio.provider.demo.answer import demo_usage, echoed_settings
from studio.provider.demo.config import DemoConfig
from studio.provider.demo.faults import ERRORS, ODD_ANSWERS, ODD_REVISED, STREAM_ERRORS, URL_FAULTS, body_limit, counted, parse_directives
from studio.provider.demo.pictures import decompression_bomb, draw_edit, draw_image, encode_image, hostile_svg, output_refusal

MIME = {"svg": "image/svg+xml"}
MAX_EDIT_IMAGES = 16


class DemoHandler(BaseHTTPRequestHandler):
    server_version = "ImageStudioDemo/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; Nagle would stall them 40 ms

    @property
    def config(self) -> DemoConfig:
        return self.server.config  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: request lines carry nothing a user needs, and tests run many

    def _error(self, kind: str) -> None:
        status, error = ERRORS[kind]
        headers = {"retry-after-ms": "10"} if status == 429 and kind == "429" else None
        transport.send(self, status, json.dumps({"error": error}).encode(), headers=headers)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        name = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/files/url_html"):
            transport.send(self, 200, b"<html><body>Sign in to continue</body></html>", "text/html")
        elif self.path.startswith("/files/url_redirect"):
            port = self.server.server_address[1]  # type: ignore[attr-defined]
            transport.send(self, 302, b"", headers={"Location": f"http://localhost:{port}/files/elsewhere.png"})
        elif self.path.startswith("/files/url_huge"):
            transport.send_huge(self)
        elif self.path.startswith("/files/") and name in self.config.files:
            body, mime = self.config.files[name]
            transport.send(self, 200, body, mime)
        elif self.path in ("/health", "/v1/health"):
            transport.send(self, 200, b'{"ok": true}')
        elif tasks.answer_get(self, self.path.rstrip("/")):  # a task's poll, or /demo/stats
            pass
        else:
            transport.send(self, 404, json.dumps({"error": {"message": "Not found", "type": "invalid_request_error", "param": None, "code": None}}).encode())

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.config.arrived()
        limit = body_limit(raw)
        if limit is not None and length > limit:  # a proxy in front of the API, refusing before the API sees it
            self._odd("html_413")
            return
        path = self.path.rstrip("/")
        self.as_task = path.endswith("/async")  # the task API's submit path (demo/tasks.py)
        path = path.removesuffix("/async")
        if path not in ("/v1/images/generations", "/v1/images/edits"):
            transport.send(self, 404, json.dumps({"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error", "param": None, "code": None}}).encode())
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
        transport.send(self, 400, json.dumps({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}).encode())

    def _edit(self, raw: bytes) -> None:
        """Parse the multipart body with python-multipart, check it as the API does, then answer."""
        try:
            fields, files = transport.read_form(self.headers.get("Content-Type", ""), raw)
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
        if self.as_task and body.get("stream") is True:
            self._bad_request("Streaming is not supported for asynchronous tasks.", "stream", "unsupported_parameter")
            return
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
        if self.as_task or tasks.answers_as_task(self.config, body, directives):
            try:
                tasks.answer_submitted(self, tasks.start_task(self, body, directives, sources, mask), plain=not self.as_task)
            except tasks.SubmitLost:
                self._odd("html_502")
            return
        if fail in ODD_ANSWERS:
            self._odd(fail)
            return
        n = int(body.get("n") or 1)
        size = str(body.get("size") or "auto")
        quality = str(body.get("quality") or "auto")
        background = str(body.get("background") or "auto")
        output_format = str(body.get("output_format") or "png")
        compression = body.get("output_compression")
        complexity, frame_count = body.get("complexity"), body.get("frame_count")
        if isinstance(frame_count, str) and frame_count.isdigit():  # a multipart edit sends text
            frame_count = int(frame_count)
        refusal = output_refusal(output_format, frame_count, stream, n)
        if refusal:
            self._bad_request(*refusal)
            return
        as_url = body.get("response_format") == "url" and not stream
        pictures = [
            draw_edit(prompt, sources, mask, size, index) if sources else draw_image(prompt, size, output_format, background, index, quality, complexity)
            for index in range(n)
        ]
        data = []
        for picture in pictures:
            if fail == "not_image" or (fail == "bad_second" and data):  # bad_second: every image after the first
                image = b"this is not an image"
            elif fail == "bomb":
                image = decompression_bomb()
            elif output_format == "svg" and "hostile-svg" in directives:
                image = hostile_svg(*picture.size)
            else:
                image = encode_image(picture, output_format, compression, frame_count, prompt)
            item: dict[str, Any] = {}
            if as_url and fail in URL_FAULTS:
                item["url"] = f"http://{self.headers.get('Host')}/files/{fail}"
            elif as_url:
                name = f"{uuid.uuid4().hex}.{output_format}"
                self.config.files[name] = (image, MIME.get(output_format, f"image/{output_format}"))
                item["url"] = f"http://{self.headers.get('Host')}/files/{name}"
            else:
                item["b64_json"] = base64.b64encode(image).decode()
            if "no-revised" not in directives:
                item["revised_prompt"] = ODD_REVISED.get(fail, f"A detailed rendering of: {prompt}")
            data.append(item)
        if fail == "fewer":  # one image whatever n asked for, as relays that ignore n do
            data, pictures = data[:1], pictures[:1]
        elif fail == "empty":
            data = []
        elif fail == "null_data":
            data = None  # type: ignore[assignment]
        usage = demo_usage(prompt, len(sources or []), quality, n)
        settings = echoed_settings(background, output_format, quality, size, pictures)
        if stream:
            self._stream(pictures, data or [], usage, settings, int(body.get("partial_images") or 0), "image_edit" if sources else "image_generation", directives, fail, compression)
            return
        if fail == "malformed":
            transport.send(self, 200, b'{"created": 1, "data": [')
            return
        answer = json.dumps({"created": int(time.time()), "data": data, "usage": usage, **settings}).encode()
        if fail == "cut_short":
            transport.send_cut_short(self, answer)
        elif fail == "trickle":
            transport.send_trickled(self, answer)
        else:  # bad_gzip: a proxy that labels a plain body as compressed
            transport.send(self, 200, answer, headers={"Content-Encoding": "gzip"} if fail == "bad_gzip" else None)

    def _odd(self, kind: str) -> None:
        status, content_type, body = ODD_ANSWERS[kind]
        transport.send(self, status, body, content_type)

    def _stream(self, pictures: list[Image.Image], data: list[dict[str, Any]], usage: dict[str, Any], settings: dict[str, str],
                partial_images: int, kind: str, directives: dict[str, str], fail: str | None, compression: int | None) -> None:
        """Server-sent events, chunked: for each image its partial images (blurrier first), then its completed
        event; or one of the ways relays stream badly (see the package docstring)."""
        pause = float(directives.get("partial_delay") or self.config.partial_delay_s or 0)
        if fail == "keepalive":
            transport.send_keepalive(self)
            return
        if fail == "stream_silent":  # a 200 event stream that ends without a single event
            transport.send_events(self, [])
            return
        events = self._events(pictures, data, usage, settings, partial_images, kind, fail, compression)
        transport.send_events(self, events, pause, cut_after=1 if fail == "stream_cut" else None)

    def _events(self, pictures: list[Image.Image], data: list[dict[str, Any]], usage: dict[str, Any], settings: dict[str, str],
                partial_images: int, kind: str, fail: str | None, compression: int | None) -> Iterator[tuple[str, dict[str, Any]]]:
        for picture, item in zip(pictures, data):
            for index in range(partial_images):
                blurred = picture.filter(ImageFilter.GaussianBlur(radius=4 * 2 ** (partial_images - index)))
                partial = base64.b64encode(encode_image(blurred, settings["output_format"], compression)).decode()
                if fail in ("stream_empty", "empty_partial"):
                    partial = ""
                elif fail == "bad_partial":  # valid base64, not an image
                    partial = base64.b64encode(b"not a picture " * 8).decode()
                yield f"{kind}.partial_image", {"type": f"{kind}.partial_image", "b64_json": partial,
                                                "partial_image_index": index, "created_at": int(time.time()), **settings}
                if fail in STREAM_ERRORS:
                    break
            if fail in STREAM_ERRORS:  # the API reports a failure mid-stream as an error event
                _status, error = ERRORS["moderation" if fail == "stream_moderation" else "500"]
                yield "error", {"type": "error", "error": error}
                return
            completed: dict[str, Any] = {"type": f"{kind}.completed", "created_at": int(time.time()), "usage": usage, **settings}
            if fail == "stream_url":  # some relays stream a link to the final image instead of its bytes
                name = f"{uuid.uuid4().hex}.{settings['output_format']}"
                self.config.files[name] = (base64.b64decode(item["b64_json"]), f"image/{settings['output_format']}")
                completed["url"] = f"http://{self.headers.get('Host')}/files/{name}"
            elif fail != "stream_empty":
                completed["b64_json"] = item.get("b64_json", "")
            yield f"{kind}.completed", completed

    def _fails(self, fail: str, prompt: str) -> bool:
        """Send the failure `fail` names and return True, or return False when this request should pass."""
        kind = counted(fail, prompt, self.config.counters, self.config.lock)
        if kind in ERRORS:
            self._error(kind)
            return True
        return False  # passes, or a kind handled while building the response (malformed, empty, not_image)


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: DemoConfig):
        super().__init__(address, DemoHandler)
        self.config = config
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a timeout, a cap on what it reads, a deadline) is what several faults are
        # for: not worth a traceback on stderr. Anything else is reported as usual.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            super().handle_error(request, client_address)

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



_shared: DemoServer | None = None
_shared_lock = threading.Lock()


def shared_base_url() -> str:
    """The base URL of this process's own demo endpoint, started on first use and kept for the process:
    what the demo preset talks to when no address is configured."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start_demo_server()
    return _shared.base_url
