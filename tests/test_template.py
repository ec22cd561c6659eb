"""The prompt template grammar: every combination, escapes, and a clear message for each malformed template."""

from __future__ import annotations

import pytest

from studio.core.request import ValidationError
from studio.core.template import MAX_COMBINATIONS, expand, parse


def prompts(text: str) -> list[str]:
    return [variant.prompt for variant in expand(text)]


def problems(text: str, **kwargs: int) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse(text, **kwargs)
    return caught.value.problems


def test_every_combination_first_group_slowest() -> None:
    assert prompts("{red|green|blue} fox in {snow|rain}") == [
        "red fox in snow", "red fox in rain", "green fox in snow", "green fox in rain", "blue fox in snow", "blue fox in rain",
    ]
    assert parse("{red|green|blue} fox in {snow|rain}").count == 6


def test_each_variant_knows_its_picks_and_a_short_label() -> None:
    variants = expand("{red|green} fox in {snow|rain}")
    assert variants[1].picks == ("red", "rain")
    assert variants[1].label == "red · rain"
    long = expand("{" + "x" * 200 + "|y}")[0]
    assert len(long.label) == 128 and long.label.endswith("…")


def test_plain_text_is_one_prompt_and_not_a_template() -> None:
    template = parse("a watercolor fox | reading a map")
    assert not template.is_template and template.count == 1
    assert prompts("a watercolor fox | reading a map") == ["a watercolor fox | reading a map"]
    assert prompts("") == [""]


def test_escapes_make_literal_braces_bars_and_backslashes() -> None:
    assert prompts(r"a sign reading \{OPEN\} in {red|blue}") == ["a sign reading {OPEN} in red", "a sign reading {OPEN} in blue"]
    assert prompts(r"{a\|b|c}") == ["a|b", "c"]
    assert prompts(r"{\{x\}|y}") == ["{x}", "y"]
    assert prompts(r"back\\slash {1|2}") == [r"back\slash 1", r"back\slash 2"]
    assert prompts(r"C:\path \n stays") == [r"C:\path \n stays"]  # a backslash before anything else is kept
    assert prompts("ends with \\") == ["ends with \\"]


def test_an_empty_alternative_means_nothing_there_and_whitespace_is_kept() -> None:
    assert prompts("a {misty |}harbour") == ["a misty harbour", "a harbour"]
    assert prompts("line one\n{a|b}") == ["line one\na", "line one\nb"]
    assert prompts("{fox}") == ["fox"]  # one alternative: one prompt, braces not sent


def test_an_unclosed_brace_says_where_and_what_to_change() -> None:
    assert problems("a {red|green fox") == [
        "The `{` at column 3 is never closed; add a `}` after its alternatives, or write `\\{` for a literal brace."]


def test_an_unopened_brace_says_where() -> None:
    assert problems("a red} fox") == ["The `}` at column 6 has no `{` before it; remove it, or write `\\}` for a literal brace."]


def test_a_multi_line_template_names_line_and_column() -> None:
    assert problems("first line\na {b|c") == [
        "The `{` at line 2, column 3 is never closed; add a `}` after its alternatives, or write `\\{` for a literal brace."]


def test_empty_groups_are_refused() -> None:
    for text in ("a {} fox", "a {|} fox"):
        assert problems(text) == ["The group at column 3 is empty; put alternatives in it (`{a|b}`), remove it, "
                                  "or write `\\{\\}` for literal braces."]


def test_a_repeated_alternative_is_refused() -> None:
    assert problems("{red|blue|red} fox") == ["The group at column 1 has “red” twice; remove one."]
    assert problems("{a||} fox") == ["The group at column 1 has an empty alternative twice; remove one."]


def test_nesting_is_refused_with_both_positions() -> None:
    found = problems("{a|{b|c}}")
    assert found[0] == ("The `{` at column 4 opens a group inside the group opened at column 1; groups do not nest: "
                        "write the combinations out, or write `\\{` for a literal brace.")


def test_every_problem_is_reported_at_once() -> None:
    assert len(problems("} {} {a|a} {open")) == 4


def test_too_many_combinations_is_refused_without_making_them() -> None:
    text = " ".join("{a|b}" for _ in range(40))  # 2**40 prompts: counted, never expanded
    found = problems(text)
    assert found == [f"This template makes {2**40:,} prompts ({' × '.join(['2'] * 40)}); the most is {MAX_COMBINATIONS:,}. "
                     "Remove some alternatives or split it into several templates."]
    assert problems("{a|b|c} {d|e}", limit=5)[0].startswith("This template makes 6 prompts (3 × 2); the most is 5.")
    assert len(expand("{a|b|c} {d|e}", limit=6)) == 6
