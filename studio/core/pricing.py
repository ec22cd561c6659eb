"""Cost estimates from an editable price table (`pricing.toml`, layered with `<data_dir>/pricing.toml`).

Every figure here is an estimate. A model the table does not list has no price: functions return None
and the pages say "no price known", never a made-up figure.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Literal, Mapping

from studio.core.config import ConfigError, file_signature, read_toml

PRICING_FILE = Path(__file__).with_name("pricing.toml")
NO_PRICE = "no price known"
PER_MILLION = 1_000_000
# No image request uses more tokens than this; beyond it a count is nonsense, not a bill (db/values.py
# refuses such counts on the way in; old and imported rows may still hold them).
MAX_TOKENS = 10_000_000
_COUNTS = ("input_tokens", "output_tokens", "total_tokens")
_DETAILS = ("image_tokens", "text_tokens")


def _count_ok(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS


def usage_is_nonsense(usage: Any) -> bool:
    """Whether a stored `usage` holds something that is not a token count (a string, a float, a negative
    or absurd number, a detail larger than the input). Its cost is then unknown: never a number made from it.
    An absent usage, or one without the counts, is not nonsense: the per-image table prices it."""
    if usage is None:
        return False
    if not isinstance(usage, Mapping):
        return True
    if any(usage.get(key) is not None and not _count_ok(usage.get(key)) for key in _COUNTS):
        return True
    details = usage.get("input_tokens_details")
    if details is None:
        return False
    if not isinstance(details, Mapping):
        return True
    limit = usage.get("input_tokens")
    return any(details.get(key) is not None and (not _count_ok(details.get(key)) or (limit is not None and details[key] > limit))
               for key in _DETAILS)


@dataclass(frozen=True)
class TokenPrices:
    """USD per 1M tokens."""

    text_input: float
    image_input: float
    image_output: float


@dataclass(frozen=True)
class ModelPrices:
    per_image: Mapping[str, Mapping[str, float]]  # quality -> size -> USD per image
    tokens: TokenPrices | None = None


@dataclass(frozen=True)
class Usage:
    """The `usage` tokens of a response, split the way they are priced."""

    text_input: int
    image_input: int
    output: int

    @classmethod
    def from_api(cls, usage: Any) -> "Usage | None":
        """None when the provider returned no usable usage (then the per-image table applies), or when it
        is nonsense (see usage_is_nonsense: callers that price must check that first)."""
        if usage_is_nonsense(usage) or not usage or usage.get("output_tokens") is None or usage.get("input_tokens") is None:
            return None
        details = usage.get("input_tokens_details") or {}
        image = details.get("image_tokens") or 0
        text = details.get("text_tokens")
        text = text if text is not None else max(0, usage["input_tokens"] - image)
        return cls(text, image, usage["output_tokens"])


@dataclass(frozen=True)
class Cost:
    usd: float
    basis: Literal["tokens", "per_image"]


@dataclass(frozen=True)
class PriceTable:
    models: Mapping[str, ModelPrices]
    assume_quality: str = "medium"
    assume_size: str = "1024x1024"

    def per_image(self, model: str, quality: str | None, size: str | None) -> float | None:
        prices = self.models.get(model)
        if prices is None:
            return None
        quality = self.assume_quality if quality in (None, "", "auto") else quality
        size = self.assume_size if size in (None, "", "auto") else size
        return prices.per_image.get(quality, {}).get(size)  # type: ignore[arg-type]

    def estimate(self, model: str, quality: str | None, size: str | None, n: int | None, complexity: str | None = None) -> float | None:
        """What a request should cost before it is sent: the per-image price times n. No price is published
        for `complexity` (planning may use more tokens), so a request that sets it has no estimate."""
        if complexity is not None:
            return None
        price = self.per_image(model, quality, size)
        return None if price is None else price * (n or 1)

    def cost(self, model: str, quality: str | None, size: str | None, images: int, usage: Usage | None) -> Cost | None:
        """What a finished request cost: its usage tokens when the model has token prices, else per image."""
        prices = self.models.get(model)
        if prices is None:
            return None
        if usage is not None and prices.tokens is not None:
            t = prices.tokens
            usd = (usage.text_input * t.text_input + usage.image_input * t.image_input + usage.output * t.image_output) / PER_MILLION
            return Cost(usd, "tokens")
        price = self.per_image(model, quality, size)
        return None if price is None else Cost(price * images, "per_image")


def _model_prices(name: str, entry: Mapping[str, Any], source: Path) -> ModelPrices:
    try:
        per_image = {str(q): {str(s): float(v) for s, v in sizes.items()} for q, sizes in (entry.get("per_image") or {}).items()}
        raw_tokens = entry.get("tokens")
        tokens = TokenPrices(float(raw_tokens["text_input"]), float(raw_tokens["image_input"]), float(raw_tokens["image_output"])) if raw_tokens else None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{source}: the prices for {name!r} are not in the expected shape ({type(exc).__name__}: {exc}); "
            "see the comments at the top of studio/core/pricing.toml."
        ) from None
    prices = [v for sizes in per_image.values() for v in sizes.values()] + (list(vars(tokens).values()) if tokens else [])
    if any(not math.isfinite(v) or v < 0 for v in prices):
        raise ConfigError(f"{source}: a price for {name!r} is negative or not a number; prices are USD amounts of 0 or more.")
    return ModelPrices(per_image, tokens)


def _read(path: Path) -> dict[str, Any]:
    return read_toml(path)


def load_prices(data_dir: Path | None = None) -> PriceTable:
    """The shipped table, with models (and `[assume]`) from `<data_dir>/pricing.toml` replacing its entries.
    Every cost shown asks: the files are parsed again only when one of them changed (a broken file is said
    every time)."""
    own = data_dir / "pricing.toml" if data_dir is not None else None
    return _prices(own, file_signature(PRICING_FILE), file_signature(own) if own else None)


@functools.lru_cache(maxsize=32)
def _prices(own: Path | None, shipped: tuple[int, int] | None, own_signature: tuple[int, int] | None) -> PriceTable:
    layers = [(PRICING_FILE, _read(PRICING_FILE))]
    if own is not None and own_signature is not None and own.is_file():
        layers.append((own, _read(own)))
    models: dict[str, ModelPrices] = {}
    assume: dict[str, Any] = {}
    for source, raw in layers:
        for table in ("assume", "models"):
            if not isinstance(raw.get(table) or {}, dict):
                raise ConfigError(f"{source}: `{table}` must be a [{table}] table; see the comments at the top of studio/core/pricing.toml.")
        assume.update(raw.get("assume") or {})
        for name, entry in (raw.get("models") or {}).items():
            models[name] = _model_prices(name, entry, source)
    return PriceTable(MappingProxyType(models), str(assume.get("quality", "medium")), str(assume.get("size", "1024x1024")))


def format_usd(usd: float | None) -> str:
    if usd is None or not math.isfinite(usd) or usd < 0:  # no table or usage can make these: never shown as money
        return NO_PRICE
    return f"${usd:,.2f}" if usd >= 0.1 or usd == 0 else f"${usd:.3f}"


def generation_cost(table: PriceTable, generation: Any, images: int) -> Cost | None:
    """The estimated cost of a recorded generation; None when it failed, its model has no price, or its
    stored usage is nonsense (an old or imported row): unknown, never a number made from it."""
    if generation.status != "succeeded" or usage_is_nonsense(generation.usage):
        return None
    return table.cost(
        generation.model,
        generation.response_quality or generation.quality,
        generation.response_size or generation.size,
        images,
        Usage.from_api(generation.usage),
    )


@dataclass(frozen=True)
class SpendRow:
    """Succeeded generations of one day sharing model, quality, size and whether usage came back."""

    day: str  # YYYY-MM-DD, UTC
    model: str
    quality: str | None
    size: str | None
    generations: int
    images: int
    usage: Usage | None  # summed tokens; None when these generations returned no usage
    unknown: bool = False  # their stored usage is nonsense: counted as unpriced, never priced


@dataclass
class DaySpend:
    day: str
    usd: float = 0.0
    priced: int = 0  # generations with a known price
    unpriced: int = 0  # generations whose model has no price known


@dataclass
class SpendTotals:
    days: list[DaySpend] = field(default_factory=list)  # newest first

    @property
    def usd(self) -> float:
        return sum(day.usd for day in self.days)

    @property
    def unpriced(self) -> int:
        return sum(day.unpriced for day in self.days)

    def on(self, day: str) -> DaySpend:
        return next((d for d in self.days if d.day == day), DaySpend(day))


def spend_totals(table: PriceTable, rows: Iterable[SpendRow]) -> SpendTotals:
    """Running totals per day and overall, priced with the current table."""
    by_day: dict[str, DaySpend] = {}
    for row in rows:
        day = by_day.setdefault(row.day, DaySpend(row.day))
        cost = None if row.unknown else table.cost(row.model, row.quality, row.size, row.images, row.usage)
        if cost is None:
            day.unpriced += row.generations
        else:
            day.usd += cost.usd
            day.priced += row.generations
    return SpendTotals(sorted(by_day.values(), key=lambda d: d.day, reverse=True))
