"""Does one row's text hold every searched word (as a word prefix)? The same answer SQLite's FTS5 index
gives (tokenizer `unicode61 remove_diacritics 2`), asked of a single row.

FTS5 answers "which rows hold this word" well, but "does row X hold it" only by rebuilding the whole
list of matches for a prefix query (`"in"*` merges every word that starts with "in": ~100 ms at
1,000,000 prompts, on every probe). Walking the gallery in sort order for a common word asks the second
question a few hundred times, so it is asked here instead, of the row's indexed text (the FTS table's
own columns), through the SQL function `studio_has_words` registered on every SQLite connection.

Tokens as unicode61 makes them: runs of letters and numbers (Unicode L* and N*), lower-cased, with
diacritics removed. A searched word that is not one such token (an underscore in it, say) is not
checked here: `simple_words` returns None and the search keeps to FTS5 alone.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TOKEN = re.compile(r"[^\W_]+")  # \w less the underscore: letters and numbers
SEPARATOR = "\x1f"  # between the words in the function's third argument


def fold(text: str) -> str:
    """Lower case without diacritics, as unicode61 with remove_diacritics folds a token."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def simple_words(words: list[str]) -> str | None:
    """The words, folded and joined for `studio_has_words`, or None when one of them is not a single token."""
    folded = [fold(word) for word in words]
    if not folded or any(_TOKEN.fullmatch(word) is None for word in folded):
        return None
    return SEPARATOR.join(folded)


@lru_cache(maxsize=256)
def _starting(word: str) -> re.Pattern[str]:
    """The word where a token starts: not right after a letter or number."""
    return re.compile(r"(?<![^\W_])" + re.escape(word))


def has_words(prompt: str | None, revised: str | None, words: str) -> int:
    """1 when every word starts some token of the prompt or the revised prompts, else 0 (SQL function,
    called for every row a walk reads: a plain substring test first, the token check only on a hit)."""
    folded = fold(f"{prompt or ''} {revised or ''}")
    for word in words.split(SEPARATOR):
        if word not in folded or _starting(word).search(folded) is None:
            return 0
    return 1
