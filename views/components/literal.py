"""Text from a user, a provider, a file name, a URL or an exception, made to show literally wherever
Streamlit renders Markdown."""

from __future__ import annotations

import re

# What Markdown (GitHub-flavoured, as Streamlit renders it) would act on, escaped with a backslash; the rest of
# the text (dots, dashes, parentheses in "photo-1.png (2)") is left as typed, so messages read naturally.
_ALWAYS = re.compile(r"([\\`*\[\]<>|~$&@])")  # emphasis, links/images, HTML, tables, strike, LaTeX, entities, e-mail autolinks
_LONE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # intraword a_b is never emphasis
_LINE_START = re.compile(r"^([ \t]*|[ \t]*\d+)([-+=#.)])", re.M)  # lists "- " "1. " "2) ", headings, setext underlines
_WWW = re.compile(r"(?i)\b(www)\.")  # GFM links bare www.example.com
_COLON = re.compile(r":(?=\S)")  # http://, :red[..], :smile:, :material/home:
WORD_JOINER = "\u2060"


def literal(text: object) -> str:
    """Text made to show literally in anything Streamlit renders as Markdown (alerts, captions, labels,
    st.markdown, image captions). Streamlit swaps `:material/…:` and `:emoji:` shortcodes in before Markdown
    escapes count, so a colon followed by text gets an invisible word joiner after it as well as a backslash."""
    out = _ALWAYS.sub(r"\\\1", str(text))
    out = _LONE_UNDERSCORE.sub(r"\\_", out)
    out = _LINE_START.sub(r"\1\\\2", out)
    out = _WWW.sub(r"\1\\.", out)
    return _COLON.sub("\\:" + WORD_JOINER, out)
