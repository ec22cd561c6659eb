""""Use these settings" and "compare tiers": a stored generation's request fields handed to a form.

The pages' forms name their fields by the API's names (with a page prefix for their widget keys); this
module says what each field holds for a generation, what a form shows for a field the request left unset,
and which lines tell the user what changed. No Streamlit here: plain mappings."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping

from studio.core.catalog import Catalog, default_catalog
from studio.core.config import Provider
from studio.core.request import field_names

# What a request form shows for a field the request did not send (and before the user touches it).
FORM_DEFAULTS: dict[str, Any] = {
    "prompt": "", "size": "auto", "quality": "auto", "n": 1, "background": "auto", "output_format": "png",
    "moderation": "auto", "output_compression": 100, "response_format": None, "complexity": None, "frame_count": None,
}
# The fields the Compare page takes from a generation (quality is its axis, n is per cell).
COMPARE_FIELDS = ("prompt", "size", "background", "output_format", "moderation", "complexity", "frame_count")
# A field whose value the model catalog lists per model, and the catalog's name for the list.
_CHECKED = {"quality": "qualities", "output_format": "output_formats", "complexity": "complexities"}


def request_settings(generation: Any) -> dict[str, Any]:
    """The request fields of a generation, by the API's names, for "use these settings"."""
    return {name: getattr(generation, name) for name in field_names() if name != "user"}


def form_values(generation: Any, providers: Mapping[str, Provider], fields: Iterable[str] = tuple(FORM_DEFAULTS),
                catalog: Catalog | None = None, today: date | None = None) -> dict[str, Any]:
    """What a request form takes from a generation: each field (the form's default where the request left it
    unset), the model, and the provider when it is still configured (`providers` comes from the data dir, so
    a preset defined in its providers.toml comes back too). A model that has since shut down is replaced by
    its successor, and a value the successor does not take goes back to the form's default."""
    catalog = catalog or default_catalog()
    settings = request_settings(generation)
    values = {name: settings.get(name) if settings.get(name) is not None else FORM_DEFAULTS[name] for name in fields}
    values["model"] = generation.model
    successor = catalog.successor(generation.model, today) if catalog.rules(generation.model).retired(today) else None
    if successor:
        values["model"] = successor
        rules = catalog.rules(successor)
        for name, listed in _CHECKED.items():
            if values.get(name) is not None and values[name] != FORM_DEFAULTS[name] and values[name] not in getattr(rules, listed):
                values[name] = FORM_DEFAULTS[name]
        if "size" in values and values["size"] not in rules.sizes and not rules.custom_sizes:
            values["size"] = FORM_DEFAULTS["size"]
    if generation.provider in providers:
        values["provider"] = generation.provider
    return values


def retired_note(generation: Any, catalog: Catalog | None = None, today: date | None = None) -> str | None:
    """The line that says a generation's model has shut down and what is offered instead; None while it runs."""
    catalog = catalog or default_catalog()
    retired = catalog.rules(generation.model).retirement(today, catalog)
    if not retired:
        return None
    successor = catalog.successor(generation.model, today)
    return f"{retired} The settings are offered with {successor}." if successor else f"{retired} Pick another model."


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
