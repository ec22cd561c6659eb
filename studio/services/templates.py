"""A prompt template on Generate: what it makes and costs before anything is sent, then one generation per prompt.

The grammar is `core/template.py`'s. Each prompt a template makes is sent as its own generation through
`Studio.generate`, the path every other request takes, so each lands in the gallery (and the history) alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from studio.core.pricing import PriceTable, format_usd, load_prices
from studio.core.request import ImageRequest, ValidationError, validate
from studio.core.template import DEFAULT_CONFIRM_LIMIT, Variant, expand
from studio.services.studio import Outcome, Studio


@dataclass(frozen=True)
class TemplatePreview:
    """What a template makes: its prompts, the requests that would be sent, and their estimated cost."""

    variants: list[Variant]
    requests: list[ImageRequest]
    usd: float | None  # None: the model has no price known
    model: str
    confirm_limit: int = DEFAULT_CONFIRM_LIMIT

    @property
    def count(self) -> int:
        return len(self.variants)

    @property
    def needs_confirmation(self) -> bool:
        """More prompts than the limit the user set: ask before sending."""
        return self.count > self.confirm_limit

    @property
    def cost_text(self) -> str:
        if self.usd is None:
            return f"no price known for {self.model}, so no estimate"
        return f"about {format_usd(self.usd)} (estimate)"

    @property
    def summary(self) -> str:
        images = sum(r.n or 1 for r in self.requests)
        return f"{self.count} prompt(s), {images} image(s): {self.cost_text}."


def preview_template(studio: Studio, template: str, request: ImageRequest, confirm_limit: int = DEFAULT_CONFIRM_LIMIT,
                     prices: PriceTable | None = None) -> TemplatePreview:
    """Expand `template` over `request` (whose prompt is ignored) and check every request the way a send would.
    Raises ValidationError (each problem saying what to change) for a malformed template or a bad field."""
    variants = expand(template)
    requests = [replace(request, prompt=variant.prompt) for variant in variants]
    problems: list[str] = []
    accepts = studio.settings.provider.accepts_response_format
    for variant, each in zip(variants, requests):
        try:
            validate(each, accepts, catalog=studio.catalog)
        except ValidationError as exc:
            for problem in exc.problems:
                text = problem if len(variants) == 1 or "prompt" not in problem.lower() else f"{variant.label}: {problem}"
                if text not in problems:
                    problems.append(text)
    if problems:
        raise ValidationError(problems)
    prices = prices or load_prices(studio.settings.data_dir)
    costs = [prices.estimate(r.model, r.quality, r.size, r.n) for r in requests]
    usd = None if any(cost is None for cost in costs) else sum(c for c in costs if c is not None)
    return TemplatePreview(variants, requests, usd, request.model, confirm_limit)


def run_template(studio: Studio, template: str, request: ImageRequest, prompt_parent_id: int | None = None,
                 confirmed: bool = False, confirm_limit: int = DEFAULT_CONFIRM_LIMIT) -> list[Outcome]:
    """Send every prompt the template makes, one generation each, in order; returns their outcomes (failed ones
    included: each is recorded). Nothing is sent when any prompt is invalid, nor above `confirm_limit` prompts
    unless `confirmed`."""
    preview = preview_template(studio, template, request, confirm_limit)
    if preview.needs_confirmation and not confirmed:
        raise ValidationError([f"This template makes {preview.count} prompts, more than the {confirm_limit} you set; "
                               f"confirm to send them all, or remove some alternatives."])
    return [studio.generate(each, prompt_parent_id=prompt_parent_id) for each in preview.requests]
