"""The Insights page's charts, built with Altair (Vega-Lite) and drawn natively by st.altair_chart, each with
a "download CSV" of exactly the rows it plots."""

from __future__ import annotations

from typing import Any, Sequence

import altair as alt
import streamlit as st

from studio.services.insights import to_csv


def show_chart(title: str, chart: alt.TopLevelMixin | None, rows: Sequence[dict[str, Any]], key: str, empty: str) -> None:
    """A chart under its title and, below it, its data as CSV; a short note instead when there is no data."""
    st.subheader(title)
    if not rows or chart is None:
        st.caption(empty)
        return
    st.altair_chart(chart, width="stretch")
    st.download_button(f"Download CSV: {title.lower()}", to_csv(rows), file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}",
                       icon=":material/download:")


def spend_chart(rows: list[dict[str, Any]], period: str) -> alt.Chart:
    """USD per day (or week), stacked by model and quality."""
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X(f"{period}:O", title=period),
        y=alt.Y("sum(usd):Q", title="USD (estimate)"),
        color=alt.Color("tier:N", title="model · quality"),
        tooltip=[alt.Tooltip(f"{period}:O"), alt.Tooltip("tier:N"), alt.Tooltip("sum(usd):Q", format="$.3f"), alt.Tooltip("sum(requests):Q", title="requests")],
    )


def latency_chart(rows: list[dict[str, Any]]) -> alt.LayerChart:
    """A box per model × quality × size: whiskers min..max, box p25..p75, the median and p90 marked and labelled."""
    base = alt.Chart(alt.Data(values=rows)).encode(y=alt.Y("group:N", title=None, sort=None))
    whisker = base.mark_rule().encode(x=alt.X("low:Q", title="seconds"), x2="high:Q")
    box = base.mark_bar(size=14, opacity=0.5).encode(x="p25:Q", x2="p75:Q", tooltip=[
        "group:N", "requests:Q", alt.Tooltip("median:Q", format=".1f"), alt.Tooltip("p90:Q", format=".1f"),
        alt.Tooltip("mean:Q", format=".1f"), alt.Tooltip("low:Q", format=".1f"), alt.Tooltip("high:Q", format=".1f")])
    median = base.mark_tick(thickness=3, size=18, color="black").encode(x="median:Q")
    p90 = base.mark_point(shape="diamond", filled=True, color="firebrick", size=70).encode(x="p90:Q")
    median_label = base.mark_text(dy=-14, fontSize=11).encode(x="median:Q", text=alt.Text("median_label:N"))
    p90_label = base.mark_text(dy=14, fontSize=11, color="firebrick").encode(x="p90:Q", text=alt.Text("p90_label:N"))
    return alt.layer(whisker, box, median, p90, median_label, p90_label).properties(height=alt.Step(48))


def images_chart(rows: list[dict[str, Any]]) -> alt.Chart:
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("day:O"), y=alt.Y("sum(images):Q", title="images"), color=alt.Color("model:N"),
        tooltip=["day:O", "model:N", "sum(images):Q", alt.Tooltip("sum(requests):Q", title="requests")],
    )


def failures_chart(rows: list[dict[str, Any]]) -> alt.Chart:
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("rate:Q", title="share of finished requests", axis=alt.Axis(format="%")), y=alt.Y("code:N", sort="-x", title="error code"),
        tooltip=["code:N", "failures:Q", "requests:Q", alt.Tooltip("rate:Q", format=".1%")],
    )


def tokens_chart(rows: list[dict[str, Any]]) -> alt.Chart:
    return alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("output_per_image:Q", title="output tokens per image"), y=alt.Y("group:N", title=None, sort=None),
        tooltip=["group:N", "requests:Q", "images:Q", alt.Tooltip("output_per_image:Q", format=".0f"), alt.Tooltip("input_per_image:Q", format=".0f")],
    )


def win_rate_chart(rows: list[dict[str, Any]]) -> alt.LayerChart:
    """Win rate per tier with its 95% interval as an error bar."""
    base = alt.Chart(alt.Data(values=rows)).encode(y=alt.Y("tier:N", title=None, sort=None))
    bars = base.mark_bar(opacity=0.7).encode(
        x=alt.X("win_rate:Q", title="win rate (ties count half)", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        tooltip=["tier:N", "votes:Q", "wins:Q", "ties:Q", "losses:Q", alt.Tooltip("win_rate:Q", format=".0%"),
                 alt.Tooltip("ci95_low:Q", format=".0%"), alt.Tooltip("ci95_high:Q", format=".0%"),
                 alt.Tooltip("cost_per_win:Q", format="$.3f")])
    interval = base.mark_rule(strokeWidth=2).encode(x="ci95_low:Q", x2="ci95_high:Q")
    return alt.layer(bars, interval).properties(height=alt.Step(36))
