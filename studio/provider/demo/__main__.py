"""Run the demo endpoint on its own: `python -m studio.provider.demo --port 8765`."""

from __future__ import annotations

import argparse

from studio.provider.demo.config import DemoConfig
from studio.provider.demo.server import DemoServer


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
    parser.add_argument("--task-s", type=float, default=1.0, help="seconds an asynchronous task runs (see demo/tasks.py)")
    parser.add_argument("--task-fate", choices=("succeed", "fail", "expire", "queued", "cancel", "gone", "empty"), help="how every task ends")
    parser.add_argument("--task-poll", type=float, default=0.5, help="the wait between polls the tasks ask for (Retry-After)")
    parser.add_argument("--task-models", default="", help="comma-separated models the plain path answers as tasks")
    args = parser.parse_args(argv)
    config = DemoConfig(api_key=args.key, fail=args.fail, delay_s=args.delay, reject_response_format=args.reject_response_format,
                        reject_stream=args.no_stream, partial_delay_s=args.partial_delay, task_s=args.task_s,
                        task_fate=args.task_fate, task_poll_s=args.task_poll,
                        task_models=tuple(m for m in args.task_models.split(",") if m))
    server = DemoServer((args.host, args.port), config)
    print(f"demo endpoint on {server.base_url}", flush=True)  # with --port 0, read the port from this line
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
