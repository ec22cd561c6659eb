"""The model catalog (`catalog.toml`, layered with `<data_dir>/catalog.toml`): what each model takes.

One table says, per model, which values of each request field it takes, which price entry prices it, and
for a retired model the day it shut down and its successor. `request.validate`, the forms, the Compare axes
and the CLI read it through `rules(model)`; a model the catalog does not name gets the generic rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from studio.core.config import ConfigError, read_toml

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
# The fields an entry may set, and what each must be (for the message that says what to fix).
_FIELDS: dict[str, tuple[type, str]] = {
    "qualities": (list, "a list of quality names"), "sizes": (list, "a list of sizes"),
    "custom_sizes": (bool, "true or false"), "output_formats": (list, "a list of formats"),
    "transparent_background": (bool, "true or false"), "input_fidelity": (bool, "true or false"),
    "complexities": (list, "a list of complexity names"), "frame_count": (list, "[lowest, highest] or []"),
    "price": (str, "a pricing.toml model name in quotes"), "snapshots": (list, "a list of model names"),
    "shutdown": (str, 'a date in quotes, "YYYY-MM-DD"'), "successor": (str, "a model name in quotes"),
}
# The prefix that took custom sizes before there was a catalog: an unlisted name keeps that rule.
CUSTOM_SIZE_PREFIX = "gpt-image-2"


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class ModelRules:
    """What one model takes. `listed`: the catalog names it (else the generic rules apply)."""

    name: str
    listed: bool
    qualities: tuple[str, ...]
    sizes: tuple[str, ...]
    custom_sizes: bool
    output_formats: tuple[str, ...]
    transparent_background: bool
    input_fidelity: bool
    complexities: tuple[str, ...] = ()
    frame_count: tuple[int, int] | None = None
    price: str | None = None
    shutdown: date | None = None
    successor: str | None = None

    def retired(self, today: date | None = None) -> bool:
        return self.shutdown is not None and (today or utc_today()) >= self.shutdown

    def retirement(self, today: date | None = None, catalog: "Catalog | None" = None) -> str | None:
        """Why this model cannot be sent, with the date and what to use instead; None while it runs."""
        if not self.retired(today):
            return None
        successor = catalog.successor(self.name, today) if catalog else self.successor
        instead = f"; use {successor} instead" if successor else ""
        return f"{self.name} was shut down on {self.shutdown.isoformat()}{instead}."  # type: ignore[union-attr]

    @property
    def takes_frame_count(self) -> bool:
        return self.frame_count is not None


@dataclass(frozen=True)
class Catalog:
    models: dict[str, ModelRules]
    generic: dict[str, Any]
    aliases: dict[str, str]  # snapshot name -> catalog name

    def rules(self, model: str) -> ModelRules:
        name = self.aliases.get(model, model)
        if name in self.models:
            return self.models[name]
        rules = _rules(model, self.generic, listed=False)
        if model.startswith(CUSTOM_SIZE_PREFIX) and not rules.custom_sizes:
            rules = _rules(model, {**self.generic, "custom_sizes": True}, listed=False)
        return rules

    def current(self, models: Iterable[str], today: date | None = None) -> list[str]:
        """`models` without the retired ones, in their order: what a list of choices offers."""
        return [m for m in models if not self.rules(m).retired(today)]

    def successor(self, model: str, today: date | None = None) -> str | None:
        """The first model along the successor chain that still runs (a successor may itself retire)."""
        seen = {model}
        name = self.rules(model).successor
        while name and name not in seen and self.rules(name).retired(today):
            seen.add(name)
            name = self.rules(name).successor
        return None if name in seen else name

    def listed(self, today: date | None = None) -> list[str]:
        """Every model the catalog names that still runs, in the file's order (newest first)."""
        return [name for name, rules in self.models.items() if not rules.retired(today)]

    def all_values(self, field: str) -> tuple[str, ...]:
        """Every value of a field any model takes (the Gallery filters offer these), in catalog order."""
        values: list[str] = []
        for rules in [*self.models.values(), _rules("", self.generic, False)]:
            for value in getattr(rules, field):
                if value not in values:
                    values.append(value)
        return tuple(values)


def _rules(name: str, entry: dict[str, Any], listed: bool) -> ModelRules:
    frames = entry.get("frame_count") or None
    shutdown = entry.get("shutdown")
    return ModelRules(
        name=name, listed=listed,
        qualities=tuple(entry["qualities"]), sizes=tuple(entry["sizes"]), custom_sizes=bool(entry["custom_sizes"]),
        output_formats=tuple(entry["output_formats"]), transparent_background=bool(entry["transparent_background"]),
        input_fidelity=bool(entry["input_fidelity"]), complexities=tuple(entry.get("complexities") or ()),
        frame_count=(int(frames[0]), int(frames[1])) if frames else None,
        price=entry.get("price") or None,
        shutdown=date.fromisoformat(shutdown) if shutdown else None,
        successor=entry.get("successor") or None,
    )


def _check(source: Path, key: str, entry: Any) -> None:
    """A wrong shape is one ConfigError naming the file, entry and field, never a traceback at every start."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: {key} must be a [{key}] table; see studio/core/catalog.toml.")
    for name, value in entry.items():
        kind, said = _FIELDS.get(name, (object, ""))
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, int if name == "frame_count" else str) for v in value)):
            raise ConfigError(f"{source}: {key}.{name} must be {said}.")
    frames = entry.get("frame_count")
    if frames and (len(frames) != 2 or not 1 <= frames[0] <= frames[1]):
        raise ConfigError(f"{source}: {key}.frame_count must be [lowest, highest], e.g. [2, 16], or [].")
    if entry.get("shutdown"):
        try:
            date.fromisoformat(entry["shutdown"])
        except ValueError:
            raise ConfigError(f'{source}: {key}.shutdown must be a date, "YYYY-MM-DD".') from None


def _layers(data_dir: Path | None) -> list[tuple[Path, dict[str, Any]]]:
    layers = [(CATALOG_FILE, read_toml(CATALOG_FILE))]
    if data_dir is not None and (data_dir / "catalog.toml").is_file():
        layers.append((data_dir / "catalog.toml", read_toml(data_dir / "catalog.toml")))
    return layers


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """The shipped catalog with `<data_dir>/catalog.toml` layered over it, entry by entry, field by field.
    Read again when a file changes (a person may be editing it while the studio runs)."""
    path = data_dir / "catalog.toml" if data_dir is not None else None
    stamp = path.stat().st_mtime_ns if path is not None and path.is_file() else None
    return _load(data_dir if stamp is not None else None, stamp, CATALOG_FILE.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _load(data_dir: Path | None, _stamp: int | None, _shipped_stamp: int) -> Catalog:
    generic: dict[str, Any] = {}
    raw: dict[str, dict[str, Any]] = {}
    for source, layer in _layers(data_dir):
        if "generic" in layer:
            _check(source, "generic", layer["generic"])
            generic.update(layer["generic"])
        models = layer.get("models", {})
        if not isinstance(models, dict):
            raise ConfigError(f'{source}: `models` must hold [models."NAME"] tables; see studio/core/catalog.toml.')
        for name, entry in models.items():
            _check(source, f'models."{name}"', entry)
            raw[name] = {**raw.get(name, {}), **entry}
    models = {name: _rules(name, {**generic, **entry}, listed=True) for name, entry in raw.items()}
    aliases = {snapshot: name for name, entry in raw.items() for snapshot in entry.get("snapshots", ())}
    return Catalog(models, generic, aliases)


def default_catalog() -> Catalog:
    """The shipped catalog alone: what a caller without a data folder validates against."""
    return load_catalog(None)
