"""Spend totals (estimates) in the sidebar of every page: today, overall, per day, and what has no price."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

import streamlit as st

from studio.core.config import ConfigError
from studio.core.pricing import SpendRow, format_usd
from studio.services.comparisons import spend
from studio.services.spend_cache import sidebar_spend
from studio.services.studio import Studio
from views.components.literal import literal

RESELLER_NOTE = ("Prices come from studio/core/pricing.toml (override in STUDIO_DATA_DIR/pricing.toml); "
                 "gpt-image-2's are OpenAI's launch prices as secondary sources report them, and a reseller may charge its own rate.")


def spend_sidebar(studio: Studio, rows: Sequence[SpendRow] | None = None) -> None:
    with st.sidebar:
        st.subheader("Spend (estimates)")
        try:
            totals = spend(studio, rows) if rows is not None else sidebar_spend(studio)
        except ConfigError as exc:
            st.warning(f"The price table needs a change: {literal(exc)}")
            return
        today = totals.on(datetime.now(timezone.utc).date().isoformat())
        st.caption(f"Today (UTC): {format_usd(today.usd)} · overall: {format_usd(totals.usd)}")
        if totals.unpriced:
            st.caption(f"{totals.unpriced} generation(s) used a model with no price known; they are not counted.")
        if totals.days:
            # A few lines, not a table: every page's own tables stay the first on the page; the Insights page
            # charts every day.
            with st.expander("Last 7 days"):
                for d in totals.days[:7]:
                    unpriced = f" · {d.unpriced} with no price known" if d.unpriced else ""
                    st.caption(f"{d.day}: {format_usd(d.usd)} ({d.priced} priced{unpriced})")
        st.caption(RESELLER_NOTE)
