"""Compare's difference score: does a dearer tier change the picture at all? Real images (the demo endpoint's
over real HTTP, and Pillow-drawn ones), real files, the page as a user sees it."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from studio.provider.demo.pictures import render_image
from studio.services.compare import GridSpec, run_grid
from studio.services.comparisons import open_comparison
from studio.core.request import ImageRequest
from studio.services.studio import SavedImage, Studio
from studio.services.tier_difference import compare_images, row_differences
from tests.conftest import run_comparison

APP = str(Path(__file__).resolve().parents[1] / "app.py")

pytestmark = pytest.mark.usefixtures("legacy_models")  # priced with gpt-image-1's table (see conftest.py)


def saved(folder: Path, data: bytes, batch_index: int = 0, name: str | None = None) -> SavedImage:
    """A real file in a folder, described as the gallery describes a saved image."""
    sha = hashlib.sha256(data).hexdigest()
    path = folder / (name or f"{sha}.img")
    path.write_bytes(data)
    with Image.open(io.BytesIO(data)) as image:
        return SavedImage(1, batch_index, path, image.width, image.height, (image.format or "").lower(), sha, len(data), None)


def demo_picture(quality: str, output_format: str = "png", prompt: str = "a watercolor fox") -> bytes:
    return render_image(prompt, "1024x1024", output_format, "opaque", None, 0, quality)


def stripes() -> bytes:
    """A picture with nothing in common with the demo's disc: vertical black and white bars."""
    image = Image.new("RGB", (1024, 1024), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, 1024, 128):
        draw.rectangle((x, 0, x + 63, 1023), fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_the_same_picture_is_nearly_identical_even_re_encoded(tmp_path: Path) -> None:
    png = saved(tmp_path, demo_picture("high"))
    copy = saved(tmp_path, demo_picture("high"), name="copy.png")
    jpeg = saved(tmp_path, demo_picture("high", "jpeg"))
    assert compare_images([png], [copy]) == (0.0, "")
    bits, _ = compare_images([png], [jpeg])
    assert bits is not None and bits <= 8


def test_a_very_different_picture_scores_low(tmp_path: Path) -> None:
    bits, _ = compare_images([saved(tmp_path, demo_picture("high"))], [saved(tmp_path, stripes())])
    assert bits is not None and bits > 100  # of 256: about as far apart as two random pictures


def test_images_pair_by_batch_index_and_the_score_is_their_mean(tmp_path: Path) -> None:
    same, other = demo_picture("high"), stripes()
    left = [saved(tmp_path, other, 1, "l1.png"), saved(tmp_path, same, 0, "l0.png")]
    right = [saved(tmp_path, same, 0, "r0.png"), saved(tmp_path, same, 1, "r1.png")]
    bits, _ = compare_images(left, right)
    alone, _ = compare_images([left[0]], [right[1]])
    assert bits == pytest.approx(alone / 2)


def test_a_hash_is_kept_per_sha256_and_an_unreadable_file_gives_a_reason_not_an_error(tmp_path: Path) -> None:
    low, high = saved(tmp_path, demo_picture("low")), saved(tmp_path, demo_picture("high"))
    first = compare_images([low], [high])
    low.path.unlink()  # the hash is cached per sha256: the file is not read again
    assert compare_images([low], [high]) == first
    gone = SavedImage(2, 0, tmp_path / "gone.png", 1024, 1024, "png", "0" * 64, 1, None)
    assert compare_images([gone], [high]) == (None, "not compared: an image file cannot be read")
    assert compare_images([], [high]) == (None, "nothing to compare: a cell has no image")


def test_the_demo_endpoint_draws_more_detail_at_higher_quality_and_each_row_scores_its_neighbours(studio: Studio) -> None:
    spec = GridSpec(ImageRequest(prompt="a watercolor fox", model="gpt-image-1"), ("low", "medium", "high"), "size", ("1024x1024", "1536x1024"))
    run, _ = run_grid(studio, spec)
    square, wide = row_differences(open_comparison(studio, run.group_id).cells, 3, 2)
    assert [(p.left, p.right) for p in square] == [("low", "medium"), ("medium", "high")]
    for pair in square + wide:  # more small shapes drawn: a change, but the same picture underneath
        assert pair.bits is not None and 8 < pair.bits <= 48, pair
        assert pair.label == f"changed in places · {pair.similarity:.2f} similar"
        assert 0.6 <= pair.similarity < 0.94


def test_a_failed_tier_has_no_score_and_says_why(studio: Studio) -> None:
    spec = GridSpec(ImageRequest(prompt="a watercolor fox [demo:fail=500] [demo:only=quality:high]", model="gpt-image-1"),
                    ("low", "medium", "high"))
    run, _ = run_grid(studio, spec)
    [(low_medium, medium_high)] = row_differences(open_comparison(studio, run.group_id).cells, 3, 1)
    assert low_medium.bits is not None
    assert medium_high.bits is None and medium_high.label == "nothing to compare: a cell did not succeed"


def test_a_saved_comparison_shows_the_difference_under_its_row(studio_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_MODEL", "gpt-image-1")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page("views/compare.py").run()
    at.text_area(key="compare_prompt").input("a fox")
    at.toggle(key="compare_live_preview").set_value(False)
    run_comparison(at)
    assert not at.exception
    differences = [c.value for c in at.caption if c.value.startswith("Difference between tiers")]
    assert len(differences) == 1
    assert differences[0].startswith("Difference between tiers: low ↔ medium: changed in places · 0.")
    assert "; medium ↔ high: changed in places · 0." in differences[0]
