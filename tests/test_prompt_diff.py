"""The image view's prompt-vs-revised_prompt diff: what is marked, what is escaped, and that long prompts stay whole."""

from __future__ import annotations

import html
import random
import re

from studio.services.prompt_diff import diff_html


def plain(marked: str) -> str:
    return html.unescape(re.sub(r"</?(del|ins)>", "", marked))


def test_words_the_model_changed_are_marked_and_the_rest_is_not():
    before, after = diff_html("A watercolor fox in the snow", "A watercolour red fox in the deep snow")
    assert before == "A <del>watercolor</del> fox in the snow"
    assert after == "A <ins>watercolour red</ins> fox in the <ins>deep</ins> snow"


def test_case_and_spacing_alone_are_not_differences():
    assert diff_html("  Two  Spaces", "two spaces") == ("  Two  Spaces", "two spaces")


def test_markup_is_escaped_never_passed_through():
    before, after = diff_html("<b>x</b> <script>y</script>", "<b>x</b> z")
    assert "<b>" not in before + after and "<script>" not in before + after
    assert "&lt;script&gt;y&lt;/script&gt;" in before and "<ins>z</ins>" in after


def test_no_revision_shows_the_prompt_alone():
    assert diff_html("a <fox>", None) == ("a &lt;fox&gt;", "")


def test_a_32000_character_prompt_keeps_every_character_on_both_sides():
    rng = random.Random(3)
    words = "the a of misty harbour fog port dawn light boat".split()
    prompt = " ".join(rng.choice(words) for _ in range(11_000))[:32_000]
    for revised in (prompt.replace("harbour", "port", 3), " ".join(rng.choice(words) for _ in range(11_000))[:32_000]):
        before, after = diff_html(prompt, revised)
        assert plain(before) == prompt and plain(after) == revised
    before, after = diff_html(prompt, prompt.replace("harbour", "port", 3))
    assert before.count("<del>") == 3 and after.count("<ins>") == 3
