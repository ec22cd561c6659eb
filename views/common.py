"""Streamlit glue shared by the pages: the studio for this session, the sidebar, how a result looks."""

from __future__ import annotations

import concurrent.futures
import functools
import re
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import streamlit as st

from studio.core.auth import password_matches
from studio.core.wire import PartialCallback
from studio.core.config import ConfigError, DEMO_PROVIDER, Settings, load_providers, load_settings
from studio.core.errors import StudioError
from studio.core.request import BACKGROUNDS, COMPRESSIBLE_FORMATS, MAX_PARTIAL_IMAGES, OUTPUT_FORMATS, QUALITIES, STANDARD_SIZES, ValidationError
from studio.services.studio import Outcome, SavedImage, Studio

T = TypeVar("T")
NOT_RETURNED = "not returned"


@st.cache_resource(show_spinner=False)
def _base_studio(data_dir: str, database_url: str, storage_url: str = "") -> Studio:
    # Keyed by where the gallery lives; opening it runs migrations once per process.
    return Studio.open(load_settings())


@st.cache_resource(show_spinner=False)
def _executor() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="studio-request")


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        st.error(f"The studio's configuration needs a change: {literal(exc)}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def require_sign_in() -> None:
    """Show nothing before sign-in when STUDIO_PASSWORD or st.login's OIDC settings are present."""
    expected = settings().password
    if expected:
        if st.session_state.get("signed_in"):
            return
        st.title("Image Studio")
        with st.form("sign-in"):
            given = st.text_input("Password", type="password")
            if st.form_submit_button("Sign in"):
                if password_matches(given, expected):
                    st.session_state["signed_in"] = True
                    st.rerun()
                st.error("That password is not right.")
        st.stop()
    elif oidc_configured() and not st.user.is_logged_in:
        st.title("Image Studio")
        st.button("Log in", on_click=st.login)
        st.stop()


def current_studio() -> Studio:
    """The studio for this browser session, with the provider and model picked in the sidebar."""
    base = settings()
    studio = _base_studio(str(base.data_dir), base.database_url, base.storage_url or "")
    return studio.with_settings(base.for_session(st.session_state.get("provider"), st.session_state.get("model")))


def run_with_preview(label: str, work: Callable[[PartialCallback], T], preview: "st.delta_generator.DeltaGenerator") -> T:
    """Run a request (it can take minutes) on a worker thread while a status element counts the seconds.
    `work` gets an on_partial callback, and each partial image is shown in `preview` (an st.empty()) as it
    arrives. The worker thread only hands the bytes over; this
    script thread draws them, since Streamlit elements belong to the script run."""
    latest: dict[str, tuple[int, bytes]] = {}

    def on_partial(index: int, data: bytes) -> None:
        latest["partial"] = (index, data)

    started = time.monotonic()
    shown = None
    with st.status(label, expanded=False) as status:
        future = _executor().submit(work, on_partial)
        while not future.done():
            concurrent.futures.wait([future], timeout=0.2)
            current = latest.get("partial")
            if current is not None and current is not shown:
                preview.image(current[1], caption=f"Live preview: partial image {current[0] + 1}", width=512)
                shown = current
            status.update(label=f"{label} {time.monotonic() - started:.0f} s")
        status.update(label=f"{label} done in {time.monotonic() - started:.1f} s", state="complete")
    preview.empty()  # the final image takes the preview's place
    return future.result()


def run_and_report(label: str, work: Callable[[PartialCallback], T], preview: "st.delta_generator.DeltaGenerator") -> T | None:
    """run_with_preview, with what went wrong shown as clear lines (never a traceback); None when it failed."""
    try:
        return run_with_preview(label, work, preview)
    except ValidationError as exc:
        for problem in exc.problems:
            st.error(literal(problem))
    except Exception as exc:
        st.error(literal(exc))
    return None


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


def sidebar(studio: Studio) -> None:
    s = studio.settings
    providers = load_providers(s.data_dir)
    with st.sidebar:
        st.subheader("Provider")
        keys = list(providers)
        st.selectbox(
            "Provider",
            keys,
            index=keys.index(s.provider.key),
            format_func=lambda k: providers[k].label,
            key="provider",
            on_change=lambda: st.session_state.pop("model", None),
        )
        models = list(s.provider.models)
        if s.model not in models:
            models.insert(0, s.model)
        st.selectbox("model", models, index=models.index(s.model), key="model", accept_new_options=True,
                     help="Pick one, or type any model name the provider serves.")
        st.caption(f"Base URL host: `{s.provider.host}`")
        if s.provider.key == DEMO_PROVIDER:
            st.info("Demo endpoint: offline placeholder images, not a real model.")
        elif s.has_key:
            st.caption("API key: set")
        else:
            st.warning(s.missing_key_message())
            st.button("Use the demo endpoint", on_click=_use_demo)


def _use_demo() -> None:
    st.session_state["provider"] = DEMO_PROVIDER
    st.session_state.pop("model", None)


def show_error(error: StudioError, generation_id: int | None = None) -> None:
    kept = f" The prompt is kept in the gallery as generation #{generation_id}." if generation_id else ""
    st.error(f"{literal(error.message)}{kept}")


def human_bytes(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def show_image_card(image: SavedImage, outcome: Outcome) -> None:
    generation = outcome.generation
    st.image(image.src, width="stretch")
    st.caption("revised_prompt")
    st.text(image.revised_prompt or NOT_RETURNED)
    facts = [
        f"{image.width}x{image.height}",
        image.format,
        human_bytes(image.bytes),
        f"{generation.latency_s:.1f} s" if generation.latency_s is not None else "latency unknown",
        f"{generation.total_tokens} tokens" if generation.total_tokens is not None else "tokens not returned",
    ]
    st.caption(" · ".join(facts))
    st.download_button(
        "Download",
        data=functools.partial(image.path.read_bytes),
        file_name=f"studio-{generation.id}-{image.batch_index + 1}.{image.format}",
        mime=f"image/{image.format}",
        key=f"download-{image.id}",
        on_click="ignore",
    )
    st.page_link("views/edit.py", label="Edit", icon=":material/brush:", query_params={"source_image": str(image.id)})


# What Markdown (GitHub-flavoured, as Streamlit renders it) would act on, escaped with a backslash; the rest of
# the text (dots, dashes, parentheses in "photo-1.png (2)") is left as typed, so messages read naturally.
_ALWAYS = re.compile(r"([\\`*\[\]<>|~$&@])")  # emphasis, links/images, HTML, tables, strike, LaTeX, entities, e-mail autolinks
_LONE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # intraword a_b is never emphasis
_LINE_START = re.compile(r"^([ \t]*|[ \t]*\d+)([-+=#.)])", re.M)  # lists "- " "1. " "2) ", headings, setext underlines
_WWW = re.compile(r"(?i)\b(www)\.")  # GFM links bare www.example.com
_COLON = re.compile(r":(?=\S)")  # http://, :red[..], :smile:, :material/home:
WORD_JOINER = "\u2060"


def literal(text: object) -> str:
    """Text from a user, a provider, a file name, a URL or an exception, made to show literally in anything
    Streamlit renders as Markdown (alerts, captions, labels, st.markdown, image captions).
    Streamlit swaps `:material/…:` and `:emoji:` shortcodes in before Markdown escapes count, so a colon
    followed by text gets an invisible word joiner after it as well as a backslash."""
    out = _ALWAYS.sub(r"\\\1", str(text))
    out = _LONE_UNDERSCORE.sub(r"\\_", out)
    out = _LINE_START.sub(r"\1\\\2", out)
    out = _WWW.sub(r"\1\\.", out)
    return _COLON.sub("\\:" + WORD_JOINER, out)


def show_sources(outcome: Outcome) -> None:
    """For an edit: what it was made from, with a link to the whole lineage in the gallery."""
    sources = [s for s in getattr(outcome.generation, "sources", []) if s.role == "image"]
    if not sources:
        return
    names = [f"#{s.image_id}" if s.image_id else literal(s.filename or "an upload") for s in sources]
    masked = any(s.role == "mask" for s in outcome.generation.sources)
    text = f"Edit of {names[0]}" + (f" with {', '.join(names[1:])}" if names[1:] else "") + (" · masked" if masked else "")
    left, right = st.columns([3, 1])
    left.caption(text)
    if outcome.images:
        right.page_link("views/gallery.py", label="Lineage", icon=":material/account_tree:",
                        query_params={"lineage": str(outcome.images[0].id)})


def show_outcome(outcome: Outcome, columns: int = 3) -> None:
    if outcome.error or outcome.status == "failed":
        show_error(outcome.error or StudioError(outcome.generation.error_message or "failed"), outcome.generation_id)
        return
    if outcome.generation.stream is False:
        st.caption("Sent without live preview: the provider does not stream.")
    show_sources(outcome)
    cells = st.columns(columns)
    for position, image in enumerate(outcome.images):
        with cells[position % len(cells)]:
            show_image_card(image, outcome)


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
