"""The Gallery in a real browser against a static-page floor: seed (or reuse) a gallery, start the studio,
and in headless Chromium time

  (a) opening the Gallery until its first 48 tiles are shown, their thumbnails decoded (a fresh browser
      context each round),
  (b) each further 48 reached by scrolling (scrolled to the end of what is loaded, until the next page
      is decoded: the wait when a user has outrun the prefetch),
  (c) a search (typed, Enter, until its first thumbnails are decoded),

beside the same 48 thumbnail files in a static HTML page served by `python -m http.server` (the floor),
all in one run. Prints medians and studio/floor ratios, the server's RSS growth while scrolling through
1,000 images, and that 1,000 distinct images were reached by scrolling alone.

    .venv/bin/python bench/gallery_browser.py [--images 100000] [--keep DIR] [--rounds 5] [--scroll 1000]

Goals (issue 11): ratio <= 3 for (a) and (b); RSS growth < 50 MB after 1,000 images.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.gallery import seed  # noqa: E402
from studio.core.browsing import GalleryFilter  # noqa: E402
from studio.core.config import load_settings  # noqa: E402
from studio.db.models import Generation  # noqa: E402
from studio.services.gallery import GalleryService  # noqa: E402
from studio.services.studio import Studio  # noqa: E402

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1440, "height": 900}
HOST = '[data-testid="stBidiComponentIsolated"]'  # the grid element's shadow host
# True once the grid shows its first `n` tiles and every thumbnail among them is decoded (a failed
# request's tile has no image: it counts as shown), or the static page its first `n` images.
GRID_DECODED = f"""n => {{
  const host = document.querySelector('{HOST}');
  const tiles = host && host.shadowRoot ? [...host.shadowRoot.querySelectorAll('.g-tile')].slice(0, n) : [];
  return tiles.length >= n && tiles.every(t => {{ const i = t.querySelector('img');
    const note = t.querySelector('.g-note');
    return i ? i.complete && i.naturalWidth > 0 : !!note && note.textContent !== 'loading…'; }});
}}"""
STATIC_DECODED = """n => { const imgs = [...document.images];
  return imgs.length >= n && imgs.slice(0, n).every(i => i.complete && i.naturalWidth > 0); }"""
PAGE_DECODED = f"""index => {{
  const host = document.querySelector('{HOST}');
  const page = host && host.shadowRoot && host.shadowRoot.querySelector(`.g-page[data-index="${{index}}"]`);
  if (!page) return false;
  const imgs = [...page.querySelectorAll('img')];
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}}"""
SHELL_DRAWN = "_ => !!document.querySelector('h1')"  # Streamlit's app loaded, connected, and the page's first delta drawn
GRID_STATE = f"""() => {{
  const host = document.querySelector('{HOST}');
  const root = host && host.shadowRoot;
  if (!root) return {{keys: [], last: -1}};
  const pages = [...root.querySelectorAll('.g-page')].map(p => +p.dataset.index);
  return {{keys: [...root.querySelectorAll('.g-tile')].map(t => t.dataset.k), last: Math.max(-1, ...pages)}};
}}"""
SCROLL_TO_END = f"""() => {{
  const host = document.querySelector('{HOST}');
  const tiles = host.shadowRoot.querySelectorAll('.g-tile');
  tiles[tiles.length - 1].scrollIntoView({{block: 'end'}});
}}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.2)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seeded(root: Path, images: int) -> GalleryService:
    settings = load_settings({"STUDIO_DATA_DIR": str(root)}, secrets_path=root / "no-secrets.toml")
    library = GalleryService(Studio.open(settings))
    with library.records.engine.connect() as connection:
        rows = connection.scalar(select(func.count()).select_from(Generation))
    if not rows:
        started = time.perf_counter()
        seed(library, images, random.Random(7))
        print(f"seeded {images:,} items in {time.perf_counter() - started:.1f} s ({root})")
    else:
        print(f"reused {rows:,} items in {root}")
    return library


def floor_folder(library: GalleryService, target: Path) -> Path:
    """The first page's 48 thumbnail files, copied beside an index.html that shows them as plain <img>."""
    page = library.page(GalleryFilter(), limit=60)
    names = []
    for number, item in enumerate(i for i in page.items if i.thumbnail_path):
        if len(names) == 48:
            break
        name = f"{number:02d}.webp"
        (target / name).write_bytes(library.storage.read(item.thumbnail_path))
        names.append(name)
    tags = "".join(f'<img src="{n}" width="128" height="128">' for n in names)
    (target / "index.html").write_text(f"<!doctype html><html><body>{tags}</body></html>")
    return target


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def timed_open(browser, url: str, ready: str, arg: int) -> float:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function(ready, arg=arg, timeout=60_000, polling="raf")
        return time.perf_counter() - started
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="gallery items to seed (when the folder is empty)")
    parser.add_argument("--keep", help="seed into this folder and keep it (or reuse it: bench/gallery.py --keep makes the same)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (a), (c) and the floor")
    parser.add_argument("--scroll", type=int, default=1000, help="images to reach by scrolling for (b) and the RSS figure")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="gallery-browser-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    library = seeded(root, args.images)
    work = Path(tempfile.mkdtemp(prefix="gallery-browser-floor-"))
    floor = floor_folder(library, work)

    port, static_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STUDIO_DATA_DIR": str(root), "OPENAI_API_KEY": "sk-bench-unused",
           "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "STUDIO_DATABASE_URL": "", "STUDIO_STORAGE_URL": "", "STUDIO_PASSWORD": ""}
    log = work / "streamlit.log"
    studio = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=work, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    static = subprocess.Popen([sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1"],
                              cwd=floor, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, static_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{static_port}/index.html"
    try:
        wait_healthy(f"{url}/_stcore/health", studio, log)
        wait_healthy(static_url, static, log)
        return measure(url, static_url, studio.pid, args)
    finally:
        for process in (studio, static):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def measure(url: str, static_url: str, server_pid: int, args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # (a) opening, each round in a fresh context (no HTTP cache), alternating studio and floor.
            studio_open, floor_open, shell_open = [], [], []
            for _ in range(args.rounds + 1):
                studio_open.append(timed_open(browser, f"{url}/gallery", GRID_DECODED, 48))
                floor_open.append(timed_open(browser, static_url, STATIC_DECODED, 48))
                shell_open.append(timed_open(browser, f"{url}/gallery", SHELL_DRAWN, 0))
            first_open = studio_open.pop(0)  # the server's first run of the page (imports, caches)
            floor_open.pop(0)
            shell_open.pop(0)
            a, floor, shell = median_ms(studio_open), median_ms(floor_open), median_ms(shell_open)
            print(f"(a) open Gallery -> 48 tiles decoded: {a:7.0f} ms median of {args.rounds} (first ever {first_open * 1000:.0f} ms) | "
                  f"floor {floor:6.0f} ms | ratio {a / floor:5.2f}")
            print(f"    of which Streamlit's own start (page title drawn): {shell:.0f} ms median ({shell / floor:.2f}x the floor)")

            # (b) scrolling: outrun the prefetch, then wait for the next page of 48 to be decoded.
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(f"{url}/gallery")
            page.wait_for_function(GRID_DECODED, arg=48, timeout=60_000, polling="raf")
            page.wait_for_timeout(1500)  # let the prefetch settle
            rss_before = rss_mb(server_pid)
            seen: set[str] = set()
            steps: list[float] = []
            max_dom = 0
            while len(seen) < args.scroll:
                state = page.evaluate(GRID_STATE)
                seen |= set(state["keys"])
                max_dom = max(max_dom, len(state["keys"]))
                if len(seen) >= args.scroll:
                    break
                target = state["last"] + 1
                started = time.perf_counter()
                page.evaluate(SCROLL_TO_END)
                page.mouse.wheel(0, 400)
                page.wait_for_function(PAGE_DECODED, arg=target, timeout=30_000, polling="raf")
                steps.append(time.perf_counter() - started)
            state = page.evaluate(GRID_STATE)
            seen |= set(state["keys"])
            page.wait_for_timeout(1000)
            rss_after = rss_mb(server_pid)
            b = median_ms(steps)
            print(f"(b) each further 48 by scrolling: {b:7.0f} ms median of {len(steps)} (p90 "
                  f"{sorted(steps)[int(len(steps) * 0.9)] * 1000:.0f} ms) | floor {floor:6.0f} ms | ratio {b / floor:5.2f}")
            print(f"    reached by scrolling alone: {len(seen):,} distinct images (goal 1,000); at most {max_dom} tiles in the DOM")
            print(f"    server RSS: {rss_before:.1f} MB -> {rss_after:.1f} MB after scrolling (growth {rss_after - rss_before:+.1f} MB; goal < 50 MB)")
            context.close()

            # (c) a search: type a word, Enter, until its first thumbnails are decoded.
            searches = []
            for word in ("lighthouse", "koi", "motif0042", "dreamy", "tangled")[: max(args.rounds, 1)]:
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                page.goto(f"{url}/gallery")
                page.wait_for_function(GRID_DECODED, arg=48, timeout=60_000, polling="raf")
                box = page.get_by_role("textbox", name="Search prompts")
                box.fill(word)
                started = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(
                    f"""w => {{ const host = document.querySelector('{HOST}');
                      const caps = host ? [...host.shadowRoot.querySelectorAll('.g-tile .g-cap')] : [];
                      const imgs = host ? [...host.shadowRoot.querySelectorAll('.g-tile img')] : [];
                      return caps.length > 0 && caps.every(c => c.textContent.includes(w))
                        && imgs.slice(0, 24).every(i => i.complete && i.naturalWidth > 0); }}""",
                    arg=word, timeout=60_000, polling="raf")
                searches.append(time.perf_counter() - started)
                context.close()
            c = median_ms(searches)
            print(f"(c) search (Enter -> thumbnails decoded): {c:7.0f} ms median of {len(searches)} "
                  f"({', '.join(f'{s * 1000:.0f}' for s in searches)} ms) | ratio to the floor {c / floor:5.2f}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
