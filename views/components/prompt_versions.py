"""The versions of a generation's prompt, oldest first, with a word diff between each step: a section any
page can put under an image (the Gallery's detail view does). Nothing is shown for a prompt with one version."""

from __future__ import annotations

import streamlit as st

from studio.services.prompt_history import prompt_versions
from studio.services.studio import Studio

DIFF_STYLE = "<style>del{background:#ffd7d5;text-decoration:line-through}ins{background:#ccffd8;text-decoration:none}</style>"


def prompt_versions_section(studio: Studio, generation_id: int) -> None:
    versions = prompt_versions(studio, generation_id)
    if len(versions) < 2:
        return
    st.markdown(f"**Prompt versions** ({len(versions)})")
    st.caption("Each version against the one before: words taken out are struck through, words put in are highlighted.")
    for number, version in enumerate(versions, start=1):
        thumb, text = st.columns([1, 6], vertical_alignment="top")
        if version.thumbnail:
            thumb.image(version.thumbnail, width=72)
        here = " · this one" if version.generation_id == generation_id else ""
        text.caption(f"v{number} · generation #{version.generation_id} · {version.created_at:%Y-%m-%d %H:%M} · {version.status}{here}")
        body = version.added_html if number == 1 or version.changed else version.added_html + " <i>(unchanged)</i>"
        text.html(DIFF_STYLE + f"<div class='prompt-version'>{body}</div>")
        if version.changed and "<del>" in version.removed_html:
            text.html(DIFF_STYLE + f"<div class='prompt-version-removed'><small>was: {version.removed_html}</small></div>")
