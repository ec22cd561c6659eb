""""Use these settings" and "compare tiers": a stored generation's request fields handed to a form.

The pages' forms name their fields by the API's names (with a page prefix for their widget keys); this
module says what each field holds for a generation, what a form shows for a field the request left unset,
and which lines tell the user what changed. No Streamlit here: plain mappings."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from studio.core.config import Provider
from studio.core.request import field_names

# What a request form shows for a field the request did not send (and before the user touches it).
FORM_DEFAULTS: dict[str, Any] = {
    "prompt": "", "size": "auto", "quality": "auto", "n": 1, "background": "auto", "output_format": "png",
    "moderation": "auto", "output_compression": 100, "response_format": None,
}
# The fields the Compare page takes from a generation (quality is its axis, n is per cell).
COMPARE_FIELDS = ("prompt", "size", "background", "output_format", "moderation")


def request_settings(generation: Any) -> dict[str, Any]:
    """The request fields of a generation, by the API's names, for "use these settings"."""
    return {name: getattr(generation, name) for name in field_names() if name != "user"}


def form_values(generation: Any, providers: Mapping[str, Provider], fields: Iterable[str] = tuple(FORM_DEFAULTS)) -> dict[str, Any]:
    """What a request form takes from a generation: each field (the form's default where the request left it
    unset), the model, and the provider when it is still configured (`providers` comes from the data dir, so
    a preset defined in its providers.toml comes back too)."""
    settings = request_settings(generation)
    values = {name: settings.get(name) if settings.get(name) is not None else FORM_DEFAULTS[name] for name in fields}
    values["model"] = generation.model
    if generation.provider in providers:
        values["provider"] = generation.provider
    return values


def describe_replacements(current: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human lines for each setting that changes, e.g. "quality: low → high"."""
    lines = []
    for name, value in new.items():
        before = current.get(name)
        if before != value:
            lines.append(f"{name}: {_short(before)} → {_short(value)}")
    return lines


def handoff_notice(generation_id: int | None, current: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The lines a page shows after settings were handed to it: where they came from and what changed."""
    lines = describe_replacements(current, new)
    return [f"Settings from generation #{generation_id}:"] + (lines or ["nothing changed; they were already set."])


def _short(value: Any) -> str:
    if value is None or value == "":
        return "(empty)" if value == "" else "(not set)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"
