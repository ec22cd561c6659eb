"""Load: many writers into one SQLite gallery lose nothing and fail nothing."""

import json
import os
import subprocess
import sys
import textwrap
import threading

from sqlalchemy import func, select

from studio.core.config import load_settings
from studio.db.models import Generation, Image
from studio.core.request import ImageRequest
from studio.services.studio import Studio
from tests.browser import browser_page, streamlit_server
from tests.conftest import ROOT, TEST_KEY

WRITER = textwrap.dedent(
    """
    import json, sys
    from studio.core.config import load_settings
    from studio.core.request import ImageRequest
    from studio.services.studio import Studio

    studio = Studio.open(load_settings())
    errors = 0
    for i in range(25):
        outcome = studio.generate(ImageRequest(prompt=f"writer {sys.argv[1]} image {i}", model="gpt-image-2", quality="low"))
        errors += outcome.status != "succeeded"
    print(json.dumps({"errors": errors}))
    """
)


def counts(studio: Studio) -> tuple[int, int, int]:
    with studio.records.session() as session:
        generations = session.scalar(select(func.count()).select_from(Generation))
        succeeded = session.scalar(select(func.count()).select_from(Generation).where(Generation.status == "succeeded"))
        images = session.scalar(select(func.count()).select_from(Image))
    return generations, succeeded, images


def test_eight_processes_save_200_generations(studio_env):
    Studio.open(load_settings())  # migrate once, as the first server start would
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(w)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(8)]
    results = [w.communicate(timeout=240) for w in writers]
    assert [w.returncode for w in writers] == [0] * 8, [err for _, err in results]
    assert sum(json.loads(out)["errors"] for out, _ in results) == 0
    studio = Studio.open(load_settings())
    assert counts(studio) == (200, 200, 200)
    assert all(o.images[0].path.is_file() for o in studio.recent(200))


def test_eight_threads_save_200_generations(studio):
    errors: list[str] = []

    def writer(w: int) -> None:
        for i in range(25):
            outcome = studio.generate(ImageRequest(prompt=f"thread {w} image {i}", model="gpt-image-2"))
            if outcome.status != "succeeded":
                errors.append(outcome.error.message)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counts(studio) == (200, 200, 200)


def test_two_servers_share_one_data_dir_through_their_pages(studio_env, demo_server, tmp_path):
    env = {"OPENAI_API_KEY": TEST_KEY, "OPENAI_BASE_URL": demo_server.base_url, "STUDIO_DATA_DIR": str(studio_env), "STUDIO_MAX_RETRIES": "0"}
    with streamlit_server(env, tmp_path) as first, streamlit_server(env, tmp_path) as second, browser_page() as page:
        for round_ in range(3):
            for name, url in (("first", first), ("second", second)):
                page.goto(url)
                prompt = f"{name} server, round {round_}"
                page.get_by_label("Prompt").fill(prompt)
                page.get_by_text("Live preview").click()  # streamed results carry no revised_prompt at the API
                page.get_by_role("button", name="Generate").click()
                page.get_by_text(f"A detailed rendering of: {prompt}").wait_for(timeout=30_000)
        page.goto(f"{second}/gallery")
        page.get_by_text("first server, round 2", exact=True).wait_for(timeout=30_000)
    studio = Studio.open(load_settings())
    assert counts(studio) == (6, 6, 6)
