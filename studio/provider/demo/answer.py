"""What a demo answer reports beside its images: the usage and the settings the API echoes."""

from __future__ import annotations

from typing import Any

from PIL import Image

# gpt-image-1 output tokens per image at 1024x1024, by quality: the demo reports usage in the same shape
# (xhigh and max: made-up larger counts, so a comparison of tiers shows them dearer).
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240, "max": 8320, "auto": 1056}


def demo_usage(prompt: str, input_images: int, quality: str, n: int) -> dict[str, Any]:
    """Token usage in the API's shape: a token per word, 194 per input image, the tier's output tokens."""
    text_tokens = max(1, len(prompt.split()))
    image_tokens = 194 * input_images  # input images cost tokens too
    output_tokens = OUTPUT_TOKENS.get(quality, 1056) * n
    return {
        "input_tokens": text_tokens + image_tokens,
        "output_tokens": output_tokens,
        "total_tokens": text_tokens + image_tokens + output_tokens,
        "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
    }


def echoed_settings(background: str, output_format: str, quality: str, size: str, pictures: list[Image.Image]) -> dict[str, str]:
    """The settings an answer echoes, with `auto` resolved as the API resolves it."""
    return {
        "background": "opaque" if background == "auto" else background,
        "output_format": output_format,
        "quality": "medium" if quality == "auto" else quality,
        "size": f"{pictures[0].size[0]}x{pictures[0].size[1]}" if size == "auto" and pictures else size,
    }
