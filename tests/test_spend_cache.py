"""The sidebar's spend totals are read once and kept: a new generation or a delete shows at once, what another
process changes shows after the refresh, and a page run never waits for a second read."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import update

from studio.core.config import load_settings
from studio.core.request import ImageRequest
from studio.db.models import Generation
from studio.services import spend_cache
from studio.services.comparisons import spend
from studio.services.gallery import GalleryService
from studio.services.spend_cache import sidebar_spend
from studio.services.studio import Studio


def test_the_kept_totals_follow_this_process_and_refresh_what_others_change(studio: Studio, monkeypatch, tmp_path: Path) -> None:
    first = studio.generate(ImageRequest(prompt="a kite", model="gpt-image-2", quality="low", size="1024x1024"))
    assert sidebar_spend(studio) == spend(studio) and spend(studio).usd > 0
    second = studio.generate(ImageRequest(prompt="a second kite", model="gpt-image-2", quality="high", size="1024x1024"))
    assert sidebar_spend(studio) == spend(studio)  # a commit of this process is counted at once
    for quality in ("low", "low", "medium"):  # added to the kept read (same day, model, size: rows merge)
        studio.generate(ImageRequest(prompt=f"a {quality} kite", model="gpt-image-2", quality=quality, size="1024x1024"))
    assert sidebar_spend(studio) == spend(studio)
    other = Studio.open(load_settings({**os.environ, "STUDIO_DATA_DIR": str(tmp_path / "other")}))
    other.generate(ImageRequest(prompt="another gallery's kite", model="gpt-image-2", quality="high", size="1024x1024"))
    assert sidebar_spend(studio) == spend(studio)  # another gallery's commit (same generation ids) is not counted here
    assert sidebar_spend(other) == spend(other)
    GalleryService(studio).delete([(second.generation_id, second.images[0].id)])
    assert sidebar_spend(studio) == spend(studio)  # so is a delete

    # Another process's change (here: a row changed behind the studio's back) shows once the kept read is old.
    before = sidebar_spend(studio)
    with studio.records.engine.begin() as connection:
        connection.execute(update(Generation).where(Generation.id == first.generation_id).values(status="failed"))
    assert sidebar_spend(studio) == before  # kept: no second read on this page run
    monkeypatch.setattr(spend_cache, "REFRESH_S", 0.0)
    sidebar_spend(studio)  # old: read again off the page's path
    deadline = time.monotonic() + 10
    while sidebar_spend(studio) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sidebar_spend(studio) == spend(studio) != before
