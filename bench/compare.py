"""Compare grid speed: a 3-tier x n=2 grid against the local endpoint with 1 s of added latency per request.

Prints the grid's wall time, the slowest single request's latency and their ratio (goal: <= 1.15, i.e. the
grid takes about as long as its slowest cell, not the sum of all cells).

    .venv/bin/python bench/compare.py [--runs 3] [--delay 1.0] [--n 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.services.compare import GridSpec, run_grid  # noqa: E402
from studio.core.config import load_settings  # noqa: E402
from studio.provider.demo import DemoConfig, start_demo_server  # noqa: E402
from studio.core.request import ImageRequest  # noqa: E402
from studio.services.studio import Studio  # noqa: E402

GOAL = 1.15


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="grids to run, one after the other")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the endpoint adds to every request")
    parser.add_argument("--n", type=int, default=2, help="images per cell")
    args = parser.parse_args()

    server = start_demo_server(config=DemoConfig(api_key="bench-key", delay_s=args.delay))
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as data_dir:
        env = {"OPENAI_API_KEY": "bench-key", "OPENAI_BASE_URL": server.base_url, "STUDIO_DATA_DIR": data_dir,
               "STUDIO_MAX_RETRIES": "0", "STUDIO_MODEL": "gpt-image-2"}
        studio = Studio.open(load_settings(env, secrets_path=Path(data_dir) / "no-secrets.toml"))
        spec = GridSpec(ImageRequest(prompt="a lighthouse at dusk, bench", model="gpt-image-2", n=args.n, size="1024x1024"),
                        ("low", "medium", "high"))
        print(f"grid: quality low,medium,high x n={args.n} at 1024x1024; endpoint adds {args.delay:.1f} s per request; "
              f"{args.runs} run(s)")
        # Warm-up and reference: the high-quality cell on its own. It also builds the process's API client
        # (~50 ms, once per process), which is not the grid's cost.
        alone = studio.generate(spec.cells()[-1].request)
        print(f"reference: the high-quality cell alone takes {alone.generation.latency_s:.3f} s; "
              f"the three cells one after another would take about {3 * alone.generation.latency_s:.1f} s")
        ratios = []
        for number in range(1, args.runs + 1):
            started = time.perf_counter()
            run, cells = run_grid(studio, spec)
            wall = time.perf_counter() - started
            failed = [c.label for c in cells if c.status != "succeeded"]
            if failed:
                print(f"run {number}: cells failed: {', '.join(failed)}", file=sys.stderr)
                return 1
            slowest = max(c.generation.latency_s for c in cells if c.generation and c.generation.latency_s)
            ratios.append(wall / slowest)
            print(f"run {number}: grid wall time {wall:.3f} s · slowest single request {slowest:.3f} s · "
                  f"ratio {wall / slowest:.3f} · workers {run.workers} · images {sum(len(c.outcome.images) for c in cells if c.outcome)}")
        server.stop()
    worst = max(ratios)
    print(f"worst ratio {worst:.3f} (goal <= {GOAL}): {'met' if worst <= GOAL else 'NOT met'}")
    return 0 if worst <= GOAL else 2


if __name__ == "__main__":
    raise SystemExit(main())
