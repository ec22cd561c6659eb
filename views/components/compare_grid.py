"""The Compare page's grid: a cell per quality tier (x one more field), filled in as results arrive,
and a saved comparison with its winner and a side-by-side view."""

from __future__ import annotations

import streamlit as st

from studio.core.pricing import format_usd
from studio.services.compare import CellResult, GridRun, GridSpec, grid_rows
from studio.services.comparisons import Comparison, mark_winner
from studio.services.result_files import missing_images, missing_message
from studio.services.studio import Studio
from studio.services.tier_difference import PairDifference, row_differences
from views.components.fragments import in_fragment_rerun
from views.components.handoff import hand_off
from views.components.literal import literal
from views.components.results import NOT_RETURNED

SIMILARITY_HELP = ("A perceptual hash of each picture, compared image by image: 1.00 is the same picture, "
                   "0.00 as different as two unrelated pictures. Computed here from the saved images, not by the provider.")


def cell_facts(cell: CellResult) -> str:
    generation = cell.generation
    if generation is None:
        return ""
    latency = f"{generation.latency_s:.1f} s" if generation.latency_s is not None else "latency unknown"
    tokens = f"{generation.total_tokens:,} tokens" if generation.total_tokens is not None else "tokens not returned"
    cost = f"{format_usd(cell.cost.usd)} (est.)" if cell.cost else ("not billed" if cell.status == "failed" else "no price known")
    return " · ".join([latency, tokens, cost])


def show_cell(cell: CellResult, studio: Studio | None = None, comparison: Comparison | None = None) -> None:
    """One cell: its images, facts and revised prompt, or its error. With a saved comparison, a winner button."""
    winner = comparison is not None and comparison.winner_position == cell.position
    st.markdown(f"**{literal(cell.label)}**" + (" · 🏆 winner" if winner else ""))
    if cell.outcome is None:
        st.warning("No result yet: still running (reload in a moment), interrupted, or deleted from the gallery.")
        return
    if cell.error is not None:
        st.error(literal(cell.error.message))
        st.caption(cell_facts(cell))
        return
    missing = missing_images(cell.outcome.images)
    for image_id in sorted(missing):
        st.warning(missing_message(image_id))
    images = [image for image in cell.outcome.images if image.id not in missing]
    if images:
        st.image([image.src for image in images], caption=[f"image {i.batch_index + 1} · {i.width}x{i.height} {i.format}" for i in images], width="stretch")
    st.caption(cell_facts(cell))
    revised = list(dict.fromkeys(image.revised_prompt or NOT_RETURNED for image in images))
    st.caption("revised_prompt")
    st.text("\n".join(revised))
    if comparison is not None and studio is not None and not winner:
        st.button("Mark as winner", key=f"compare_win_{comparison.id}_{cell.position}", on_click=mark_winner,
                  args=(studio, comparison.id, cell.position))
    if comparison is not None and studio is not None and cell.generation is not None and comparison.axis == "prompt":
        # A prompt × quality grid: take the variant picked to Generate, where each edit sent is its next version.
        if st.button("Iterate on this prompt", key=f"compare_iterate_{comparison.id}_{cell.position}"):
            hand_off(studio, cell.generation, "generate")


def grid_slots(quality_count: int, column_count: int,
               differences: list[list[PairDifference]] | None = None) -> dict[int, "st.delta_generator.DeltaGenerator"]:
    """One empty slot per cell, keyed by its position, to fill as results arrive; under each row of a saved
    grid, how much each dearer tier changed the picture of its neighbour."""
    slots = {}
    for index, row in enumerate(grid_rows(quality_count, column_count)):
        for position, box in zip(row, st.columns(len(row), border=True)):
            slots[position] = box.empty()
        pairs = differences[index] if differences else []
        if pairs:
            st.caption("Difference between tiers: " + "; ".join(f"{p.left} ↔ {p.right}: {p.label}" for p in pairs), help=SIMILARITY_HELP)
    return slots


def follow_run(run: GridRun, rows: int, columns: int) -> None:
    """A run under way: the grid redrawn by a fragment twice a second (each cell's partial image, then its
    result) while the page stays usable; once every cell has finished the whole page runs again and shows it
    as saved (winner buttons, zoom, spend)."""
    st.fragment(_follow, run_every=0.5)(run, rows, columns)


def _follow(run: GridRun, rows: int, columns: int) -> None:
    results = {result.position: result for result in run.finished_so_far()}
    text = (f"{run.total} of {run.total} done in {run.wall_s:.1f} s" if len(results) == run.total
            else f"{len(results)} of {run.total} done · {run.wall_s:.0f} s")
    st.progress(len(results) / run.total, text=text)
    slots = grid_slots(rows, columns)
    for cell in run.cells:
        with slots[cell.position].container():
            if cell.position in results:
                show_cell(results[cell.position])
                continue
            st.markdown(f"**{literal(cell.label)}**")
            partial = run.partials.get(cell.position)
            if partial is not None:  # a streamed cell's live preview
                st.image(partial[1], caption=f"Live preview: partial image {partial[0] + 1}", width="stretch")
            else:
                st.caption("waiting for the provider…")
    if len(results) == run.total and in_fragment_rerun():
        st.rerun()


def show_comparison(studio: Studio, comparison: Comparison) -> None:
    st.subheader(f"Comparison #{comparison.id}")
    st.text(comparison.prompt)
    total = f"{format_usd(comparison.cost_usd)} (est.)" if comparison.cost_usd is not None else "no price known"
    st.caption(f"{comparison.created_at:%Y-%m-%d %H:%M} · {literal(comparison.model)} · {comparison.done} of {len(comparison.cells)} done · cost {total}")
    if comparison.winner is not None:
        st.success(f"Winner: {literal(comparison.winner.label)}")
        st.button("Clear winner", key=f"compare_clear_{comparison.id}", on_click=mark_winner, args=(studio, comparison.id, None))
    rows = (len(comparison.qualities), len(comparison.columns))
    slots = grid_slots(*rows, row_differences(comparison.cells, *rows))
    for cell in comparison.cells:
        with slots[cell.position].container():
            show_cell(cell, studio, comparison)
    show_zoom(comparison)


def show_zoom(comparison: Comparison) -> None:
    """Two images side by side, each as wide as half the page."""
    choices = {
        f"{cell.label} · image {image.batch_index + 1}": image
        for cell in comparison.cells if cell.outcome is not None for image in cell.outcome.images
    }
    if len(choices) < 2:
        return
    st.subheader("Side by side")
    labels = list(choices)
    left, right = st.columns(2)
    a = left.selectbox("Left", labels, index=0, key=f"compare_zoom_a_{comparison.id}")
    b = right.selectbox("Right", labels, index=len(labels) - 1, key=f"compare_zoom_b_{comparison.id}")
    for column, label in ((left, a), (right, b)):
        image = choices[label]
        column.image(image.src, caption=f"{literal(label)} · {image.width}x{image.height}", width="stretch")
