"""Prompt against revised_prompt, word by word, as HTML with the differences marked (difflib)."""

from __future__ import annotations

import difflib
import html
import re

_TOKEN_RE = re.compile(r"\s+|[^\s]+")


def diff_html(prompt: str, revised: str | None) -> tuple[str, str]:
    """(prompt, revised) as escaped HTML: words only in the prompt in <del>, only in the revision in <ins>."""
    if not revised:
        return html.escape(prompt), ""
    left, right = _TOKEN_RE.findall(prompt), _TOKEN_RE.findall(revised)
    matcher = difflib.SequenceMatcher(a=[t.lower() for t in left], b=[t.lower() for t in right], autojunk=False)
    a_out, b_out = [], []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        a_text, b_text = html.escape("".join(left[a1:a2])), html.escape("".join(right[b1:b2]))
        if op == "equal":
            a_out.append(a_text)
            b_out.append(b_text)
        else:
            if a_text.strip():
                a_out.append(f"<del>{a_text}</del>")
            else:
                a_out.append(a_text)
            if b_text.strip():
                b_out.append(f"<ins>{b_text}</ins>")
            else:
                b_out.append(b_text)
    return "".join(a_out), "".join(b_out)
