"""The time-to-threshold figure: per value of a swept field, the Kaplan-Meier share of
replicates still above the loss threshold against epoch.

Each setting is a step line with its 95% band (:func:`nnsweep.report.survival.survival_curve`);
a tick marks where replicates stopped without reaching the threshold (at the epoch cap,
or diverged: censored at the cap), with how many. The learning curves show the median
loss; this shows when each replicate crossed the threshold and how many never did,
which a median line hides. Jobs that differ in another swept field are never pooled:
each combination of the other fields (and each dataset) has its own panel.
"""

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.figures.style import save
from nnsweep.report.answer import labelled
from nnsweep.report.style import context, figure_path, series_colours
from nnsweep.report.survival import caps, survival_curve
from nnsweep.report.tables import PANEL, Sweep
from nnsweep.report.text import ordered_values, short_name, value_labels

COLUMNS = 3  # panels per row before wrapping
WHAT = (
    "what the learning curves do not show: when each replicate reached the threshold, and "
    "how many never did"
)


def write_time_to_threshold(sweep: Sweep, field: str, out_dir: Path) -> Path | None:
    """``time_to_threshold_<field>.png``; None when no replicate reached the threshold."""
    done = sweep.done
    if done.empty or not done["converged"].fillna(False).astype(bool).any():
        return None
    others = [f for f in [PANEL, *sweep.figure_fields] if f in sweep.swept and f != field]
    panels = labelled(done, others) if others else pd.Series("", index=done.index)
    values = value_labels(ordered_values(done[field]))
    fig = survival_figure(
        done.assign(panel=panels.to_numpy(), series=done[field].map(values)),
        list(values.values()),
        title=f"Share of replicates still above the loss threshold by {short_name(field)}\n"
        f"{context(sweep, field)}",
        legend_title=short_name(field),
    )
    return save(fig, figure_path(out_dir, "time_to_threshold", field))


def survival_figure(runs: pd.DataFrame, order: list[str], title: str, legend_title: str) -> Figure:
    """A panel per ``panel`` of ``runs`` (replicate rows), a step line per ``series``."""
    panels = list(dict.fromkeys(runs["panel"]))
    columns = min(len(panels), COLUMNS)
    rows = -(-len(panels) // columns)
    fig = Figure(figsize=(1.0 + 4.6 * columns, 0.8 + 3.6 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    colours = series_colours(pd.Series(order))
    for ax, panel in zip(axes, panels, strict=False):
        for series in order:
            part = runs[(runs["panel"] == panel) & (runs["series"] == series)]
            if len(part):  # earlier settings wider: one that coincides shows around the next
                _draw(ax, part, colours[series], 1.4 + 2.0 * (1 - order.index(series) / len(order)))
        ax.set(title=str(panel), xscale="log", ylim=(-0.03, 1.03))
        ax.grid(True, which="both", alpha=0.3)
    first = runs.loc[runs["converged"].fillna(False).astype(bool), "epochs_run"].min()
    axes[0].set_xlim(left=max(1.0, first / 3))  # from just before the first to reach it
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-columns:]:
        ax.set_xlabel("epoch")
    for ax in axes[::columns]:
        ax.set_ylabel("share still above the threshold")
    _legend(fig, colours, legend_title)
    fig.suptitle(title, fontsize="medium")
    return fig


def _draw(ax: Axes, runs: pd.DataFrame, colour: tuple, width: float) -> None:
    """One setting: the Kaplan-Meier steps from epoch 1 (a log axis has no 0) to its last
    replicate's stop, the band, and a tick with a count where replicates were censored."""
    steps = survival_curve(runs).assign(epoch=lambda s: s["epoch"].clip(lower=1))
    ax.step(steps["epoch"], steps["share"], where="post", color=colour, lw=width)
    ax.fill_between(
        steps["epoch"], steps["low"], steps["high"], step="post", color=colour, alpha=0.15, lw=0
    )
    missed = runs[~runs["converged"].fillna(False).astype(bool)]
    for cap, group in caps(missed).groupby(caps(missed)):
        share = steps.loc[steps["epoch"] <= cap, "share"].iloc[-1]  # censored times are steps
        ax.plot([cap], [share], marker="|", ms=14, mew=2, color=colour)
        ax.annotate(f"{len(group)}", (cap, share), xytext=(4, 4), textcoords="offset points",
                    fontsize="x-small", color=colour)  # fmt: skip


def _legend(fig: Figure, colours: dict, title: str) -> None:
    handles = [Line2D([], [], color=c, lw=2, label=s) for s, c in colours.items()]
    handles.append(
        Line2D([], [], color="0.3", marker="|", ms=12, mew=2, ls="",
               label="censored: stopped at the cap without reaching it, or diverged (count)")
    )  # fmt: skip
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 5),
        title=f"{title}; step: Kaplan-Meier, band: 95% (log-log)",
        fontsize="small",
    )
