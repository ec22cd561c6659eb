"""The Insights latency ranking reads migration 0007's index in order: no sort of every succeeded row
(SQLite's plan; bench/insights.py measures both databases at 100,000 generations)."""

from __future__ import annotations

from sqlalchemy import event

from studio.db.insights import InsightFilter, InsightRecords
from studio.services.studio import Studio
from tests.test_insights import seed


def test_the_latency_ranking_reads_its_index_in_order_instead_of_sorting(studio: Studio) -> None:
    assert studio.records.engine.dialect.name == "sqlite"
    seed(studio)
    seen: list[tuple[str, object]] = []
    listener = lambda c, cur, sql, params, ctx, many: seen.append((sql, params))  # noqa: E731
    event.listen(studio.records.engine, "before_cursor_execute", listener)
    rows = InsightRecords(studio.records.engine).latency(InsightFilter())
    event.remove(studio.records.engine, "before_cursor_execute", listener)
    assert [(r.model, r.requests, r.median) for r in rows][0] == ("gpt-image-1", 6, 35.0)
    assert len(seen) == 2  # the ranking and the per-group figures
    with studio.records.engine.connect() as connection:
        for sql, params in seen:
            plan = " | ".join(row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            assert "ix_generations_latency_rank" in plan and "TEMP B-TREE" not in plan, plan
