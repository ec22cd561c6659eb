"""Text from users, providers, file names, URLs and exceptions shows literally: the pages (AppTest) put it
into Markdown only through views.components.literal.literal, so no link, remote image, HTML, LaTeX or shortcode is live."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from studio.core.request import ImageRequest
from studio.services.jobs import wait_for_jobs
from studio.services.studio import Studio
from tests.conftest import ROOT, run_comparison, status_boxes
from tests.test_gallery_page import tiles
from views.components.literal import WORD_JOINER, literal

APP = str(ROOT / "app.py")
HOSTILE = "**b** [l](http://evil.example) ![i](http://evil.example/x.png) <b>h</b> :red[r] :material/home: $x^2$"
# Each pattern is live Markdown (or a Streamlit shortcode) unless a backslash (or word joiner) defuses it.
LIVE = {
    "link": re.compile(r"(?<!\\)\]\(http"),
    "image": re.compile(r"(?<!\\)!\["),
    "html": re.compile(r"(?<!\\)<b>"),
    "bold": re.compile(r"(?<!\\)\*\*b"),
    "colour": re.compile(r"(?<!\\):red\["),
    "icon": re.compile(r":material/"),
    "latex": re.compile(r"(?<!\\)\$x"),
    "autolink": re.compile(r"http://"),
}


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown text: backslash escapes resolved, word joiners invisible."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(WORD_JOINER, "")


@pytest.mark.parametrize("text", [
    HOSTILE, "a_b _i_ www.evil.example a@evil.example &amp; &#58; ~~s~~ `c` | x |",
    "# heading\n- item\n1. one\n  2) two\n---\n> quote\n    code", "photo-1.png (2): fine", "\\*already\\*",
])
def test_literal_shows_the_text_as_typed_with_nothing_live(text: str) -> None:
    escaped = literal(text)
    assert shown(escaped) == text
    assert not [name for name, pattern in LIVE.items() if pattern.search(escaped)]
    assert not re.search(r"(?<!\\)www\.|(?<!\\)@|(?<!\\)&|(?<!\\)<|(?<!\\)~|(?<!\\)`", escaped)
    assert not re.search(r"^\s*(?:[-+#>]|\d+[.)])", escaped, re.M)  # no list, heading or quote starts


def test_ordinary_text_reads_as_typed() -> None:
    assert literal("photo-1.png (2), gpt-image-1 at 10:30 today") == "photo-1.png (2), gpt-image-1 at 10\\:\u206030 today"
    assert literal("output_compression must be 0-100.") == "output_compression must be 0-100."


def markdown_bodies(at: AppTest) -> list[str]:
    """Every text the page hands Streamlit to render as Markdown: st.markdown/caption, alerts, image
    captions, status and expander labels."""
    bodies = [e.value for kind in ("markdown", "caption", "latex", "info", "warning", "error", "success", "toast")
              for e in getattr(at, kind)]
    bodies += [caption for image in at.get("imgs") for caption in image.captions]
    bodies += [e.proto.label for kind in ("expander", "status") for e in at.get(kind)]
    return bodies


def assert_shown_literally(at: AppTest, text: str) -> None:
    """`text` (at least its start: long values may be shortened with "…") is on the page, escaped, and
    nothing on the page is live Markdown."""
    assert not at.exception, at.exception
    bodies = markdown_bodies(at)
    assert any(literal(text[:40]) in body for body in bodies), [b for b in bodies if "evil" in b]
    for body in bodies:
        live = [name for name, pattern in LIVE.items() if pattern.search(body)]
        assert not live, (live, body)


def page(name: str, query: dict[str, str] | None = None, state: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(f"views/{name}.py")
    return at.run()


def press(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert wait_for_jobs(60)  # Generate runs as a background job: look again once it has landed
    return at.run()


def test_prompt_model_and_collection_from_the_gallery_show_literally(studio: Studio) -> None:
    outcome = studio.generate(ImageRequest(prompt=HOSTILE, model=HOSTILE, quality="low"))
    image = outcome.images[0]
    at = page("gallery")
    assert not at.exception
    # The grid gets prompt and model as data and sets them as text (grid.js: textContent, never innerHTML).
    assert [(tile["p"], tile["m"]) for tile in tiles(at)] == [(HOSTILE, HOSTILE)]
    at = page("gallery", {"open": f"{outcome.generation_id}-{image.id}"})  # a tile clicked
    assert_shown_literally(at, HOSTILE)  # the dialog's caption
    assert not at.table  # st.table would render Markdown in its cells; a dataframe shows them as text
    fields = dict(zip(at.dataframe[0].value["field"], at.dataframe[0].value["value"]))
    assert fields["prompt"] == HOSTILE and fields["model"] == HOSTILE

    next(t for t in at.text_input if t.label == "Add to collection").input(HOSTILE)
    at.button(key="FormSubmitter:d_collection-Add").click().run()
    assert_shown_literally(at, HOSTILE)
    assert [s.value for s in at.success] == [f"Added to “{literal(HOSTILE)}”."]
    at.button(key="d_use").click().run()  # Generate, with a notice of what changed: the prompt and model
    assert_shown_literally(at, HOSTILE)
    assert at.text_area(key="prompt").value == HOSTILE

    at = page("gallery", {"open": f"{outcome.generation_id}-{image.id}"})
    at.button(key="d_compare").click().run()
    assert_shown_literally(at, HOSTILE)
    assert at.text_area(key="compare_prompt").value == HOSTILE


def test_a_url_parameter_shows_literally(studio: Studio) -> None:
    value = "[relogin](http://evil.example) " + HOSTILE
    at = page("gallery", {"status": value})
    assert at.warning
    assert_shown_literally(at, value)


def test_a_typed_model_shows_literally_in_messages_and_compare_cells(studio: Studio) -> None:
    at = page("generate", state={"model": HOSTILE})  # typed into the sidebar's model box (accept_new_options)
    assert at.selectbox(key="model").value == HOSTILE
    at.text_area(key="prompt").input("a fox")
    press(at, "Generate")
    assert [label.startswith(f"Generating 1 image(s) with {literal(HOSTILE)}… done") for _, label in status_boxes(at)] == [True]
    assert_shown_literally(at, HOSTILE)

    at.switch_page("views/compare.py").run()
    at.selectbox(key="compare_axis").select("model").run()
    at.multiselect(key="compare_quality").set_value(["low"])
    assert HOSTILE in at.multiselect(key="compare_values_model").value  # the sidebar's model is one of the defaults
    at.toggle(key="compare_live_preview").set_value(False)
    at.text_area(key="compare_prompt").input("a fox").run()
    run_comparison(at)
    assert_shown_literally(at, HOSTILE)
    assert f"**quality low · model {literal(HOSTILE)}**" in [m.value for m in at.markdown]


def test_an_upload_file_name_shows_literally(studio: Studio) -> None:
    at = page("edit")
    name = HOSTILE + ".png"
    next(u for u in at.file_uploader if u.label == "Upload reference images").set_value((name, b"not an image", "image/png")).run()
    assert any(literal(name) in w.value for w in at.warning)
    assert_shown_literally(at, name)
