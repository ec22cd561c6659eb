"""A local endpoint that speaks the OpenAI Images API: the offline demo and the tests' double.

It answers `POST /v1/images/generations` as the real API does (b64_json by default, url when asked,
revised_prompt, usage, the echoed settings, the standard error body) with real PNG/JPEG/WebP/GIF images
drawn by Pillow (and SVG documents), and `POST /v1/images/edits` (multipart: one or many `image` parts, optional `mask`;
the edit repaints the mask's transparent area of the first image in the prompt's colour). With
`stream=true` both answer with server-sent events as the API does (`image_generation.partial_image` /
`image_generation.completed`, `image_edit.partial_image` / `image_edit.completed`).
It can fail on purpose, either for every request (`DemoConfig.fail`) or for one
request through a directive in the prompt, so that a page test can trigger a refusal:

    [demo:fail=moderation]  [demo:fail=500x1]  [demo:delay=0.5]  [demo:no-revised]
    [demo:no-stream]  (400 to stream=true, like a provider without streaming)
    [demo:partial_delay=0.3]  (seconds between streamed events)
    [demo:ignore-stream]  (answer stream=true with the plain JSON body, as some providers do)
    [demo:hostile-svg]  (with output_format=svg: an SVG carrying scripts, handlers and external links)

`[demo:only=FIELD:VALUE]` limits the prompt's fail directive to requests whose body has that value,
e.g. `[demo:fail=moderation] [demo:only=quality:high]` fails only the high-quality cell of a comparison.

Fail kinds: moderation, unknown_parameter, no_xhigh / no_input_fidelity (a relay refusing a field the model takes), 401, 403, 404, 429, quota, 500, 500xN / 429xN (the first N
requests with that prompt fail, then it succeeds), malformed, empty, null_data, not_image, bomb, and for
url responses: url_html, url_404, url_redirect (to another host), url_huge (more bytes than any cap);
for streams: stream_error / stream_moderation (a server error or a safety refusal as an error event
after the first partial image).

Answers that read as the wrong thing (faults.ODD_ANSWERS): html_page (a 200 web page), html_413,
html_400_large, html_400, html_502 (a proxy's HTML error pages), json_413, error_200 / error_200_text /
error_200_msg (a relay's error inside a 200). How the answer travels (transport.py): cut_short (less than
its Content-Length, then the connection closes), trickle (a piece every 0.2 s), and for streams
stream_cut (hang up after the first event), keepalive (`: keep-alive` comments, never an event),
stream_silent (no event at all), stream_empty (empty partials, no image in the final event), stream_url
(the final event carries a url), bad_partial / empty_partial (partials that are not images). `fewer`
returns one image whatever `n` asks; bad_second makes every image after the first not an image.
bad_gzip labels a plain body `Content-Encoding: gzip`. revised_surrogate / revised_list / revised_number send a revised_prompt that is not storable text. `[demo:max_body=N]` answers a body over N bytes with nginx's 413 page.

Asynchronous tasks (demo/tasks.py): `POST .../generations/async` and `.../edits/async`, `GET /v1/tasks/{id}`,
`GET /v1/images/generations/{id}`; `[demo:task]` makes the plain path answer a task id; `[demo:task_s=S]`,
`[demo:task_fate=fail|expire|queued|cancel|gone]`, `[demo:poll_busy=N]`. `GET /demo/stats` counts tasks and polls.

    python -m studio.provider.demo --port 8765 [--key KEY] [--fail KIND] [--delay SECONDS] [--no-stream]
        [--task-s SECONDS] [--task-fate KIND] [--task-poll SECONDS] [--task-models gpt-image-2,...]
"""

from studio.provider.demo.pictures import render_image
from studio.provider.demo.config import DemoConfig
from studio.provider.demo.server import DemoServer, shared_base_url, start_demo_server

__all__ = ["DemoConfig", "DemoServer", "render_image", "shared_base_url", "start_demo_server"]
