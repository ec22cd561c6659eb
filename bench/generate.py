"""Generate-and-save vs a bare client call plus a file write, against the local endpoint, in one run.

    python -m bench.generate [--rounds 40] [--size 1024x1024] [--n 1]

Prints both medians and their ratio (goal: <= 1.25). The two paths alternate round by round so that
drift on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
from pathlib import Path

from studio.provider.client import make_client
from studio.core.config import load_settings
from studio.provider.demo import DemoConfig, start_demo_server
from studio.core.request import ImageRequest
from studio.services.studio import Studio
from studio.services.thumbnails import wait_for_thumbnails

KEY = "bench-key"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--size", default="1024x1024")
    parser.add_argument("--n", type=int, default=1, help="images per request")
    args = parser.parse_args()
    server = start_demo_server(config=DemoConfig(api_key=KEY))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, bare_dir = Path(tmp) / "data", Path(tmp) / "bare"
        bare_dir.mkdir()
        settings = load_settings(
            {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url, "STUDIO_DATA_DIR": str(data_dir), "STUDIO_MAX_RETRIES": "0"},
            Path("/nonexistent"),
        )
        studio = Studio.open(settings)
        client = make_client(server.base_url, KEY, 60.0, 0)
        studio_times, bare_times = [], []
        for round_ in range(-3, args.rounds):  # three warm-up rounds, not counted
            prompt = f"benchmark image {round_}"
            started = time.perf_counter()
            outcome = studio.generate(ImageRequest(prompt=prompt, model="gpt-image-2", size=args.size, n=args.n))
            studio_time = time.perf_counter() - started
            assert outcome.status == "succeeded", outcome.error
            wait_for_thumbnails()  # made in the background after generate returns: not timed, and not overlapping the bare call

            started = time.perf_counter()
            response = client.images.generate(prompt=prompt + " bare", model="gpt-image-2", size=args.size, n=args.n)
            for index, item in enumerate(response.data):
                (bare_dir / f"{round_}-{index}.png").write_bytes(base64.b64decode(item.b64_json))
            bare_time = time.perf_counter() - started
            if round_ >= 0:
                studio_times.append(studio_time)
                bare_times.append(bare_time)
    server.stop()
    studio_median, bare_median = statistics.median(studio_times), statistics.median(bare_times)
    print(f"rounds: {args.rounds}, size {args.size}, n {args.n}")
    print(f"bare client.images.generate + file write: median {bare_median * 1000:.1f} ms")
    print(f"studio generate-and-save (validate, record, verify, store, commit): median {studio_median * 1000:.1f} ms")
    print(f"ratio studio/bare: {studio_median / bare_median:.3f} (goal <= 1.25)")


if __name__ == "__main__":
    main()
