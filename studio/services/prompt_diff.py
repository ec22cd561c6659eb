"""Prompt against revised_prompt, word by word, as HTML with the differences marked (difflib).

difflib's exact matcher is quadratic in the number of tokens: a 32,000-character prompt against a
near-identical revision took seconds. Three things bound it: a word carries its following whitespace (so
no token is as common as a lone space), the common head and tail are taken off before matching (a revision
mostly rewrites a middle part), and a middle longer than EXACT_TOKENS is matched with difflib's junk
heuristic, which ignores very common words: a coarser diff of a very long text, still correct, in bounded time.
"""

from __future__ import annotations

import difflib
import html
import re

_TOKEN_RE = re.compile(r"\s+|\S+\s*")  # leading whitespace alone, then each word with the spaces after it
EXACT_TOKENS = 1500  # beyond this many differing tokens a side, common words stop anchoring the match


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _key(token: str) -> str:
    """What two tokens are compared by: the word, whatever its case and the spaces after it."""
    return token.strip().lower()


def _common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many tokens the two lists share at the start, and then at the end (by `_key`)."""
    head = 0
    limit = min(len(a), len(b))
    while head < limit and _key(a[head]) == _key(b[head]):
        head += 1
    tail = 0
    while tail < limit - head and _key(a[-1 - tail]) == _key(b[-1 - tail]):
        tail += 1
    return head, tail


def _marked(text: str, tag: str) -> str:
    """`text` escaped, inside <tag> when it holds a word; whitespace around the word stays outside the mark."""
    if not text.strip():
        return html.escape(text)
    stripped = text.rstrip()
    return f"<{tag}>{html.escape(stripped)}</{tag}>{html.escape(text[len(stripped):])}"


def diff_html(prompt: str, revised: str | None) -> tuple[str, str]:
    """(prompt, revised) as escaped HTML: words only in the prompt in <del>, only in the revision in <ins>."""
    if not revised:
        return html.escape(prompt), ""
    left, right = _tokens(prompt), _tokens(revised)
    head, tail = _common_ends(left, right)
    middle_a, middle_b = left[head:len(left) - tail], right[head:len(right) - tail]
    exact = max(len(middle_a), len(middle_b)) <= EXACT_TOKENS
    matcher = difflib.SequenceMatcher(a=[_key(t) for t in middle_a], b=[_key(t) for t in middle_b], autojunk=not exact)
    a_out, b_out = [html.escape("".join(left[:head]))], [html.escape("".join(right[:head]))]
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        a_text, b_text = "".join(middle_a[a1:a2]), "".join(middle_b[b1:b2])
        if op == "equal":
            a_out.append(html.escape(a_text))
            b_out.append(html.escape(b_text))
        else:
            a_out.append(_marked(a_text, "del"))
            b_out.append(_marked(b_text, "ins"))
    a_out.append(html.escape("".join(left[len(left) - tail:])))
    b_out.append(html.escape("".join(right[len(right) - tail:])))
    return "".join(a_out), "".join(b_out)
