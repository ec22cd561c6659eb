"""Prompt templates: `{red|green|blue} fox in {snow|rain}` stands for every combination of its groups.

The grammar, all of it:

- `{a|b|c}` is a group: each prompt takes one of its alternatives. A template with several groups makes
  every combination, the first group changing slowest: `{red|green} fox in {snow|rain}` makes
  "red fox in snow", "red fox in rain", "green fox in snow", "green fox in rain".
- Text outside groups is kept as written, spaces and line breaks included.
- `\\{`, `\\}` and `\\|` are a literal brace or bar (inside a group too), `\\\\` a literal backslash; a
  backslash before anything else is kept as it is. A `|` outside any group is plain text.
- An empty alternative is allowed and means "nothing here": `a {misty |}harbour` makes "a misty harbour"
  and "a harbour" (put the space inside the alternative). A group with nothing in it (`{}` or `{|}`) is
  refused: it would change nothing.
- A group with one alternative (`{fox}`) is allowed and makes one prompt; the braces are not sent.
- Refused, each with the line and column and what to change: a `{` never closed, a `}` with no `{`,
  a group inside a group (not supported: write the combinations out), an empty group, the same
  alternative twice in a group, and more than MAX_COMBINATIONS prompts.

No Streamlit, no I/O: `parse` and `expand` are plain functions the pages, the services and the tests call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

from studio.core.request import ValidationError

MAX_COMBINATIONS = 500  # a hard limit; the pages ask before sending more than the (smaller) confirm limit
DEFAULT_CONFIRM_LIMIT = 24
LABEL_CHARS = 128  # a variant's label is stored as a Compare cell's axis value (String(128))

Part = Union[str, tuple[str, ...]]  # literal text, or a group's alternatives


@dataclass(frozen=True)
class Variant:
    """One prompt a template makes, and the alternative it took from each group."""

    prompt: str
    picks: tuple[str, ...]

    @property
    def label(self) -> str:
        """What tells this variant from its siblings: its picks ("red · snow"), shortened to LABEL_CHARS."""
        text = " · ".join(pick.strip() or "(nothing)" for pick in self.picks) if self.picks else self.prompt
        return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


@dataclass(frozen=True)
class Template:
    text: str
    parts: tuple[Part, ...]

    @property
    def groups(self) -> list[tuple[str, ...]]:
        return [part for part in self.parts if isinstance(part, tuple)]

    @property
    def is_template(self) -> bool:
        """Whether the text has any group (else it is one prompt, with its escapes resolved)."""
        return bool(self.groups)

    @property
    def count(self) -> int:
        """How many prompts it makes, computed without making them."""
        return math.prod(len(group) for group in self.groups)

    def variants(self) -> list[Variant]:
        """Every prompt, first group changing slowest."""
        combos: list[tuple[str, tuple[str, ...]]] = [("", ())]
        for part in self.parts:
            if isinstance(part, str):
                combos = [(text + part, picks) for text, picks in combos]
            else:
                combos = [(text + choice, picks + (choice,)) for text, picks in combos for choice in part]
        return [Variant(text, picks) for text, picks in combos]


def _where(text: str, index: int) -> str:
    """'column 7' on a one-line template, 'line 2, column 3' on a longer one (both counted from 1)."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"column {column}" if "\n" not in text else f"line {line}, column {column}"


def parse(text: str, limit: int = MAX_COMBINATIONS) -> Template:
    """The template's parts, or ValidationError with one message per problem, each saying where and what to change."""
    problems: list[str] = []
    parts: list[Part] = []
    literal: list[str] = []
    group: list[str] | None = None  # the alternatives of the open group
    current: list[str] = []  # the alternative being read
    opened = 0  # index of the open group's `{`
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "{}|\\":
            (current if group is not None else literal).append(text[i + 1])
            i += 2
            continue
        if char == "{":
            if group is not None:
                problems.append(f"The `{{` at {_where(text, i)} opens a group inside the group opened at {_where(text, opened)}; "
                                f"groups do not nest: write the combinations out, or write `\\{{` for a literal brace.")
            else:
                parts.append("".join(literal))
                literal, group, current, opened = [], [], [], i
        elif char == "}":
            if group is None:
                problems.append(f"The `}}` at {_where(text, i)} has no `{{` before it; remove it, or write `\\}}` for a literal brace.")
            else:
                group.append("".join(current))
                problems.extend(_group_problems(text, opened, group))
                parts.append(tuple(group))
                group, current = None, []
        elif char == "|" and group is not None:
            group.append("".join(current))
            current = []
        else:
            (current if group is not None else literal).append(char)
        i += 1
    if group is not None:
        problems.append(f"The `{{` at {_where(text, opened)} is never closed; add a `}}` after its alternatives, "
                        f"or write `\\{{` for a literal brace.")
    parts.append("".join(literal))
    template = Template(text, tuple(part for part in parts if part != ""))
    if not problems and template.count > limit:
        sizes = " × ".join(str(len(g)) for g in template.groups)
        problems.append(f"This template makes {template.count:,} prompts ({sizes}); the most is {limit:,}. "
                        f"Remove some alternatives or split it into several templates.")
    if problems:
        raise ValidationError(problems)
    return template


def _group_problems(text: str, opened: int, alternatives: list[str]) -> list[str]:
    where = _where(text, opened)
    if not any(alternatives):
        return [f"The group at {where} is empty; put alternatives in it (`{{a|b}}`), remove it, or write `\\{{\\}}` for literal braces."]
    seen: set[str] = set()
    for alternative in alternatives:
        if alternative in seen:
            shown = f"“{alternative}”" if alternative else "an empty alternative"
            return [f"The group at {where} has {shown} twice; remove one."]
        seen.add(alternative)
    return []


def expand(text: str, limit: int = MAX_COMBINATIONS) -> list[Variant]:
    """Every prompt the template makes (one, for text without groups), or ValidationError saying what to change."""
    return parse(text, limit).variants()
