"""Insights page: is the dearer tier worth it? Spend, latency, images, failures and tokens as charts, and the
blind arena's win rates per tier with cost per win, for a date range, model, provider and collection."""

from __future__ import annotations

from datetime import date

import streamlit as st

from studio.core.config import ConfigError
from studio.core.pricing import format_usd
from studio.services.insights import InsightFilter, filter_choices, insights, rows_of
from views.components.charts import failures_chart, images_chart, latency_chart, show_chart, spend_chart, tokens_chart, win_rate_chart
from views.components.literal import literal
from views.components.session import current_studio, sidebar
from views.components.spend import RESELLER_NOTE

studio = current_studio()
st.title("Insights")
st.caption("Is the dearer tier worth it? What each model and quality cost, how long it took, what failed, "
           "and how often it won a blind vote. Every price is an estimate. " + RESELLER_NOTE)

models, providers, collections = filter_choices(studio)
names = dict(collections)
left, model_col, provider_col, collection_col = st.columns(4)
picked = left.date_input("Dates", value=(), key="insights_dates", help="Leave empty for every day; pick a start and an end (UTC).")
model = model_col.selectbox("Model", models, index=None, key="insights_model", placeholder="every model")
provider = provider_col.selectbox("Provider", providers, index=None, key="insights_provider", placeholder="every provider")
collection = collection_col.selectbox("Collection", list(names), index=None, key="insights_collection",
                                      format_func=names.__getitem__, placeholder="every image")
days = [d for d in (picked if isinstance(picked, (tuple, list)) else (picked,)) if isinstance(d, date)]
chosen = InsightFilter(days[0] if days else None, days[-1] if days else None, model, provider, collection)

try:
    report = insights(studio, chosen)
except ConfigError as exc:
    sidebar(studio)
    st.error(f"The price table needs a change: {literal(exc)}")
    st.stop()
    raise  # unreachable: st.stop() ends the script run
# Drawn after the report so its spend totals reuse the gallery's spend rollup the report read (one query, not two).
sidebar(studio, report.gallery_spend)

total, requests, unpriced, votes = st.columns(4)
total.metric("Spend (estimate)", format_usd(report.total_usd))
requests.metric("Images", sum(d.images for d in report.images))
unpriced.metric("Requests with no price known", report.unpriced)
votes.metric("Arena votes", report.arena.votes)

period = st.segmented_control("Spend per", ["day", "week"], default="day", key="insights_period") or "day"
cells = report.spend if period == "day" else report.spend_by_week()
spend_rows = [{period: c.day if period == "day" else c.week, "model": c.model, "quality": c.quality, "tier": f"{c.model} · {c.quality}",
               "usd": round(c.usd, 6), "requests": c.requests} for c in cells]
show_chart(f"Spend per {period}", spend_chart(spend_rows, period) if spend_rows else None, spend_rows, f"spend_per_{period}",
           "No priced request in this selection.")

latency_rows = [{**row, "group": f"{row['model']} · {row['quality']} · {row['size']}",
                 "median_label": f"median {row['median']:.1f} s", "p90_label": f"p90 {row['p90']:.1f} s"} for row in rows_of(report.latency)]
show_chart("Latency per model × quality × size", latency_chart(latency_rows) if latency_rows else None, latency_rows, "latency",
           "No succeeded request with a recorded time in this selection.")

image_rows = rows_of(report.images)
show_chart("Images per day", images_chart(image_rows) if image_rows else None, image_rows, "images_per_day", "No image in this selection.")

failure_rows = rows_of(report.failures)
show_chart("Failure rate by error code", failures_chart(failure_rows) if failure_rows else None, failure_rows, "failures",
           "No failed request in this selection.")

token_rows = [{**row, "group": f"{row['model']} · {row['quality']} · {row['size']}"} for row in rows_of(report.tokens)]
show_chart("Tokens per image", tokens_chart(token_rows) if token_rows else None, token_rows, "tokens_per_image",
           "No request in this selection returned usage tokens.")

st.divider()
st.header("Blind arena: win rate per tier")
st.caption("Votes from the Arena page: two images of one prompt from different tiers, shown without their settings. "
           "A tie counts half a win; the interval is Wilson's at 95%. Cost per win is the price per image divided by the win rate.")


def money(value: float | None) -> str:
    return format_usd(value)


def table(stats: list, with_collection: bool = False, with_opponent: bool = False) -> list[dict]:
    rows = []
    for s in stats:
        low, high = s.interval
        row = {"collection": s.collection} if with_collection else {}
        row.update({"tier": s.tier})
        if with_opponent:
            row["against"] = s.opponent
        row.update({"win rate": f"{s.win_rate:.0%}", "95% interval": f"{low:.0%}–{high:.0%}", "votes": s.votes,
                    "price per image": money(s.usd_per_image), "cost per win": money(s.cost_per_win),
                    "win rate per $": "no price known" if s.win_rate_per_usd is None else f"{s.win_rate_per_usd:.1f}"})
        rows.append(row)
    return rows


arena_rows = [s.as_row() for s in report.arena.overall]
show_chart("Win rate per tier (overall)", win_rate_chart(arena_rows) if arena_rows else None, arena_rows, "arena_win_rates",
           "No vote yet: open the Arena page and pick the better image of a few pairs.")
if arena_rows:
    st.dataframe(table(report.arena.overall), hide_index=True, key="insights_arena_overall")
    st.subheader("Head to head")
    st.dataframe(table(report.arena.head_to_head, with_opponent=True), hide_index=True, key="insights_arena_pairs")
    if report.arena.by_collection:
        st.subheader("Per collection")
        st.dataframe(table(report.arena.by_collection, with_collection=True), hide_index=True, key="insights_arena_collections")
