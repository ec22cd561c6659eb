"""Search by meaning over real stored vectors: prompts saved through the demo endpoint get their vectors
on the background thread, old rows get them from the backfill, and "misty harbour" finds "foggy port at
dawn" where word search finds nothing, on SQLite and PostgreSQL. Also "more like this", ranked pages
and their cursors, deletions, bad input, and the model running with no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, insert, select

from studio.core.browsing import GalleryFilter
from studio.core.errors import StudioError
from studio.core.request import ImageRequest
from studio.db.models import Generation, PromptVector
from studio.meaning import model
from studio.meaning.index import VectorIndex, decode, encode
from studio.services import meaning
from studio.services.gallery import GalleryService
from studio.services.gallery_link import parse_view, view_params
from studio.services.meaning_index import backfill, coverage, wait_for_vectors
from studio.services.studio import Studio
from tests.conftest import ROOT
from tests.test_gallery_page import prompts

sqlite_and_postgres = pytest.mark.parametrize("backend", ["sqlite+local", "postgres+local"], indirect=True)

# Each described again in other words below; none shares a word with its description.
PROMPTS = ["foggy port at dawn", "a red fox in the snow", "a bowl of ramen", "a cat sleeping on a windowsill",
           "cyberpunk city at night with neon signs", "portrait of an old fisherman"]
PARAPHRASES = {"misty harbour": "foggy port at dawn", "noodle soup": "a bowl of ramen",
               "kitten napping": "a cat sleeping on a windowsill"}


def generate(studio: Studio, prompt: str) -> int:
    return studio.generate(ImageRequest(prompt=prompt, model=studio.settings.model, quality="low")).generation_id


def old_rows(studio: Studio, prompts: list[str]) -> None:
    """Generations stored before search by meaning existed: rows without vectors."""
    with studio.records.engine.begin() as connection:
        connection.execute(insert(Generation), [{"prompt": p, "status": "failed", "provider": "demo", "base_url_host": "h",
                                                 "model": "gpt-image-1", "error_message": "refused"} for p in prompts])


def vector_rows(studio: Studio) -> list[tuple[int, str, int]]:
    with studio.records.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(PromptVector.generation_id, PromptVector.field, func.length(PromptVector.vector)).order_by(PromptVector.id))]


def prompts_of(library: GalleryService, filters: GalleryFilter) -> list[str]:
    return [item.prompt for item in library.page(filters).items]


@sqlite_and_postgres
def test_vectors_are_stored_when_a_generation_is_saved_and_meaning_finds_what_words_miss(studio: Studio) -> None:
    ids = [generate(studio, prompt) for prompt in PROMPTS]
    refused = generate(studio, "a lighthouse in a storm [demo:fail=moderation]")
    wait_for_vectors()
    rows = vector_rows(studio)
    # The prompt and the demo's revised_prompt of each saved generation; only the prompt of the refused one.
    assert sorted((g, f) for g, f, _ in rows) == sorted([(i, "prompt") for i in ids] + [(i, "revised_prompt") for i in ids]
                                                        + [(refused, "prompt")])
    assert {size for _, _, size in rows} == {model.DIMENSIONS}  # int8: one byte a dimension
    library = GalleryService(studio)
    for query, meant in PARAPHRASES.items():
        assert prompts_of(library, GalleryFilter(search=query)) == []  # no word in common
        assert prompts_of(library, GalleryFilter(search=query, mode="meaning"))[0] == meant
    assert prompts_of(library, GalleryFilter(search="beacon tower during a tempest", mode="meaning"))[0].startswith("a lighthouse")

    # The other filters still apply to a ranking by meaning.
    assert prompts_of(library, GalleryFilter(search="misty harbour", mode="meaning", status="failed"))[0].startswith("a lighthouse")


@sqlite_and_postgres
def test_the_backfill_gives_old_rows_vectors_in_batches_and_resumes_where_it_stopped(studio: Studio) -> None:
    old_rows(studio, PROMPTS)
    assert coverage_counts(studio) == (0, 6)
    library = GalleryService(studio)
    assert prompts_of(library, GalleryFilter(search="misty harbour", mode="meaning")) == []  # nothing indexed yet

    class Stop(Exception):
        pass

    def stop_after_first_batch(done: int) -> None:
        raise Stop

    with pytest.raises(Stop):  # the process stops half way
        backfill(studio.vectors, batch=4, on_batch=stop_after_first_batch)
    assert coverage_counts(studio) == (4, 6)  # the first batch was committed
    assert backfill(studio.vectors, batch=4) == 2  # goes on with the two left, not from the start
    assert backfill(studio.vectors, batch=4) == 0
    assert len(vector_rows(studio)) == 6
    assert prompts_of(library, GalleryFilter(search="misty harbour", mode="meaning"))[0] == "foggy port at dawn"


def coverage_counts(studio: Studio) -> tuple[int, int]:
    counts = studio.vectors.coverage(model.MODEL)
    return counts.indexed, counts.total


def test_a_search_on_a_gallery_not_yet_indexed_says_so_and_starts_the_backfill(studio: Studio) -> None:
    old_rows(studio, PROMPTS)
    info, problem = meaning.notice(studio, GalleryFilter(search="misty harbour", mode="meaning"))
    assert problem is None and "0 of 6 requests are indexed so far" in info
    wait_for_vectors()  # the backfill ran in the background
    assert coverage(studio.vectors).indexed == 6
    info, _ = meaning.notice(studio, GalleryFilter(search="misty harbour", mode="meaning"))
    assert "indexed so far" not in info
    assert prompts_of(GalleryService(studio), GalleryFilter(search="misty harbour", mode="meaning"))[0] == "foggy port at dawn"


@sqlite_and_postgres
def test_more_like_this_returns_the_nearest_other_generations(studio: Studio) -> None:
    old_rows(studio, ["a crimson vulpine in winter", "a bowl of ramen", "foggy port at dawn"])
    backfill(studio.vectors)
    old_rows(studio, ["a red fox in the snow"])
    vulpine, fox = 1, 4
    hits = meaning.more_like_this(studio.vectors, fox)  # not indexed yet: embedded first
    assert hits[0].generation_id == vulpine and fox not in [hit.generation_id for hit in hits]
    assert hits == sorted(hits, key=lambda hit: -hit.score)
    library = GalleryService(studio)
    assert prompts_of(library, GalleryFilter(like=fox))[0] == "a crimson vulpine in winter"
    with pytest.raises(StudioError, match="no longer in the gallery"):
        meaning.more_like_this(studio.vectors, 999)
    assert prompts_of(library, GalleryFilter(like=999)) == []
    _, problem = meaning.notice(studio, GalleryFilter(like=999))
    assert "#999 is no longer in the gallery" in problem


def test_ranked_pages_follow_their_cursors_and_deleted_generations_leave_the_ranking(studio: Studio) -> None:
    old_rows(studio, [f"foggy port at dawn, study {n}" for n in range(30)] + ["a bowl of ramen"])
    backfill(studio.vectors)
    library = GalleryService(studio)
    filters = GalleryFilter(search="misty harbour", mode="meaning")
    first = library.page(filters, limit=24)
    assert len(first.items) == 24 and first.at_start and first.next_cursor and first.prev_cursor is None
    second = library.page(filters, limit=24, after=first.next_cursor)
    assert len(second.items) == 6 and second.next_cursor is None and second.prev_cursor
    assert not {i.generation_id for i in first.items} & {i.generation_id for i in second.items}
    assert "a bowl of ramen" not in [i.prompt for i in first.items + second.items]  # below the floor: unrelated
    back = library.page(filters, limit=24, before=second.prev_cursor)
    assert [i.key for i in back.items] == [i.key for i in first.items]
    top = first.items[0]
    library.delete([(top.generation_id, None)])
    assert top.generation_id not in [i.generation_id for i in library.page(filters, limit=48).items]
    assert len(library.page(filters, limit=48).items) == 29


def test_bad_input_in_meaning_mode_gets_a_message_and_no_search() -> None:
    assert meaning.query_problem("   ") == meaning.EMPTY_QUERY and "type what the picture showed" in meaning.EMPTY_QUERY
    assert "at most 1,000 characters" in meaning.query_problem("x" * 1001)
    with pytest.raises(StudioError, match="needs a description"):
        meaning.search(None, "")  # type: ignore[arg-type]  # refused before the index or the model is touched
    assert not meaning.uses_meaning(GalleryFilter(mode="meaning"))  # an empty search lists everything as usual
    view, problems = parse_view({"mode": "vibes", "like": "abc", "q": "fox"})
    assert view.filters.mode == "words" and view.filters.like is None
    assert any("mode 'vibes' is not one of words, meaning" in p for p in problems) and any("like=" in p for p in problems)
    view, problems = parse_view({"mode": "meaning", "q": "misty harbour", "like": "7"})
    assert not problems and view_params(view) == {"mode": "meaning", "q": "misty harbour", "like": "7"}
    assert "mode" not in view_params(parse_view({"q": "fox"})[0])  # words is the default: not in the link


def test_the_index_ranks_generations_by_their_closest_text() -> None:
    vectors = model.embed(["foggy port at dawn", "a detailed rendering of a misty harbour", "a bowl of ramen", "noodle soup"])
    index = VectorIndex()
    index.add([(1, 10, blob) for blob in encode(vectors[:1])])
    index.add([(2, 10, encode(vectors[1:2])[0]), (3, 20, encode(vectors[2:3])[0]), (4, 30, b"short")])  # a damaged row
    query = model.embed(["misty harbour"])[0]
    hits = index.nearest(query, 10, min_score=0.12)
    assert [hit.generation_id for hit in hits] == [10]  # once, by its closest text; ramen and the damaged row fall below
    assert np.allclose(decode(encode(vectors)), vectors, atol=0.02)  # int8 keeps the direction
    assert index.vectors_of(10).shape == (2, model.DIMENSIONS) and len(index.vectors_of(99)) == 0
    assert index.nearest(query, 10, exclude=10)[0].generation_id != 10
    index.replace([])
    assert len(index) == 0 and index.nearest(query, 10) == []


def test_the_model_runs_from_its_wheel_with_no_network_and_writes_nothing_outside(tmp_path: Path) -> None:
    """A fresh process with every socket refused and an empty HOME: it embeds, and no cache appears."""
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        "from studio.meaning import model\n"
        "v = model.embed(['misty harbour', 'foggy port at dawn'])\n"
        "print(v.shape, round(float(v[0] @ v[1]), 2))\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "HF_HOME": str(tmp_path / "hf"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("(2, 256)")
    assert list(tmp_path.iterdir()) == []  # nothing downloaded, nothing cached


def gallery_page(query_params: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.query_params.update(query_params or {})
    at.switch_page("views/gallery.py")
    return at.run()


def test_the_gallery_searches_by_meaning_and_finds_more_like_an_image(studio: Studio) -> None:
    ids = {prompt: generate(studio, prompt) for prompt in PROMPTS[:4]}
    wait_for_vectors()
    at = gallery_page()
    assert at.radio(key="g_mode").value == "words" and not at.exception
    at.text_input(key="g_q").input("misty harbour").run()
    assert any("Nothing matches" in i.value for i in at.info)  # no word in common
    at.radio(key="g_mode").set_value("meaning").run()
    assert at.query_params["mode"] == "meaning" and at.query_params["q"] == "misty harbour"
    assert prompts(at)[0] == "foggy port at dawn"
    assert any("Closest in meaning first" in i.value for i in at.info)
    reopened = gallery_page(dict(at.query_params))  # a shared link keeps the mode
    assert reopened.radio(key="g_mode").value == "meaning" and prompts(reopened)[0] == "foggy port at dawn"
    damaged = gallery_page({**at.query_params, "after": "not-a-cursor"})
    assert any("damaged" in w.value for w in damaged.warning) and prompts(damaged)[0] == "foggy port at dawn"
    at.text_input(key="g_q").input("").run()  # nothing to go on: say what to type; every item is listed
    assert any("needs a description" in w.value for w in at.warning) and len(prompts(at)) == 4

    fox = ids["a red fox in the snow"]
    image = studio.outcome(fox).images[0]
    detail = gallery_page({"open": f"{fox}-{image.id}"})
    links = [link.proto for link in detail.get("page_link")]
    assert any(link.label == "More like this" and f"like={fox}" in link.query_string for link in links)
    like = gallery_page({"like": str(fox)})
    shown = prompts(like)
    assert "a red fox in the snow" not in shown and shown  # the others, nearest first
    assert any(f"generation #{fox}'s, closest first" in i.value for i in like.info)
    like.button(key="g_like_clear").click().run()
    assert "like" not in like.query_params and len(prompts(like)) == 4
    like = gallery_page({"like": str(fox)})
    like.text_input(key="g_q").input("ramen").run()  # new words replace "more like this"
    assert "like" not in like.query_params and prompts(like) == ["a bowl of ramen"]
    gone = gallery_page({"like": "999"})
    assert any("#999 is no longer in the gallery" in w.value for w in gone.warning)


def test_the_cli_indexes_old_rows_and_searches_by_meaning(studio: Studio) -> None:
    from tests.test_cli import run_cli

    old_rows(studio, PROMPTS)
    done = run_cli("index-prompts", "--batch", "4")
    assert done.returncode == 0, done.stderr
    assert '"indexed_now": 6' in done.stdout and "4 generations indexed" in done.stderr
    assert run_cli("generate", "a lantern glowing in a dark cave").returncode == 0  # its vectors stored before the CLI exits
    found = run_cli("search-meaning", "misty harbour", "--limit", "2")
    assert found.returncode == 0 and '"prompt": "foggy port at dawn"' in found.stdout.splitlines()[0]
    lamp = run_cli("search-meaning", "lamp in a cave", "--limit", "1")
    assert '"prompt": "a lantern glowing in a dark cave"' in lamp.stdout
    empty = run_cli("search-meaning", "  ")
    assert empty.returncode == 1 and "needs a description" in empty.stderr and not empty.stdout


def test_without_the_model_the_gallery_says_what_to_install_and_still_lists(studio: Studio, monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    """A wordllama install whose weights are gone: no page breaks, the message says how to repair it."""
    old_rows(studio, PROMPTS)
    monkeypatch.setattr(model, "package_files", lambda: (tmp_path / "gone.safetensors", tmp_path / "gone.json"))
    monkeypatch.setattr(model, "_loaded", [])
    _, problem = meaning.notice(studio, GalleryFilter(search="misty harbour", mode="meaning"))
    assert "gone.safetensors" in problem and "pip install -r requirements.txt" in problem
    library = GalleryService(studio)
    assert library.page(GalleryFilter(search="misty harbour", mode="meaning")).items == []
    assert len(library.page(GalleryFilter(search="fox")).items) == 1  # words still work


@sqlite_and_postgres
def test_each_distinct_text_is_embedded_once_and_a_second_writer_adds_nothing(studio: Studio) -> None:
    from studio.services.meaning_index import store_vectors

    batch = studio.generate(ImageRequest(prompt="two lanterns", model=studio.settings.model, n=2, quality="low"))
    bare = studio.generate(ImageRequest(prompt="no revision [demo:no-revised]", model=studio.settings.model, n=2, quality="low"))
    wait_for_vectors()
    rows = vector_rows(studio)
    # The batch's two images share one revised_prompt: the prompt and it, once each; none came back for the other.
    assert [(f) for g, f, _ in rows if g == batch.generation_id] == ["prompt", "revised_prompt"]
    assert [(f) for g, f, _ in rows if g == bare.generation_id] == ["prompt"]
    store_vectors(studio.vectors, [batch.generation_id, bare.generation_id])  # e.g. a backfill in another process
    assert vector_rows(studio) == rows


def test_a_read_only_gallery_searches_what_is_indexed_and_says_why_the_rest_is_not(studio: Studio) -> None:
    from urllib.parse import quote

    from studio.db.engine import get_engine
    from studio.db.generations import GenerationRecords

    old_rows(studio, PROMPTS[:3])
    backfill(studio.vectors)
    old_rows(studio, PROMPTS[3:])  # three more, never indexed
    path = make_url_path(studio)
    engine = get_engine(f"sqlite:///file:{quote(path)}?mode=ro&uri=true")
    reader = Studio(studio.settings, GenerationRecords(engine), studio.storage)
    assert reader.vectors.read_only
    info, problem = meaning.notice(reader, GalleryFilter(search="misty harbour", mode="meaning"))
    assert problem is None and "Only 3 of 6 requests are indexed" in info and "read-only" in info
    wait_for_vectors()
    assert coverage_counts(studio) == (3, 6)  # no backfill was tried on it
    assert prompts_of(GalleryService(reader), GalleryFilter(search="misty harbour", mode="meaning"))[0] == "foggy port at dawn"
    engine.dispose()


def make_url_path(studio: Studio) -> str:
    return studio.records.engine.url.database


def test_a_remembered_ranking_is_dropped_as_soon_as_the_index_changes(studio: Studio) -> None:
    old_rows(studio, ["a red fox in the snow"])
    backfill(studio.vectors)
    library = GalleryService(studio)
    filters = GalleryFilter(search="misty harbour", mode="meaning")
    assert prompts_of(library, filters) == []
    assert prompts_of(library, filters) == []  # the same words again: remembered
    old_rows(studio, ["foggy port at dawn"])
    backfill(studio.vectors)
    assert prompts_of(library, filters) == ["foggy port at dawn"]  # a new vector: ranked again
