""""Use these settings" and "compare tiers": the Gallery hands a generation's settings to Generate or
Compare, which puts them into its widgets before drawing them and says what changed."""

from __future__ import annotations

from typing import Any

import streamlit as st

from studio.core.config import load_providers
from studio.services.reuse import COMPARE_FIELDS, FORM_DEFAULTS, form_values, handoff_notice, retired_note
from studio.services.studio import Studio
from views.components.session import settings

PENDING = "pending_settings"
# Each page that takes settings: its file and the prefix of its request widgets' keys.
TARGETS = {"generate": ("views/generate.py", ""), "compare": ("views/compare.py", "compare_")}


def hand_off(studio: Studio, generation: Any, target: str) -> None:
    """Open `target` with the generation's settings (the providers come from the data dir too)."""
    fields = COMPARE_FIELDS if target == "compare" else tuple(FORM_DEFAULTS)
    values = form_values(generation, load_providers(studio.settings.data_dir), fields, studio.catalog)
    note = retired_note(generation, studio.catalog)
    st.session_state[PENDING] = {"target": target, "generation_id": generation.id, "values": values, "notes": [note] if note else []}
    st.switch_page(TARGETS[target][0])


def apply_pending_settings(target: str) -> list[str]:
    """On the target page, before its widgets: put in the settings handed over, and return one line per
    field replaced for the page to show."""
    pending = st.session_state.get(PENDING)
    if not pending or pending.get("target") != target:
        return []
    del st.session_state[PENDING]
    prefix = TARGETS[target][1]
    base = settings()
    defaults = {**FORM_DEFAULTS, "provider": base.provider.key, "model": base.model}
    keys = {name: name if name in ("provider", "model") else f"{prefix}{name}" for name in pending["values"]}
    # A widget not drawn yet in this session shows its default: compare with that, not with "unset".
    current = {name: st.session_state.get(key, defaults.get(name)) for name, key in keys.items()}
    lines = handoff_notice(pending["generation_id"], current, pending["values"]) + pending.get("notes", [])
    st.session_state.update({keys[name]: value for name, value in pending["values"].items()})
    if target == "generate":  # the prompt now in the box is a version of this generation's (prompt_history.py)
        st.session_state["prompt_origin"] = pending["generation_id"]
    return lines
