"""Taking image files into the gallery from outside it: a member of an imported zip, or a stray file the
doctor adopts. Fields come from the export's metadata line when there is one, else from the metadata
carried inside the file. Every value passes `studio/db/values.py` before it reaches a column: a bad
export line is refused whole (the person can fix the line), a bad embedded field is left out (the image
is kept, and the problem said)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from studio.core.config import base_url_host
from studio.core.errors import StudioError
from studio.db.archive import ArchiveRecords
from studio.db.models import Generation
from studio.db.values import generation_problems, image_problems, parse_datetime
from studio.files.filemeta import read_metadata
from studio.files.imagefile import inspect_image, keepable
from studio.files.storage import Storage
from studio.files.thumbnails import save_thumbnail

# Not prompt_parent_id: it names a row id of the gallery it came from, which means nothing in another one.
GENERATION_FIELDS = tuple(c.key for c in Generation.__table__.columns if c.key not in ("id", "prompt_parent_id"))
IMAGE_FIELDS = ("batch_index", "sha256", "width", "height", "format", "bytes", "revised_prompt", "favourite")
RECOVERED_PROMPT = "(recovered file: no prompt inside)"


@dataclass(frozen=True)
class Member:
    """One image of a generation to take in."""

    name: str  # how a problem line names it: the zip member or the stray file's path
    record: Mapping[str, Any]  # its export line (checked), or {} when it has none
    load: Callable[[], bytes] | None  # reads the bytes when they are stored; None: no file (missing at export)
    sha256: str | None = None  # when known before reading (a zip member is hashed first)


def line_problems(record: Any) -> list[str]:
    """Why an export line cannot be used as it is ([] when it can), said so a person can fix it."""
    if not isinstance(record, dict):
        kind = {list: "a list", str: "a string", type(None): "null"}.get(type(record), "a number")
        return [f"the line is {kind}, not an object with a \"file\" field"]
    file = record.get("file")
    if file is not None and not isinstance(file, str):
        return [f"\"file\" is not a name in the zip ({str(file)[:40]})"]
    return generation_problems(record) + image_problems(record)


def embedded_fields(data: bytes, name: str) -> tuple[dict[str, Any], list[str]]:
    """The metadata inside a file with only the values the gallery can hold, and problem lines for the rest."""
    try:
        metadata = read_metadata(data)
    except StudioError as exc:
        return {}, [f"{name}: {exc.message} The image came in without it."]
    if metadata is None:
        return {}, []
    problems = embedded_problems(metadata)
    kept = {key: value for key, value in metadata.items() if not _field_problems(key, value)}
    if problems:
        return kept, [f"{name}: its embedded metadata has {'; '.join(problems)}. The image came in without those fields."]
    return kept, []


def embedded_problems(metadata: Mapping[str, Any]) -> list[str]:
    """What in a file's metadata no column can hold (`python -m studio inspect` says it too)."""
    return [problem for key, value in metadata.items() for problem in _field_problems(key, value)]


def _field_problems(key: str, value: Any) -> list[str]:
    if key in GENERATION_FIELDS:
        return generation_problems({key: value})
    if key == "revised_prompt":
        return image_problems({key: value})
    return []  # other keys ("generator", "truncated" ...) are never stored


def add_files(records: ArchiveRecords, storage: Storage, members: Sequence[Member], notes: list[str]) -> int | None:
    """One generation for the files that came from one request, unless the gallery has it already (then
    None; see db/archive.py for what "already" means). Fields come from the first line that has a prompt,
    else from the metadata inside the first file. Each file's bytes are fetched as it is stored, so only
    one is held at a time. Files this call stored are taken back if the rows cannot be added, so a failure
    leaves no file without a row. Problems worth telling go to `notes`."""
    first = members[0].record
    source: Mapping[str, Any] | None = first if "prompt" in first else None
    with_files = [m for m in members if m.load is not None]
    if source is not None and with_files and all(m.sha256 for m in with_files):  # known before reading a byte
        fields = generation_fields(source)
        if records.already_there(fields, [m.sha256 or "" for m in with_files], by_time(source)):
            return None
    images = []
    written: list[str] = []
    try:
        for index, member in enumerate(members):
            if member.load is None:
                continue  # the file was missing when exported: the generation keeps its prompt, not the image
            data, removed = keepable(member.load(), member.name)  # an SVG is kept only cleaned
            if removed:
                notes.append(f"{member.name}: removed active content from the SVG ({', '.join(sorted(set(removed)))}).")
            facts = inspect_image(data, member.name)
            embedded, problems = embedded_fields(data, member.name)
            notes.extend(problems)
            if source is None:
                source = embedded
            stored = storage.put(data, facts.format)
            if stored.created:
                written.append(stored.path)
            thumbnail = save_thumbnail(storage, data)
            record = member.record
            images.append({
                "batch_index": record.get("batch_index", index), "path": stored.path, "sha256": stored.sha256,
                "width": facts.width, "height": facts.height, "format": facts.format, "bytes": stored.bytes,
                "revised_prompt": record["revised_prompt"] if "revised_prompt" in record else embedded.get("revised_prompt"),
                "favourite": bool(record.get("favourite", False)), "thumbnail_path": thumbnail,
            })
            del data
        source = source or {}
        return records.add_if_new(generation_fields(source), images, by_time(source))
    except BaseException:
        for path in written:
            storage.delete(path)
        raise


def by_time(source: Mapping[str, Any]) -> bool:
    """Whether a generation is known by its moment, prompt and model (an export line), or only by its files."""
    return parse_datetime(source.get("created_at")) is not None


def generation_fields(source: Mapping[str, Any]) -> dict[str, Any]:
    """Generation columns from a checked export line or the checked metadata inside a file."""
    # A null is "not known": the column's default applies (a NOT NULL column must not get it).
    fields = {k: source[k] for k in GENERATION_FIELDS if source.get(k) is not None and k not in ("status", "worker")}
    fields["prompt"] = source.get("prompt") or RECOVERED_PROMPT
    fields["model"] = source.get("model") or "unknown"
    fields["provider"] = source.get("provider") or "import"
    # An export made before credentials in a base URL were refused may carry `user:pass@host`: the host only.
    fields["base_url_host"] = base_url_host(source.get("base_url_host") or "")
    fields["status"] = "succeeded"
    created_at = parse_datetime(source.get("created_at"))  # None when absent: the file comes in as of now
    fields["created_at"] = created_at.astimezone(timezone.utc) if created_at else datetime.now(timezone.utc)
    return fields
