"""The Gallery in a real browser against a static-page floor: seed (or reuse) a gallery, start the studio,
and in headless Chromium time

  (a) opening the Gallery until its first 48 tiles are shown, their thumbnails decoded (a fresh browser
      context each round),
  (b) each further 48 reached by scrolling (scrolled to the end of what is loaded, until the next page
      is decoded: the wait when a user has outrun the prefetch),
  (c) a search (typed, Enter, until the grid's first tiles are the ones GalleryService returns for that
      search and their thumbnails are decoded),
  (d) a step in the image view (the lightbox opened at the 44th item, → pressed 10 times, crossing the
      first keyset page's end on the 5th: each until the next item's full image is decoded), in a small
      gallery of its own whose images are --lightbox-px wide PNGs of a few MB, as a model makes them
      (the seeded gallery's are 384 px PNGs of 3 KB),

beside the same 48 thumbnail files in a static HTML page served by `python -m http.server` (the floor),
and for (d) also a static page that swaps one <img> to the next full image file (the lightbox floor),
all in one run. Prints medians and studio/floor ratios, the server's RSS growth while scrolling through
1,000 images, and that 1,000 distinct images were reached by scrolling alone.

    .venv/bin/python bench/gallery_browser.py [--images 100000] [--keep DIR] [--rounds 5] [--scroll 1000] [--only abcd] [--lightbox-px 1024]

Goals (issue 11): ratio <= 3 for (a) and (b); RSS growth < 50 MB after 1,000 images.
"""

from __future__ import annotations

import argparse
import io
import json
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

from PIL import Image as PILImage  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from bench.gallery import seed  # noqa: E402
from studio.core.browsing import GalleryFilter  # noqa: E402
from studio.core.config import load_settings  # noqa: E402
from studio.db.models import Generation, Image  # noqa: E402
from studio.services.gallery import GalleryService  # noqa: E402
from studio.services.gallery_tiles import item_key  # noqa: E402
from studio.services.gallery_window import CHUNK  # noqa: E402
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


STEPS = 10  # presses of → per round in (d)
OPEN_AT = CHUNK - 5  # the lightbox opens at the 44th item: the 5th step crosses the first keyset page's end
LIGHTBOX_ITEMS = 100  # (d)'s own gallery (with --lightbox-px): newest first, items 44-54 are stepped through
LIGHTBOX_FILES = 16  # distinct full images in it
FULL_IMAGES = min(STEPS + 1, LIGHTBOX_FILES)  # the lightbox floor's files: as many swaps as steps


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


def floor_folder(library: GalleryService, lightbox: GalleryService, target: Path) -> Path:
    """The first page's 48 thumbnail files, copied beside an index.html that shows them as plain <img>;
    and (d)'s full images beside a lightbox.html that shows one."""
    target.mkdir()
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
    # The lightbox floor: FULL_IMAGES distinct full images (the files of the items (d) steps through), one shown at a time.
    full = [item.path for item in lightbox.page(GalleryFilter(), limit=OPEN_AT + STEPS + 60).items[OPEN_AT:] if item.path]
    for number, path in enumerate(list(dict.fromkeys(full))[:FULL_IMAGES]):
        (target / f"full-{number:02d}.png").write_bytes(lightbox.storage.read(path))
    (target / "lightbox.html").write_text('<!doctype html><html><body><img id="full" src="full-00.png" '
                                          'style="max-width:860px;width:100%"></body></html>')
    return target


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def timed_open(browser, url: str, ready: str, arg: int, context=None) -> float:
    """Seconds from navigating to `ready`: in a fresh context (no HTTP cache), or in `context` (a returning
    user's browser, its cache holding what an earlier visit fetched)."""
    own = context is None
    context = browser.new_context(viewport=VIEWPORT) if own else context
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_function(ready, arg=arg, timeout=60_000, polling="raf")
        return time.perf_counter() - started
    finally:
        page.close()
        if own:
            context.close()


def start_studio(root: Path, work: Path, name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STUDIO_DATA_DIR": str(root), "OPENAI_API_KEY": "sk-bench-unused",
           "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "STUDIO_DATABASE_URL": "", "STUDIO_STORAGE_URL": "", "STUDIO_PASSWORD": ""}
    log = work / f"{name}.log"
    studio = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=work, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{url}/_stcore/health", studio, log)
    except RuntimeError:
        studio.kill()
        raise
    return studio, url


def full_size_gallery(root: Path, px: int) -> GalleryService:
    """(d)'s gallery: LIGHTBOX_ITEMS items as bench/gallery.py seeds them, their images replaced by px x px
    noisy PNGs (a few MB each, like a model's PNG; LIGHTBOX_FILES distinct, so neighbours differ)."""
    settings = load_settings({"STUDIO_DATA_DIR": str(root)}, secrets_path=root / "no-secrets.toml")
    library = GalleryService(Studio.open(settings))
    seed(library, LIGHTBOX_ITEMS, random.Random(7))
    stored = []
    for number in range(LIGHTBOX_FILES):
        picture = PILImage.merge("RGB", [PILImage.effect_noise((px, px), 24 + number + band) for band in range(3)])
        buffer = io.BytesIO()
        picture.save(buffer, "PNG", compress_level=1)
        stored.append(library.storage.put(buffer.getvalue(), "png"))
    with library.records.engine.begin() as connection:
        ids = connection.scalars(select(Image.id).order_by(Image.id)).all()
        for n, image_id in enumerate(ids):
            file = stored[n % LIGHTBOX_FILES]
            connection.execute(update(Image).where(Image.id == image_id).values(
                path=file.path, sha256=file.sha256, bytes=file.bytes, width=px, height=px))
    return library


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="gallery items to seed (when the folder is empty)")
    parser.add_argument("--keep", help="seed into this folder and keep it (or reuse it: bench/gallery.py --keep makes the same)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of (a), (c), (d) and the floor")
    parser.add_argument("--scroll", type=int, default=1000, help="images to reach by scrolling for (b) and the RSS figure")
    parser.add_argument("--only", default="abcd", help="the figures to measure, e.g. cd (the floor is always measured)")
    parser.add_argument("--lightbox-px", type=int, default=1024,
                        help="(d) steps through a small gallery of images this size (0: the gallery's own, 384 px)")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="gallery-browser-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    library = seeded(root, args.images)
    work = Path(tempfile.mkdtemp(prefix="gallery-browser-floor-"))
    lightbox, lightbox_root = library, root
    if "d" in args.only and args.lightbox_px:
        lightbox_root = work / "lightbox-gallery"
        lightbox = full_size_gallery(lightbox_root, args.lightbox_px)
    floor = floor_folder(library, lightbox, work / "floor")

    processes = []
    try:
        studio, url = start_studio(root, work, "streamlit")
        processes.append(studio)
        lightbox_url = url
        if lightbox is not library:
            second, lightbox_url = start_studio(lightbox_root, work, "streamlit-lightbox")
            processes.append(second)
        static_port = free_port()
        static = subprocess.Popen([sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1"],
                                  cwd=floor, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(static)
        static_url = f"http://127.0.0.1:{static_port}/index.html"
        wait_healthy(static_url, static, work / "streamlit.log")
        return measure(url, static_url, studio.pid, args, library, lightbox, lightbox_url)
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def measure(url: str, static_url: str, server_pid: int, args: argparse.Namespace, library: GalleryService,
            lightbox: GalleryService, lightbox_url: str) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # The floor is measured in every run: each figure is a ratio within one run.
            floor = measure_open(browser, url, static_url, args.rounds, show="a" in args.only)
            if "b" in args.only:
                measure_scroll(browser, url, server_pid, args.scroll, floor)
            if "c" in args.only:
                measure_search(browser, url, library, args.rounds, floor)
            if "d" in args.only:
                measure_steps(browser, lightbox_url, static_url, lightbox, args.rounds, floor)
        finally:
            browser.close()
    return 0


def measure_open(browser, url: str, static_url: str, rounds: int, show: bool) -> float:
    """(a) opening, each round in a fresh context (no HTTP cache), alternating studio and floor."""
    studio_open, floor_open, shell_open = [], [], []
    for _ in range(rounds + 1):
        if show:
            studio_open.append(timed_open(browser, f"{url}/gallery", GRID_DECODED, 48))
        floor_open.append(timed_open(browser, static_url, STATIC_DECODED, 48))
        if show:
            shell_open.append(timed_open(browser, f"{url}/gallery", SHELL_DRAWN, 0))
    floor_open.pop(0)
    floor = median_ms(floor_open)
    if not show:
        print(f"floor (static page, 48 thumbnails decoded): {floor:.0f} ms median of {rounds}")
        return floor
    first_open = studio_open.pop(0)  # the server's first run of the page (imports, caches)
    shell_open.pop(0)
    a, shell = median_ms(studio_open), median_ms(shell_open)
    print(f"(a) open Gallery -> 48 tiles decoded: {a:7.0f} ms median of {rounds} (first ever {first_open * 1000:.0f} ms) | "
          f"floor {floor:6.0f} ms | ratio {a / floor:5.2f}")
    print(f"    of which Streamlit's own start (page title drawn): {shell:.0f} ms median ({shell / floor:.2f}x the floor)")
    # A returning user: the same browser opens the page again (Streamlit's scripts and the floor's files cached).
    warm_studio, warm_floor = browser.new_context(viewport=VIEWPORT), browser.new_context(viewport=VIEWPORT)
    try:
        timed_open(browser, f"{url}/gallery", GRID_DECODED, 48, warm_studio)
        timed_open(browser, static_url, STATIC_DECODED, 48, warm_floor)
        again = [timed_open(browser, f"{url}/gallery", GRID_DECODED, 48, warm_studio) for _ in range(rounds)]
        again_floor = [timed_open(browser, static_url, STATIC_DECODED, 48, warm_floor) for _ in range(rounds)]
    finally:
        warm_studio.close()
        warm_floor.close()
    warm, warm_base = median_ms(again), median_ms(again_floor)
    print(f"    opened again in the same browser (its cache warm): {warm:.0f} ms median | floor {warm_base:.0f} ms | "
          f"ratio {warm / warm_base:5.2f} | ratio to the cold floor {warm / floor:5.2f}")
    return floor


def measure_scroll(browser, url: str, server_pid: int, scroll: int, floor: float) -> None:
    """(b) scrolling: outrun the prefetch, then wait for the next page of 48 to be decoded."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{url}/gallery")
    page.wait_for_function(GRID_DECODED, arg=48, timeout=60_000, polling="raf")
    page.wait_for_timeout(1500)  # let the prefetch settle
    rss_before = rss_mb(server_pid)
    seen: set[str] = set()
    steps: list[float] = []
    max_dom = 0
    while len(seen) < scroll:
        state = page.evaluate(GRID_STATE)
        seen |= set(state["keys"])
        max_dom = max(max_dom, len(state["keys"]))
        if len(seen) >= scroll:
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


SEARCH_SHOWN = f"""([word, keys]) => {{
  const host = document.querySelector('{HOST}');
  const tiles = host && host.shadowRoot ? [...host.shadowRoot.querySelectorAll('.g-tile')].slice(0, keys.length) : [];
  return new URLSearchParams(location.search).get('q') === word && tiles.length === keys.length
    && tiles.every((t, n) => t.dataset.k === keys[n]) && tiles.every(t => {{ const i = t.querySelector('img');
      return i ? i.complete && i.naturalWidth > 0 : !!t.querySelector('.g-note'); }});
}}"""
# What the grid shows, printed when a wait times out.
GRID_SHOWN = f"""() => {{
  const hosts = [...document.querySelectorAll('{HOST}')];
  return {{url: location.href, hosts: hosts.length, grids: hosts.map(h => {{ const r = h.shadowRoot;
    const tiles = r ? [...r.querySelectorAll('.g-tile')] : [];
    return {{tiles: tiles.length, status: r && r.querySelector('.g-status') ? r.querySelector('.g-status').textContent : null,
      first: tiles.slice(0, 6).map(t => [t.dataset.k, t.querySelector('.g-cap') ? t.querySelector('.g-cap').textContent : null]),
      undecoded: tiles.slice(0, 24).filter(t => {{ const i = t.querySelector('img'); return i && !(i.complete && i.naturalWidth > 0); }}).length}}; }})}};
}}"""


def measure_search(browser, url: str, library: GalleryService, rounds: int, floor: float) -> None:
    """(c) a search: type a word, Enter, until the grid's first 24 tiles are the first 24 items
    GalleryService returns for that search (newest first) and their thumbnails are decoded."""
    searches = []
    for word in ("lighthouse", "koi", "motif0042", "dreamy", "tangled")[: max(rounds, 1)]:
        expected = [item_key(item) for item in library.page(GalleryFilter(search=word), "newest", 24).items]
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(f"{url}/gallery")
        page.wait_for_function(GRID_DECODED, arg=48, timeout=60_000, polling="raf")
        box = page.get_by_role("textbox", name="Search prompts")
        box.fill(word)
        started = time.perf_counter()
        box.press("Enter")
        try:
            page.wait_for_function(SEARCH_SHOWN, arg=[word, expected], timeout=60_000, polling="raf")
        except Exception:
            print(f"(c) timed out searching {word!r}: expected the first tiles {expected[:6]}; the search box holds "
                  f"{box.input_value()!r}; the page shows {json.dumps(page.evaluate(GRID_SHOWN))}")
            raise
        searches.append(time.perf_counter() - started)
        context.close()
    c = median_ms(searches)
    print(f"(c) search (Enter -> its first 24 tiles decoded): {c:7.0f} ms median of {len(searches)} "
          f"({', '.join(f'{s * 1000:.0f}' for s in searches)} ms) | ratio to the floor {c / floor:5.2f}")


# True once the lightbox shows `number` (its caption) and, for an image, the picture is a new <img> source
# fully decoded; a failed request's item shows no picture.
LIGHTBOX_SHOWN = """([number, image, previous]) => {
  const dialog = document.querySelector('[role="dialog"]');
  if (!dialog) return false;
  const caption = [...dialog.querySelectorAll('[data-testid="stCaptionContainer"]')]
    .some(c => c.textContent.startsWith(`Generation #${number} ·`));
  const picture = dialog.querySelector('[data-testid="stImage"] img');
  if (!caption) return false;
  if (!image) return true;
  return !!picture && picture.getAttribute('src') !== previous && picture.complete && picture.naturalWidth > 0;
}"""
PICTURE_SRC = """() => { const d = document.querySelector('[role="dialog"]');
  const i = d && d.querySelector('[data-testid="stImage"] img'); return i ? i.getAttribute('src') : null; }"""
STATIC_SWAPPED = """name => { const i = document.getElementById('full');
  return i.getAttribute('src') === name && i.complete && i.naturalWidth > 0; }"""


def measure_steps(browser, url: str, static_url: str, library: GalleryService, rounds: int, floor: float) -> None:
    """(d) the lightbox opened by its link at the 44th item (the grid's window then holds the first keyset
    page alone), → pressed STEPS times, each until the next item is shown, its full image decoded; beside
    it, a static page swapping one <img> to the next full image file (each file once: no cache)."""
    items = library.page(GalleryFilter(), "newest", OPEN_AT + STEPS + 1).items
    keys = [item_key(item) for item in items]
    steps, crossing = [], []
    for _ in range(max(rounds, 1)):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(f"{url}/gallery?open={keys[OPEN_AT]}")
        page.get_by_role("dialog").get_by_text("← → previous / next").wait_for(timeout=60_000)  # the keys are listened to
        page.wait_for_function(LIGHTBOX_SHOWN, arg=[items[OPEN_AT].generation_id, bool(items[OPEN_AT].image_id), None],
                               timeout=60_000, polling="raf")
        page.wait_for_timeout(1000)  # as a user looks at the picture before stepping on
        for at in range(OPEN_AT + 1, OPEN_AT + 1 + STEPS):
            previous = page.evaluate(PICTURE_SRC)
            started = time.perf_counter()
            page.keyboard.press("ArrowRight")
            try:
                page.wait_for_function(LIGHTBOX_SHOWN, arg=[items[at].generation_id, bool(items[at].image_id), previous],
                                       timeout=30_000, polling="raf")
            except Exception:
                print(f"(d) timed out stepping to {keys[at]}: the page is at {page.url}")
                raise
            (crossing if at == CHUNK else steps).append(time.perf_counter() - started)
            page.wait_for_timeout(300)  # a user's pace between presses
        context.close()
    d = median_ms(steps + crossing)
    floor_steps = static_steps(browser, static_url)
    f = median_ms(floor_steps)
    print(f"(d) lightbox step (-> until the next image is decoded): {d:7.0f} ms median of {len(steps) + len(crossing)} "
          f"(within the window {median_ms(steps):.0f} ms; across the first page's end {median_ms(crossing):.0f} ms) | "
          f"lightbox floor {f:5.0f} ms, ratio {d / f:5.2f} | floor {floor:6.0f} ms, ratio {d / floor:5.2f}")


def static_steps(browser, static_url: str) -> list[float]:
    """The lightbox floor: a static page showing one full image, its src set to the next file."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(static_url.replace("index.html", "lightbox.html"))
        page.wait_for_function(STATIC_SWAPPED, arg="full-00.png", timeout=30_000, polling="raf")
        times = []
        for n in range(1, FULL_IMAGES):
            name = f"full-{n:02d}.png"
            started = time.perf_counter()
            page.evaluate("name => { document.getElementById('full').src = name; }", name)
            page.wait_for_function(STATIC_SWAPPED, arg=name, timeout=30_000, polling="raf")
            times.append(time.perf_counter() - started)
            page.wait_for_timeout(300)
        return times
    finally:
        context.close()


if __name__ == "__main__":
    raise SystemExit(main())
