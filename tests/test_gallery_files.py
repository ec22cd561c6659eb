"""What lives in files: metadata inside every image, thumbnails, delete with shared files, zip export and
import, and the doctor. All through the real demo endpoint, a real gallery and real files; the tests
marked `every_backend` run on SQLite + a folder, PostgreSQL + a folder and PostgreSQL + an S3 bucket."""

from __future__ import annotations

from dataclasses import replace

import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image as PILImage

from studio.cli.main import main
from studio.core.config import load_settings
from studio.files.filemeta import read_metadata
from studio.core.browsing import GalleryFilter
from studio.services.gallery import GalleryService
from studio.core.request import ImageRequest
from studio.services.studio import Studio
from studio.services.thumbnails import wait_for_thumbnails
from tests.conftest import BACKENDS

every_backend = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def library(studio: Studio) -> GalleryService:
    return GalleryService(studio)


def generate(studio: Studio, prompt: str, **fields) -> object:
    outcome = studio.generate(ImageRequest(prompt=prompt, model=studio.settings.model, **fields))
    assert outcome.error is None
    return outcome


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_every_saved_file_carries_prompt_revised_prompt_and_settings(studio: Studio, output_format: str, capsys) -> None:
    outcome = generate(studio, "A lantern-lit fox ✨ reading a map", size="1536x1024", quality="high",
                       output_format=output_format, output_compression=None if output_format == "png" else 70)
    image = outcome.images[0]
    metadata = read_metadata(image.path.read_bytes())
    assert metadata["prompt"] == "A lantern-lit fox ✨ reading a map"
    assert metadata["revised_prompt"] == image.revised_prompt and image.revised_prompt
    assert (metadata["size"], metadata["quality"], metadata["output_format"], metadata["model"]) == ("1536x1024", "high", output_format, studio.settings.model)
    with PILImage.open(image.path) as picture:  # still a valid image of the right size
        picture.load()
        assert picture.size == (1536, 1024) and picture.format.lower() == output_format
    assert main(["inspect", str(image.path)]) == 0
    assert json.loads(capsys.readouterr().out)["revised_prompt"] == image.revised_prompt


def test_inspect_says_when_a_file_has_no_metadata(tmp_path: Path, capsys) -> None:
    plain = tmp_path / "plain.png"
    PILImage.new("RGB", (4, 4)).save(plain)
    assert main(["inspect", str(plain)]) == 1
    assert "carries no Image Studio metadata" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "nope.png")]) == 1


@every_backend
def test_thumbnail_is_a_small_webp_beside_the_original(studio: Studio, library: GalleryService) -> None:
    outcome = generate(studio, "A tall lighthouse", size="1024x1536")
    wait_for_thumbnails()  # made on a background thread, just after the rows are committed
    item = library.page(GalleryFilter()).items[0]
    thumb = studio.storage.absolute(item.thumbnail_path)
    with PILImage.open(io.BytesIO(thumb.read_bytes())) as picture:
        assert picture.format == "WEBP" and picture.size == (171, 256)
    assert item.thumbnail_path.startswith("thumbs/") and item.path == outcome.generation.images[0].path
    assert str(thumb).startswith(studio.storage.url) and str(outcome.images[0].path).startswith(studio.storage.url)
    assert library.thumbnail_source(item.image_id, item.path, item.thumbnail_path) == studio.storage.source(item.thumbnail_path)


@every_backend
def test_delete_keeps_a_file_another_row_still_uses(studio: Studio, library: GalleryService) -> None:
    first = generate(studio, "Same bytes twice")
    second = generate(studio, "Same bytes twice")  # the demo draws the same image: one shared file
    assert first.images[0].path == second.images[0].path
    library.delete([(first.generation_id, first.images[0].id)])
    assert second.images[0].path.is_file()
    library.delete([(second.generation_id, second.images[0].id)])
    assert not second.images[0].path.exists()
    assert library.page(GalleryFilter()).items == []  # generations without images left go too


@every_backend
def test_export_then_import_into_another_gallery_skips_duplicates(studio: Studio, library: GalleryService, another_gallery) -> None:
    kept = generate(studio, "Export me, a red kite", n=2, quality="low")
    other = generate(studio, "And a blue heron", output_format="webp")
    wait_for_thumbnails()
    library.favourite([kept.images[1].id])
    ids = [kept.images[0].id, kept.images[1].id, other.images[0].id]
    data = library.export_zip(ids)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        lines = [json.loads(line) for line in archive.read("metadata.jsonl").decode().splitlines()]
        packed = sorted(archive.read(n) for n in archive.namelist() if n.startswith("images/"))
        assert packed == sorted(i.path.read_bytes() for i in (*kept.images, *other.images))
    assert lines[0]["prompt"] == "Export me, a red kite" and lines[0]["quality"] == "low" and lines[0]["usage"]
    another_gallery("second")
    fresh = Studio.open(load_settings())
    assert fresh.storage.url != studio.storage.url
    second = GalleryService(fresh)
    report = second.import_zip(data)
    assert (report.added, report.skipped_duplicates, report.problems) == (3, 0, [])
    items = second.page(GalleryFilter(), "oldest").items
    assert [(i.prompt, i.batch_index, i.favourite) for i in items] == [
        ("Export me, a red kite", 0, False), ("Export me, a red kite", 1, True), ("And a blue heron", 0, False)]
    assert items[0].generation_id == items[1].generation_id  # one request stays one generation
    detail = second.detail(items[2].generation_id, items[2].image_id)
    assert detail.image.revised_prompt == other.images[0].revised_prompt and detail.file_exists
    assert fresh.storage.exists(items[0].thumbnail_path)
    assert second.page(GalleryFilter(search="heron")).items  # FTS kept in step by the import
    again = second.import_zip(data)
    assert (again.added, again.skipped_duplicates) == (0, 3)
    with pytest.raises(Exception, match="not a zip"):
        second.import_zip(b"not a zip at all")


@every_backend
def test_doctor_finds_a_missing_file_and_a_stray_file_and_fixes_them(studio: Studio, library: GalleryService, capsys) -> None:
    lost = generate(studio, "A lost kestrel: this file goes missing")
    stray = generate(studio, "A stray heron: its row goes missing")
    healthy = generate(studio, "A healthy one")
    wait_for_thumbnails()
    lost_file = lost.generation.images[0].path  # relative to the storage root
    studio.storage.delete(lost_file)
    stray_file = stray.generation.images[0].path
    library.images.delete_image_rows([stray.images[0].id])  # as if the process died before its commit
    library.images.set_thumbnail([healthy.images[0].id], None)  # as if made before thumbnails existed
    assert main(["doctor"]) == 1
    young = json.loads(capsys.readouterr().out)
    # Just written, the stray could be a request still saving: reported as in flight, not taken in yet.
    assert young["missing_files"] == [lost_file] and young["stray_files"] == [] and stray_file in young["in_flight"]
    later = time.time() + library.request_window_s() + 1  # as if the doctor ran after every request could end
    report = library.doctor(now=later)
    assert report.healthy is False
    assert report.missing_files == [lost_file]
    assert report.stray_files == [stray_file]
    assert report.missing_thumbnails == 1
    fixed = library.doctor(fix=True, now=later).fixed
    # Thumbnails removed: the two no row pointed to (one is made again) and the dropped row's.
    assert fixed == {"rows_dropped": 1, "files_adopted": 1, "strays_removed": 3, "thumbnails_made": 1}
    # The stray file came back with the prompt it carries inside; the lost one's prompt is still kept.
    assert library.page(GalleryFilter(search="heron")).items[0].path == stray_file
    assert library.page(GalleryFilter(search="kestrel")).items[0].image_id is None
    assert library.doctor(now=later).healthy
    assert main(["doctor"]) == 0
    assert json.loads(capsys.readouterr().out)["healthy"] is True


def edit_of(studio: Studio, image_id: int, prompt: str) -> object:
    outcome = studio.edit(ImageRequest(prompt=prompt, model="gpt-image-2"), [studio.edit_source(image_id)])
    assert outcome.error is None
    return outcome


@every_backend
def test_deleting_a_gallery_image_keeps_the_file_an_edit_was_made_from(studio: Studio, library: GalleryService) -> None:
    original = generate(studio, "A red door to edit")
    edit = edit_of(studio, original.images[0].id, "paint the door blue")
    wait_for_thumbnails()
    [source] = edit.generation.sources
    assert source.path == original.generation.images[0].path  # the same content-addressed file
    library.delete([(original.generation_id, original.images[0].id)])
    assert studio.storage.exists(source.path)  # the edit still shows what it was made from
    later = time.time() + library.request_window_s() + 1
    report = library.doctor(now=later)
    assert report.healthy and report.stray_files == [] and report.missing_sources == []
    library.delete([(edit.generation_id, None)])  # now nothing uses it: it goes
    assert not studio.storage.exists(source.path)
    assert library.doctor(now=later).healthy


@every_backend
def test_uploads_go_with_their_edit_and_the_doctor_checks_them(studio: Studio, library: GalleryService) -> None:
    buffer = io.BytesIO()
    PILImage.new("RGB", (48, 32), (200, 30, 30)).save(buffer, format="PNG")
    from studio.services.edits import read_image
    kept = studio.edit(ImageRequest(prompt="warmer", model="gpt-image-2"), [read_image("mine.png", buffer.getvalue())])
    [upload] = kept.generation.sources
    wait_for_thumbnails()
    assert upload.path.startswith("uploads/") and studio.storage.exists(upload.path)
    later = time.time() + library.request_window_s() + 1
    assert library.doctor(now=later).healthy
    studio.storage.put_file("uploads/ab/left-behind.png", buffer.getvalue())  # an upload no edit keeps
    studio.storage.delete(upload.path)  # and an edit whose input file is gone
    report = library.doctor(now=later)
    assert report.stray_uploads == ["uploads/ab/left-behind.png"] and report.missing_sources == [upload.path]
    assert not report.healthy
    library.doctor(fix=True, now=later)
    assert not studio.storage.exists("uploads/ab/left-behind.png")
    studio.storage.put(buffer.getvalue(), "png", folder="uploads")  # the edit's input, back again
    library.delete([(kept.generation_id, None)])
    assert not studio.storage.exists(upload.path)  # the upload goes with the last edit using it


@every_backend
def test_doctor_leaves_files_being_written_alone(studio: Studio, library: GalleryService) -> None:
    generate(studio, "Already saved")
    wait_for_thumbnails()
    data = studio.storage.read(library.images.file_rows()[0][1])
    temp = "images/aa/.tmp-being-written.png"
    uncommitted = "images/bb/" + "b" * 64 + ".png"  # written, its row not committed yet
    studio.storage.put_file(temp, data)
    studio.storage.put_file(uncommitted, data)
    report = library.doctor(fix=True)
    assert {temp, uncommitted} <= set(report.in_flight)
    assert report.stray_thumbnails == [] and report.stray_files == [] and report.fixed["files_adopted"] == 0
    assert studio.storage.exists(temp) and studio.storage.exists(uncommitted)
    assert len(library.images.file_rows()) == 1  # nothing adopted as a "recovered" generation
    later = time.time() + library.request_window_s() + 1  # long after any request could still be running
    report = library.doctor(fix=True, now=later)
    assert temp in report.stray_thumbnails and uncommitted in report.stray_files
    assert not studio.storage.exists(temp)


def test_the_in_flight_window_is_the_longest_a_request_can_run(studio: Studio) -> None:
    slow = studio.with_settings(replace(studio.settings, timeout_s=10, max_retries=3))
    assert GalleryService(slow).request_window_s() == 10 * 4 + 60
    assert GalleryService(studio).request_window_s() == (
        studio.settings.timeout_s * (studio.settings.max_retries + 1) + 60)


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_import_explains_bad_metadata_lines_and_goes_on(studio: Studio, library: GalleryService) -> None:
    good = generate(studio, "A good heron")
    data = good.images[0].path.read_bytes()
    library.delete([(good.generation_id, None)])
    lines = [
        json.dumps(["not", "an", "object"]),
        json.dumps({"file": 42}),
        json.dumps({"file": "images/a.png", "prompt": "bad date", "created_at": "yesterday-ish"}),
        json.dumps({"file": "images/a.png", "prompt": "bad n", "n": "three"}),
        "{not json",
        json.dumps({"file": "images/a.png", "prompt": "A good heron", "generation_id": [1]}),
    ]
    report = library.import_zip(zip_of({"metadata.jsonl": "\n".join(lines).encode(), "images/a.png": data}))
    assert report.added == 1
    assert report.problems == [
        "metadata.jsonl line 1: the line is a list, not an object with a \"file\" field. Fix or remove that line; skipped.",
        "metadata.jsonl line 2: \"file\" is not a name in the zip (42). Fix or remove that line; skipped.",
        "metadata.jsonl line 3 (images/a.png): \"created_at\" is not an ISO date and time (\"yesterday-ish\"). Fix or remove that line; skipped.",
        "metadata.jsonl line 4 (images/a.png): \"n\" is not what it should be (\"three\"). Fix or remove that line; skipped.",
        "metadata.jsonl line 5 is not JSON; skipped.",
    ]
    assert library.page(GalleryFilter(search="heron")).items


def test_import_refuses_oversized_members_and_zip_bombs(studio: Studio, library: GalleryService, capsys, tmp_path: Path) -> None:
    bomb = zip_of({"images/bomb.png": bytes(8 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    report = library.import_zip(bomb)
    assert report.added == 0 and report.problems == [
        "images/bomb.png unpacks to over 100 times its packed size, which no image does; skipped."]
    huge = zip_of({"images/huge.png": bytes(65 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    (tmp_path / "huge.zip").write_bytes(huge)
    assert main(["import", str(tmp_path / "huge.zip")]) == 0
    out = capsys.readouterr()
    assert "images/huge.png is 65 MB unpacked, over the 64 MB limit; skipped." in out.out + out.err
    assert library.page(GalleryFilter()).items == []


def test_import_holds_one_member_in_memory_at_a_time(studio: Studio, library: GalleryService) -> None:
    import os
    import tracemalloc

    members = {}
    for number in range(8):  # noise does not compress: each PNG is about 1.5 MB
        buffer = io.BytesIO()
        PILImage.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(buffer, format="PNG", compress_level=0)
        members[f"images/noise-{number}.png"] = buffer.getvalue()
    total = sum(len(data) for data in members.values())
    archive = io.BytesIO(zip_of(members))
    del members
    tracemalloc.start()
    try:
        report = library.import_zip(archive)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (report.added, report.problems) == (8, [])
    assert peak < total / 2, f"peak {peak / 1e6:.1f} MB for {total / 1e6:.1f} MB of images"


@every_backend
def test_a_round_trip_keeps_every_generation(studio: Studio, library: GalleryService, another_gallery) -> None:
    """Two generations with identical image bytes once became one ("already in the gallery" in an empty
    gallery), and an image whose file was missing was exported as `"file": null`, then refused."""
    first = generate(studio, "Same bytes twice, a grey heron")
    second = generate(studio, "Same bytes twice, a grey heron")  # the demo draws the same image again
    assert first.images[0].sha256 == second.images[0].sha256
    lost = generate(studio, "A lost kestrel, its file gone", quality="low")
    studio.storage.delete(lost.generation.images[0].path)
    data = library.export_zip([image_id for image_id, *_ in library.images.file_rows()])
    another_gallery("second")
    fresh = GalleryService(Studio.open(load_settings()))
    report = fresh.import_zip(data)
    assert (report.generations, report.added, report.skipped_duplicates) == (3, 2, 0)
    assert report.problems == [f"generation {lost.generation_id}: 1 image(s) had no file when the zip was made (missing from "
                               "the gallery that exported it); the generation came in with its prompt and settings, without them."]
    items = fresh.page(GalleryFilter(), "oldest").items
    assert [(i.prompt, i.image_id is not None) for i in items] == [
        ("Same bytes twice, a grey heron", True), ("Same bytes twice, a grey heron", True), ("A lost kestrel, its file gone", False)]
    assert items[0].path == items[1].path  # one file for the two: files are deduplicated, generations are not
    kestrel = fresh.detail(items[2].generation_id, None).generation
    assert (kestrel.quality, kestrel.created_at.replace(tzinfo=None)) == ("low", lost.generation.created_at.replace(tzinfo=None))
    again = fresh.import_zip(data)
    assert (again.generations, again.added, again.skipped_duplicates, again.problems) == (0, 0, 3, [])


def real_image(fmt: str) -> bytes:
    """A real 512x384 image with detail (a gradient and noise), so the compressed data is long enough to cut."""
    import os

    picture = PILImage.frombytes("RGB", (512, 384), os.urandom(512 * 384 * 3)).resize((512, 384))
    buffer = io.BytesIO()
    picture.save(buffer, fmt, quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_an_image_cut_short_is_refused_not_kept(fmt: str) -> None:
    """`Image.verify()` reads no JPEG scan data: a JPEG cut to a third was saved as `succeeded`."""
    from studio.core.errors import StudioError
    from studio.files.imagefile import inspect_image

    whole = real_image(fmt)
    assert inspect_image(whole).format == fmt.lower()
    for cut in (len(whole) // 3, len(whole) * 2 // 3, len(whole) - 64):
        with pytest.raises(StudioError) as refused:
            inspect_image(whole[:cut])
        assert refused.value.code == "damaged_image", (cut, refused.value.code)
        assert refused.value.message == ("The provider returned an image that is cut short or damaged (it does not decode "
                                         "whole); nothing was kept.")
    with pytest.raises(StudioError, match="images/cut.bin is cut short or damaged"):
        inspect_image(whole[: len(whole) // 3], "images/cut.bin")


def test_a_png_damaged_in_the_middle_is_refused_though_its_length_is_whole() -> None:
    """A PNG is checked chunk by chunk against its CRCs: one changed byte inside the pixel data is caught."""
    from studio.core.errors import StudioError
    from studio.files.imagefile import inspect_image

    whole = real_image("PNG")
    middle = whole.index(b"IDAT") + 4 + 100
    damaged = whole[:middle] + bytes([whole[middle] ^ 0xFF]) + whole[middle + 1:]
    with pytest.raises(StudioError) as refused:
        inspect_image(damaged)
    assert refused.value.code == "damaged_image"
