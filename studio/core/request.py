"""The typed image request and its local validation.

Field names are the API's own. A field left as None was not set by the user and is not sent,
so the provider applies its own default; `model` is the exception and is always sent.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from typing import Any

from studio.core.catalog import Catalog, ModelRules, default_catalog

MAX_PROMPT_CHARS = 32_000
MAX_MODEL_CHARS = 128  # the gallery's column width; real model ids are far shorter
STANDARD_SIZES = ("auto", "1024x1024", "1536x1024", "1024x1536")
# Every value the API knows for a field; which of them a model takes is the catalog's (studio/core/catalog.toml).
QUALITIES = ("auto", "low", "medium", "high", "xhigh", "max")
BACKGROUNDS = ("auto", "opaque", "transparent")
MODERATIONS = ("auto", "low")
OUTPUT_FORMATS = ("png", "jpeg", "webp", "gif", "svg")
COMPLEXITIES = ("low", "medium", "high")
TRANSPARENT_FORMATS = ("png", "webp")
STILL_ONLY = ("gif", "svg")  # formats that do not stream (no partial images)
RESPONSE_FORMATS = ("url", "b64_json")
COMPRESSIBLE_FORMATS = ("jpeg", "webp")
INPUT_FIDELITIES = ("low", "high")
MAX_PARTIAL_IMAGES = 3
# Custom WxH sizes: gpt-image-2 only, both sides multiples of 16, long:short at most 3:1, from 655,360 to
# 3840x2160 worth of pixels, no side over 3840; above 2560x1440 the API calls it experimental.
MAX_CUSTOM_LONG_SIDE = 3840
MAX_CUSTOM_PIXELS = 3840 * 2160
MIN_CUSTOM_PIXELS = 655_360
EXPERIMENTAL_PIXELS = 2560 * 1440
# ASCII digits only, the whole string: `\d` and `$` would let Arabic-Indic digits and a trailing newline through.
_SIZE_RE = re.compile(r"([0-9]{1,8})x([0-9]{1,8})")


class ValidationError(ValueError):
    """One or more fields are wrong; `problems` holds one message per field, each saying what to change."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    model: str
    n: int | None = None
    size: str | None = None
    quality: str | None = None
    background: str | None = None
    moderation: str | None = None
    output_format: str | None = None
    output_compression: int | None = None
    response_format: str | None = None
    user: str | None = None
    # Streaming (live preview) and edits; None, as everywhere, means "not sent".
    stream: bool | None = None
    partial_images: int | None = None
    input_fidelity: str | None = None  # edits only
    # gpt-image-2.6: planning effort, and the frames of a gif (output_format="gif" only).
    complexity: str | None = None
    frame_count: int | None = None

    def to_params(self) -> dict[str, Any]:
        """The fields to send: only those the user set, and always `model`."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def effective_output_format(self) -> str:
        return self.output_format or "png"


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(ImageRequest))


def supports_custom_sizes(model: str, catalog: Catalog | None = None) -> bool:
    return (catalog or default_catalog()).rules(model).custom_sizes


def parse_size(size: str) -> tuple[int, int] | None:
    match = _SIZE_RE.fullmatch(size) if isinstance(size, str) else None
    return (int(match[1]), int(match[2])) if match else None


def normalise_size(size: str | None) -> str | None:
    """`00016x00048` is the size 16x48: written plainly, so it is judged (and sent) as what it means."""
    dims = parse_size(size) if size is not None else None
    return f"{dims[0]}x{dims[1]}" if dims else size


def _custom_problem(w: int, h: int) -> str | None:
    """The first rule a custom WxH breaks, as the end of a sentence; None when it passes."""
    if w % 16 or h % 16:
        return "both sides must be multiples of 16"
    if max(w, h) > 3 * min(w, h):
        return "the long side may be at most 3 times the short side"
    if max(w, h) > MAX_CUSTOM_LONG_SIDE or w * h > MAX_CUSTOM_PIXELS:
        return "too large"
    if w * h < MIN_CUSTOM_PIXELS:
        return "too small"
    return None


def suggest_size(w: int, h: int) -> str:
    """A custom size that passes every rule, as close as can be to the shape and area asked for."""
    ratio = min(max(max(w, 1) / max(h, 1), 1 / 3), 3)
    area = min(max(w * h, MIN_CUSTOM_PIXELS), MAX_CUSTOM_PIXELS)
    width = (area * ratio) ** 0.5
    height = width / ratio
    shrink = min(1.0, MAX_CUSTOM_LONG_SIDE / max(width, height))
    width, height = width * shrink, height * shrink
    candidates = [(a, b) for a in (int(width) // 16 * 16, -(-int(width) // 16) * 16)
                  for b in (int(height) // 16 * 16, -(-int(height) // 16) * 16) if a and b and _custom_problem(a, b) is None]
    if not candidates:
        return "1024x1024"
    best = min(candidates, key=lambda c: (abs(c[0] / c[1] - ratio), abs(c[0] * c[1] - area)))
    return f"{best[0]}x{best[1]}"


def size_problem(size: str, model: str, rules: ModelRules | None = None) -> str | None:
    rules = rules or default_catalog().rules(model)
    if size in rules.sizes:
        return None
    dims = parse_size(size)
    named = ", ".join(rules.sizes)
    if size == "auto":
        return f"size auto is not taken by {model}; use one of {named}."
    if dims is None:
        return f"size {size!r} is not a size; use one of {named}" + (" or WIDTHxHEIGHT." if rules.custom_sizes else ".")
    if not rules.custom_sizes:
        if size in STANDARD_SIZES:
            return f"size {size} is not taken by {model}; use one of {named}."
        return f"size {size} is a custom size, which {model} does not take (gpt-image-2 and 2.5 models do); use one of {named}."
    w, h = dims
    problem = _custom_problem(w, h)
    if problem is None:
        return None
    nearest = suggest_size(w, h)
    if problem == "too large":
        return f"size {size} is too large; the largest is 3840x2160 (or 2160x3840). For this shape, try {nearest}."
    if problem == "too small":
        return f"size {size} is too small; custom sizes need at least {MIN_CUSTOM_PIXELS:,} pixels. For this shape, try {nearest}."
    if problem.startswith("both sides"):
        return f"size {size}: {problem} (e.g. {nearest})."
    return f"size {size}: {problem}. For example, try {nearest}."


def text_problem(name: str, value: str | None) -> str | None:
    """Text no database can keep: PostgreSQL refuses NUL in text, and a lone surrogate is not UTF-8 at all.
    Other control characters (tab, newline, a bell) are kept as written."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return f"The {name} contains a NUL character (\\x00, often from a paste out of a binary file); remove it."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"The {name} contains a broken character (a lone UTF-16 surrogate) that cannot be stored; retype or paste it again."
    return None


def size_is_experimental(size: str | None) -> bool:
    dims = parse_size(size or "")
    return bool(dims and dims[0] * dims[1] > EXPERIMENTAL_PIXELS)


def _choice(problems: list[str], name: str, value: Any, allowed: tuple[str, ...], model: str | None = None, catalog: Catalog | None = None) -> None:
    """`value` must be one of `allowed`; with `model`, a value another model takes says which one does."""
    if value is None or value in allowed:
        return
    if model is None or catalog is None:
        problems.append(f"{name} {value!r} is not allowed; choose one of {', '.join(allowed)}.")
        return
    others = [m for m in catalog.listed() if value in getattr(catalog.rules(m), _CATALOG_FIELD[name])]
    if not others:
        problems.append(f"{name} {value!r} is not allowed; choose one of {', '.join(allowed)}.")
        return
    hint = f" ({', '.join(others[:2])} {'take' if len(others) > 1 else 'takes'} it)"
    problems.append(f"{name} {value!r} is not taken by {model}{hint}; choose one of {', '.join(allowed)}.")


_CATALOG_FIELD = {"quality": "qualities", "output_format": "output_formats", "complexity": "complexities"}


def validate(request: ImageRequest, accepts_response_format: bool = True, edit: bool = False, *,
             catalog: Catalog | None = None, today: date | None = None) -> ImageRequest:
    """Return the request as it will be sent (its size written plainly) if it can be sent; otherwise raise
    ValidationError listing every problem. `edit`: the request goes to /images/edits, which takes
    input_fidelity and no moderation. Every field is checked against what the model takes (`catalog`, the
    shipped one by default); a retired model is refused with its date and successor (as of `today`, UTC)."""
    catalog = catalog or default_catalog()
    if request.size is not None and normalise_size(request.size) != request.size:
        request = replace(request, size=normalise_size(request.size))
    problems: list[str] = []
    for name, text in (("prompt", request.prompt), ("model name", request.model), ("user", request.user)):
        problem = text_problem(name, text)
        if problem:
            problems.append(problem)
    if not request.prompt.strip():
        problems.append("The prompt is empty; describe the image you want.")
    elif len(request.prompt) > MAX_PROMPT_CHARS:
        problems.append(
            f"The prompt is {len(request.prompt):,} characters; shorten it to at most {MAX_PROMPT_CHARS:,}."
        )
    model = request.model
    rules = catalog.rules(model)
    if not model.strip():
        problems.append("No model is set; pick one or type a model name.")
    elif len(model) > MAX_MODEL_CHARS:
        problems.append(f"The model name is {len(model)} characters; model names are at most {MAX_MODEL_CHARS}.")
    retired = rules.retirement(today, catalog)
    if retired:
        problems.append(f"{retired} Pick another model; nothing was sent.")
    if request.n is not None and (isinstance(request.n, bool) or not isinstance(request.n, int) or not 1 <= request.n <= 10):
        problems.append(f"n is {request.n!r}; ask for 1 to 10 images.")
    if request.size is not None:
        problem = size_problem(request.size, model, rules)
        if problem:
            problems.append(problem)
    _choice(problems, "quality", request.quality, rules.qualities, model, catalog)
    _choice(problems, "background", request.background, BACKGROUNDS)
    _choice(problems, "moderation", request.moderation, MODERATIONS)
    _choice(problems, "output_format", request.output_format, rules.output_formats, model, catalog)
    _choice(problems, "response_format", request.response_format, RESPONSE_FORMATS)
    if request.background == "transparent":
        if not rules.transparent_background:
            problems.append(f"{model} does not take a transparent background; set background to auto or opaque.")
        elif request.output_format is not None and request.output_format not in TRANSPARENT_FORMATS:
            problems.append("A transparent background needs png or webp output; change output_format or background.")
    if request.output_compression is not None:
        if isinstance(request.output_compression, bool) or not isinstance(request.output_compression, int) or not 0 <= request.output_compression <= 100:
            problems.append(f"output_compression is {request.output_compression!r}; use a whole number from 0 to 100.")
        elif request.effective_output_format not in COMPRESSIBLE_FORMATS:
            problems.append("output_compression only applies to jpeg or webp; clear it or change output_format.")
    if request.response_format is not None and not accepts_response_format:
        problems.append("This provider does not accept response_format; leave it unset.")
    problems.extend(_streaming_problems(request))
    problems.extend(_new_field_problems(request, rules, catalog))
    _choice(problems, "input_fidelity", request.input_fidelity, INPUT_FIDELITIES)
    if request.input_fidelity is not None and not edit:
        problems.append("input_fidelity only applies to edits; clear it or use the Edit page.")
    elif request.input_fidelity is not None and not rules.input_fidelity:
        problems.append(f"{model} does not take input_fidelity; clear it.")
    if request.moderation is not None and edit:
        problems.append("moderation is not taken by edits; clear it.")
    if problems:
        raise ValidationError(problems)
    return request


def _new_field_problems(request: ImageRequest, rules: ModelRules, catalog: Catalog) -> list[str]:
    """complexity, frame_count, and what gif and svg output rule out (OpenAI's reference: gif takes no
    streaming, partial images or output_compression; svg needs n=1 and takes no streaming either)."""
    problems: list[str] = []
    model = request.model
    if request.complexity is not None:
        if not rules.complexities:
            takers = [m for m in catalog.listed() if catalog.rules(m).complexities]
            problems.append(f"{model} does not take complexity; clear it" + (f" or pick {takers[0]}." if takers else "."))
        else:
            _choice(problems, "complexity", request.complexity, rules.complexities, model, catalog)
    if request.frame_count is not None:
        count = request.frame_count
        if isinstance(count, bool) or not isinstance(count, int):
            problems.append(f"frame_count is {count!r}; use a whole number of frames.")
        elif request.output_format != "gif":
            problems.append("frame_count only applies to gif output; set output_format to gif or clear frame_count.")
        elif rules.frame_count is not None and not rules.frame_count[0] <= count <= rules.frame_count[1]:
            low, high = rules.frame_count
            problems.append(f"frame_count is {count}; {model} makes {low} to {high} frames.")
    fmt = request.output_format
    if fmt in STILL_ONLY and request.output_format in rules.output_formats:
        if request.stream:
            problems.append(f"{fmt} output does not stream; turn off live preview (stream).")
        if fmt == "svg" and request.n not in (None, 1):
            problems.append(f"svg output makes one image per request; set n to 1 (n is {request.n}).")
    return problems


def _streaming_problems(request: ImageRequest) -> list[str]:
    problems = []
    if request.stream is not None and not isinstance(request.stream, bool):
        problems.append(f"stream is {request.stream!r}; use true or false.")
    if request.partial_images is not None:
        if isinstance(request.partial_images, bool) or not isinstance(request.partial_images, int) or not 0 <= request.partial_images <= MAX_PARTIAL_IMAGES:
            problems.append(f"partial_images is {request.partial_images!r}; ask for 0 to {MAX_PARTIAL_IMAGES} partial images.")
        elif not request.stream:
            problems.append("partial_images only applies when streaming; turn on live preview (stream) or clear partial_images.")
    if request.stream and request.response_format == "url":
        problems.append("A streamed result always comes as b64_json; turn off live preview or clear response_format.")
    return problems
