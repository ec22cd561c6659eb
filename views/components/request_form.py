"""The request fields Generate, Edit and Compare ask for alike, each widget keyed `<prefix><API field name>`."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from studio.core.request import BACKGROUNDS, COMPRESSIBLE_FORMATS, MAX_PARTIAL_IMAGES, OUTPUT_FORMATS, QUALITIES, RESPONSE_FORMATS, STANDARD_SIZES
from studio.services.studio import Studio


@dataclass(frozen=True)
class ImageFields:
    """The request fields Generate and Edit ask for alike; `third` is the free slot beside background."""

    size: str
    quality: str
    n: int
    background: str
    output_format: str
    third: "st.delta_generator.DeltaGenerator"


def image_fields(key_prefix: str = "") -> ImageFields:
    left, middle, right = st.columns(3)
    size = left.selectbox("size", STANDARD_SIZES, key=f"{key_prefix}size", accept_new_options=True,
                          help="Or type WIDTHxHEIGHT (gpt-image-2: multiples of 16, up to 3840x2160).")
    quality = middle.selectbox("quality", QUALITIES, key=f"{key_prefix}quality")
    n = right.number_input("n", min_value=1, max_value=10, value=1, step=1, key=f"{key_prefix}n")
    left, middle, right = st.columns(3)
    background = left.selectbox("background", BACKGROUNDS, key=f"{key_prefix}background")
    output_format = middle.selectbox("output_format", OUTPUT_FORMATS, key=f"{key_prefix}output_format")
    return ImageFields(size, quality, int(n), background, output_format, right)


def output_compression_field(output_format: str, key_prefix: str = "") -> int | None:
    """Shown, and sent, only where it applies (jpeg, webp)."""
    if output_format not in COMPRESSIBLE_FORMATS:
        return None
    return st.slider("output_compression", 0, 100, 100, key=f"{key_prefix}output_compression")


def response_format_field(studio: Studio, key_prefix: str = "") -> str | None:
    """response_format, in the Advanced expander's place; None (not sent) where the provider does not take it."""
    accepts = studio.settings.provider.accepts_response_format
    value = st.selectbox(
        "response_format", [None, *RESPONSE_FORMATS], key=f"{key_prefix}response_format", disabled=not accepts,
        format_func=lambda v: "not sent (provider default)" if v is None else v,
        help=None if accepts else "This provider does not take response_format, so it is never sent.",
    )
    return value if accepts else None


def live_preview_controls(studio: Studio, key_prefix: str = "") -> tuple[bool | None, int | None]:
    """The "Live preview" toggle (on by default unless this provider is known not to stream) and
    partial_images; returns the request's (stream, partial_images)."""
    streams = studio.streams()
    if streams is False:
        st.session_state[f"{key_prefix}live_preview"] = False  # show it off, as it will be sent
    left, right = st.columns(2)
    live = left.toggle(
        "Live preview", value=streams is not False, key=f"{key_prefix}live_preview", disabled=streams is False,
        help="Stream the request (stream=true) and show partial images while the final one is made. "
             "Partial images cost extra output tokens.",
    )
    partial_images = right.selectbox(
        "partial_images", list(range(MAX_PARTIAL_IMAGES + 1)), index=2, key=f"{key_prefix}partial_images", disabled=not live,
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
