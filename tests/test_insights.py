"""Insights aggregates on a seeded gallery, against figures worked out by hand, on SQLite and PostgreSQL:
spend per day and week by model and quality, latency percentiles (as PostgreSQL's percentile_cont gives
them), images per day, failures by error code, tokens per image, and the filters (date, model, provider,
collection)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import insert, text

from studio.core.pricing import load_prices
from studio.db.models import Collection, CollectionImage, Generation, Image
from studio.services.insights import InsightFilter, insights, to_csv, rows_of
from studio.services.studio import Studio
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS[:2], indirect=True)

MON, TUE, NEXT_MON = datetime(2026, 5, 4, 10, tzinfo=timezone.utc), datetime(2026, 5, 5, 9, tzinfo=timezone.utc), datetime(2026, 5, 11, 8, tzinfo=timezone.utc)


def seed(studio: Studio) -> None:
    """Eleven requests: gpt-image-1 high 1024x1024 (latencies 10, 20, 30, 40, 100; two with usage tokens),
    gpt-image-1-mini low (2 images, 5 s), a relay-model-x request (no price), three failures,
    and one on another provider. Images 1 and 2 (gpt-image-1, Monday) are in collection "birds"."""
    g = lambda id, when, **kw: {"id": id, "created_at": when, "status": "succeeded", "provider": "demo", "base_url_host": "h",  # noqa: E731
                                "prompt": f"p{id}", "model": "gpt-image-1", "quality": "high", "size": "1024x1024", "latency_s": 10.0, **kw}
    generations = [
        g(1, MON, latency_s=10.0, input_tokens=100, output_tokens=4160, usage={"input_tokens": 100, "output_tokens": 4160}),
        g(2, MON, latency_s=20.0, input_tokens=50, output_tokens=4160, usage={"input_tokens": 50, "output_tokens": 4160}),
        g(3, TUE, latency_s=30.0),
        g(4, TUE, latency_s=40.0),
        g(5, NEXT_MON, latency_s=100.0),
        g(6, MON, model="gpt-image-1-mini", quality="low", latency_s=5.0, n=2),
        g(7, TUE, model="relay-model-x", quality="low", latency_s=7.0),
        g(8, MON, status="failed", error_code="moderation_blocked", latency_s=1.0),
        g(9, TUE, status="failed", error_code="moderation_blocked", latency_s=1.0),
        g(10, TUE, status="failed", error_code="rate_limited", latency_s=1.0),
        g(11, TUE, provider="relay", latency_s=50.0),
    ]
    image = lambda id, gen, batch=0: {"id": id, "generation_id": gen, "batch_index": batch, "path": f"images/{id}.png",  # noqa: E731
                                      "sha256": f"{id:064d}", "width": 8, "height": 8, "format": "png", "bytes": 10}
    images = [image(1, 1), image(2, 2), image(3, 3), image(4, 4), image(5, 5), image(6, 6), image(7, 6, 1), image(8, 7), image(9, 11)]
    keys = {key for row in generations for key in row}
    generations = [{key: row.get(key) for key in keys} for row in generations]  # one insert wants the same keys
    with studio.records.engine.begin() as connection:
        connection.execute(insert(Generation), generations)
        connection.execute(insert(Image), images)
        connection.execute(insert(Collection), [{"id": 1, "name": "birds", "created_at": MON}])
        connection.execute(insert(CollectionImage), [{"collection_id": 1, "image_id": 1, "added_at": MON}, {"collection_id": 1, "image_id": 2, "added_at": MON}])
        if connection.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for table in ("generations", "images", "collections"):
                connection.execute(text(f"SELECT setval('{table}_id_seq', 100)"))


def test_spend_per_day_and_week_by_model_and_quality(studio: Studio):
    seed(studio)
    report = insights(studio, InsightFilter(), load_prices())
    tokens = lambda i, o: (i * 5 + o * 40) / 1e6  # noqa: E731  (gpt-image-1: text in $5, image out $40 per 1M)
    spend = {(c.day, c.model, c.quality): (round(c.usd, 6), c.requests) for c in report.spend}
    assert spend == {
        ("2026-05-04", "gpt-image-1", "high"): (round(tokens(100, 4160) + tokens(50, 4160), 6), 2),
        ("2026-05-04", "gpt-image-1-mini", "low"): (0.01, 1),  # 2 images at $0.005
        ("2026-05-05", "gpt-image-1", "high"): (round(0.167 * 3, 6), 3),  # 3 and 4, and 11 on the relay
        ("2026-05-11", "gpt-image-1", "high"): (0.167, 1),
    }
    assert report.unpriced == 1  # relay-model-x
    weeks = {(c.week, c.model, c.quality): round(c.usd, 6) for c in report.spend_by_week()}
    assert weeks == {
        ("2026-05-04", "gpt-image-1", "high"): round(tokens(100, 4160) + tokens(50, 4160) + 0.167 * 3, 6),
        ("2026-05-04", "gpt-image-1-mini", "low"): 0.01,
        ("2026-05-11", "gpt-image-1", "high"): 0.167,
    }
    assert report.total_usd == pytest.approx(tokens(100, 4160) + tokens(50, 4160) + 0.167 * 4 + 0.01)


def test_latency_median_and_p90_per_model_quality_size(studio: Studio):
    seed(studio)
    latency = {(r.model, r.quality, r.size): r for r in insights(studio, InsightFilter()).latency}
    high = latency[("gpt-image-1", "high", "1024x1024")]
    # 10, 20, 30, 40, 50, 100: median between 30 and 40; p90 at rank 0.9*5 = 4.5 -> 50 + 0.5*50; p25 at 1.25 -> 22.5
    assert (high.requests, high.low, high.high) == (6, 10.0, 100.0)
    assert (high.median, high.p90, high.p25, high.p75) == pytest.approx((35.0, 75.0, 22.5, 47.5))
    assert high.mean == pytest.approx(250 / 6)
    mini = latency[("gpt-image-1-mini", "low", "1024x1024")]
    assert (mini.requests, mini.median, mini.p90) == (1, 5.0, 5.0)
    assert set(latency) == {("gpt-image-1", "high", "1024x1024"), ("gpt-image-1-mini", "low", "1024x1024"), ("relay-model-x", "low", "1024x1024")}


def test_images_per_day_failures_by_code_and_tokens_per_image(studio: Studio):
    seed(studio)
    report = insights(studio, InsightFilter())
    assert [(d.day, d.model, d.requests, d.images) for d in report.images] == [
        ("2026-05-04", "gpt-image-1", 2, 2), ("2026-05-04", "gpt-image-1-mini", 1, 2),
        ("2026-05-05", "gpt-image-1", 3, 3), ("2026-05-05", "relay-model-x", 1, 1),
        ("2026-05-11", "gpt-image-1", 1, 1),
    ]
    assert [(f.code, f.failures, f.requests) for f in report.failures] == [("moderation_blocked", 2, 11), ("rate_limited", 1, 11)]
    assert report.failures[0].rate == pytest.approx(2 / 11)
    assert [(t.model, t.requests, t.images, t.output_per_image, t.input_per_image) for t in report.tokens] == [
        ("gpt-image-1", 2, 2, 4160.0, 75.0)]
    assert to_csv(rows_of(report.failures)).splitlines() == [
        "code,failures,requests,rate", f"moderation_blocked,2,11,{2 / 11}", f"rate_limited,1,11,{1 / 11}"]


def test_filters_narrow_every_figure(studio: Studio):
    seed(studio)
    week = insights(studio, InsightFilter(date_from=date(2026, 5, 5), date_to=date(2026, 5, 5)))
    assert sorted((c.day, c.requests) for c in week.spend) == [("2026-05-05", 3)]
    assert [(f.code, f.failures, f.requests) for f in week.failures] == [("moderation_blocked", 1, 6), ("rate_limited", 1, 6)]
    relay = insights(studio, InsightFilter(provider="relay"))
    assert [(r.requests, r.median) for r in relay.latency] == [(1, 50.0)]
    mini = insights(studio, InsightFilter(model="gpt-image-1-mini"))
    assert [(d.model, d.images) for d in mini.images] == [("gpt-image-1-mini", 2)] and mini.failures == []
    birds = insights(studio, InsightFilter(collection_id=1))
    assert [(r.requests, r.median, r.p90) for r in birds.latency] == [(2, 15.0, pytest.approx(19.0))]
    assert [(c.day, c.requests) for c in birds.spend] == [("2026-05-04", 2)]


def test_the_page_and_its_sidebar_share_one_spend_read_and_narrowing_it_matches_the_database(studio: Studio):
    seed(studio)
    from studio.db.insights import InsightRecords
    from studio.services.comparisons import spend
    from studio.services.insights import narrow, price_spend

    report = insights(studio, InsightFilter(), load_prices())
    assert report.gallery_spend is not None
    assert spend(studio, report.gallery_spend) == spend(studio)  # the sidebar's totals from the page's read
    records = InsightRecords(studio.records.engine)
    for f in (InsightFilter(date_from=date(2026, 5, 5), date_to=date(2026, 5, 5)), InsightFilter(model="gpt-image-1"),
              InsightFilter(date_from=date(2026, 5, 5)), InsightFilter(date_to=date(2026, 5, 4), model="gpt-image-1-mini")):
        narrowed = insights(studio, f, load_prices())
        assert narrowed.gallery_spend == report.gallery_spend  # still the whole gallery's, for the sidebar
        assert (narrowed.spend, narrowed.unpriced) == price_spend(load_prices(), records.spend_rows(f))  # as SQL filters it
        assert sorted(map(repr, narrow(report.gallery_spend, f))) == sorted(map(repr, records.spend_rows(f)))
    assert insights(studio, InsightFilter(provider="relay")).gallery_spend is None  # not a key of the rollup: queried
