"""Taking image files into the gallery from outside it: a member of an imported zip, or a stray file the
doctor adopts. Fields come from the export's metadata line when there is one, else from the metadata
carried inside the file."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from studio.db.browse import BrowseRecords
from studio.db.models import Generation
from studio.files.filemeta import read_metadata
from studio.files.imagefile import inspect_image
from studio.files.storage import Storage
from studio.files.thumbnails import save_thumbnail

GENERATION_FIELDS = tuple(c.key for c in Generation.__table__.columns if c.key != "id")
IMAGE_FIELDS = ("batch_index", "sha256", "width", "height", "format", "bytes", "revised_prompt", "favourite")

Member = tuple[dict[str, Any], Callable[[], bytes]]  # (export record, how to read the file's bytes)


def add_files(browse: BrowseRecords, storage: Storage, members: Sequence[Member]) -> int:
    """One generation for files that came from one request; fields from the record, else from the file.
    Each file's bytes are fetched as it is stored, so only one is held at a time."""
    first, _ = members[0]
    source = first if "prompt" in first else None
    images = []
    for index, (record, load) in enumerate(members):
        data = load()
        if source is None:
            source = read_metadata(data) or {}
        facts = inspect_image(data)
        stored = storage.put(data, facts.format)
        revised = record["revised_prompt"] if "revised_prompt" in record else (read_metadata(data) or {}).get("revised_prompt")
        images.append({
            "batch_index": record.get("batch_index", index), "path": stored.path, "sha256": stored.sha256,
            "width": facts.width, "height": facts.height, "format": facts.format, "bytes": stored.bytes,
            "revised_prompt": revised, "favourite": bool(record.get("favourite", False)),
            "thumbnail_path": save_thumbnail(storage, data),
        })
        del data
    return browse.add_generation(generation_fields(source or {}), images)


def generation_fields(source: dict[str, Any]) -> dict[str, Any]:
    """Generation columns from an export record or from the metadata inside a file."""
    fields = {k: source[k] for k in GENERATION_FIELDS if k in source}
    fields.setdefault("prompt", source.get("prompt") or "(recovered file: no prompt inside)")
    fields.setdefault("model", source.get("model") or "unknown")
    fields.setdefault("provider", source.get("provider") or "import")
    fields.setdefault("base_url_host", "")
    fields["status"] = "succeeded"
    created_at = fields.get("created_at")
    try:  # the metadata inside a file is not checked like an export's lines: a bad date becomes "now"
        fields["created_at"] = datetime.fromisoformat(created_at) if isinstance(created_at, str) else datetime.now(timezone.utc)
    except ValueError:
        fields["created_at"] = datetime.now(timezone.utc)
    return fields
