"""The request fields Generate, Edit and Compare ask for alike, each widget keyed `<prefix><API field name>`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import streamlit as st

from studio.core.catalog import ModelRules, default_catalog
from studio.core.request import BACKGROUNDS, COMPRESSIBLE_FORMATS, MAX_PARTIAL_IMAGES, RESPONSE_FORMATS, STILL_ONLY, parse_size
from studio.services.studio import Studio

DEFAULT_FRAMES = 9  # what the API makes when frame_count is not sent


@dataclass(frozen=True)
class ImageFields:
    """The request fields Generate and Edit ask for alike; `third` is the free slot beside background;
    `model_fields`: the fields only some models take (complexity, frame_count), set only where they apply."""

    size: str
    quality: str
    n: int
    background: str
    output_format: str
    third: "st.delta_generator.DeltaGenerator"
    model_fields: dict[str, Any] = field(default_factory=dict)


def _offer(key: str, options: Sequence[str], model: str, name: str, custom: bool = False) -> list[str]:
    """`options` for a widget; a value left in the session from another model that this one does not take is
    dropped (said once), so it is never sent."""
    value = st.session_state.get(key)
    if value is not None and value not in options and not (custom and parse_size(str(value))):
        st.session_state.pop(key)
        st.caption(f"{name} {value} is not taken by {model}; it was reset.")
    return list(options)


def image_fields(key_prefix: str = "", studio: Studio | None = None) -> ImageFields:
    """The shared fields, with the choices the current model takes (from the model catalog)."""
    model = studio.settings.model if studio else ""
    rules = studio.catalog.rules(model) if studio else default_catalog().rules(model)
    left, middle, right = st.columns(3)
    sizes = _offer(f"{key_prefix}size", rules.sizes, model, "size", rules.custom_sizes)
    size = left.selectbox("size", sizes, key=f"{key_prefix}size", persist_state="session", accept_new_options=rules.custom_sizes,
                          help=("Or type WIDTHxHEIGHT (multiples of 16, up to 3840x2160)." if rules.custom_sizes
                                else f"{model} takes these sizes only." if model else None))
    quality = middle.selectbox("quality", _offer(f"{key_prefix}quality", rules.qualities, model, "quality"), key=f"{key_prefix}quality",
                              persist_state="session")
    n = right.number_input("n", min_value=1, max_value=10, value=1, step=1, key=f"{key_prefix}n", persist_state="session")
    left, middle, right = st.columns(3)
    backgrounds = [b for b in BACKGROUNDS if b != "transparent" or rules.transparent_background]
    background = left.selectbox("background", _offer(f"{key_prefix}background", backgrounds, model, "background"), key=f"{key_prefix}background", persist_state="session",
                                help=None if rules.transparent_background else f"{model} does not take a transparent background.")
    formats = _offer(f"{key_prefix}output_format", rules.output_formats, model, "output_format")
    output_format = middle.selectbox("output_format", formats, key=f"{key_prefix}output_format", persist_state="session")
    extra = model_fields(rules, output_format, key_prefix)
    if output_format == "svg" and n > 1:
        st.caption("svg output makes one image per request: n is sent as 1.")
        n = 1
    return ImageFields(size, quality, int(n), background, output_format, right, extra)


def model_fields(rules: ModelRules, output_format: str, key_prefix: str = "", skip: str | None = None) -> dict[str, Any]:
    """complexity (models that take it) and frame_count (gif output): shown, and sent, only where they apply
    (`skip`: a field Compare varies as its axis)."""
    values: dict[str, Any] = {}
    if not rules.complexities and not rules.takes_frame_count:
        return values
    left, right = st.columns(2)
    if rules.complexities and skip != "complexity":
        values["complexity"] = left.selectbox(
            "complexity", [None, *rules.complexities], key=f"{key_prefix}complexity", persist_state="session",
            format_func=lambda v: "not sent (model default)" if v is None else v,
            help="How much the model plans the picture, apart from rendering quality.")
    if rules.frame_count and output_format == "gif":
        low, high = rules.frame_count
        values["frame_count"] = right.number_input(
            "frame_count", min_value=low, max_value=high, value=None, step=1, key=f"{key_prefix}frame_count", persist_state="session",
            placeholder=f"not sent (the API makes {DEFAULT_FRAMES})", help=f"Frames of the animated GIF, {low} to {high}.")
    return {k: (int(v) if k == "frame_count" and v is not None else v) for k, v in values.items() if v is not None}


def output_compression_field(output_format: str, key_prefix: str = "") -> int | None:
    """Shown, and sent, only where it applies (jpeg, webp)."""
    if output_format not in COMPRESSIBLE_FORMATS:
        return None
    return st.slider("output_compression", 0, 100, 100, key=f"{key_prefix}output_compression", persist_state="session")


def response_format_field(studio: Studio, key_prefix: str = "") -> str | None:
    """response_format, in the Advanced expander's place; None (not sent) where the provider does not take it."""
    accepts = studio.settings.provider.accepts_response_format
    value = st.selectbox(
        "response_format", [None, *RESPONSE_FORMATS], key=f"{key_prefix}response_format", persist_state="session", disabled=not accepts,
        format_func=lambda v: "not sent (provider default)" if v is None else v,
        help=None if accepts else "This provider does not take response_format, so it is never sent.",
    )
    return value if accepts else None


def live_preview_controls(studio: Studio, key_prefix: str = "") -> tuple[bool | None, int | None]:
    """The "Live preview" toggle (on by default unless this provider is known not to stream) and
    partial_images; returns the request's (stream, partial_images)."""
    still = st.session_state.get(f"{key_prefix}output_format")
    if still in STILL_ONLY:  # gif and svg output do not stream: said, and not sent
        st.caption(f"{still} output does not stream, so it is sent without live preview.")
        return None, None
    streams = studio.streams()
    if streams is False:
        st.session_state[f"{key_prefix}live_preview"] = False  # show it off, as it will be sent
    left, right = st.columns(2)
    live = left.toggle(
        "Live preview", value=streams is not False, key=f"{key_prefix}live_preview", persist_state="session", disabled=streams is False,
        help="Stream the request (stream=true) and show partial images while the final one is made. "
             "Partial images cost extra output tokens.",
    )
    partial_images = right.selectbox(
        "partial_images", list(range(MAX_PARTIAL_IMAGES + 1)), index=2, key=f"{key_prefix}partial_images", persist_state="session", disabled=not live,
        help="How many partial images to show before the final one (0: only the final image, still streamed).",
    )
    if streams is False:
        left.caption("This provider refused streaming before, so requests go without live preview.")
        left.button("Try streaming again", key=f"{key_prefix}retry_stream", on_click=_retry_streaming, args=(studio, key_prefix))
        return None, None
    return (True, int(partial_images)) if live else (None, None)


def _retry_streaming(studio: Studio, key_prefix: str) -> None:
    studio.capabilities.forget(studio.settings.provider)
    st.session_state[f"{key_prefix}live_preview"] = True
