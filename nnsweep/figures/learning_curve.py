"""learning_curve.png: each replicate's loss against epoch, the median and band, and how
each replicate stopped."""

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nnsweep.figures.style import (
    MAX_LINES,
    STOP_MARKS,
    clip_off_top,
    drawable,
    epoch_axis,
    light_minor_ticks,
    log_limits,
)

LOSS_GROWTH = 1e3  # the loss axis reaches at most this many times the first losses


def learning_curve_figure(curves: pd.DataFrame, stops: pd.DataFrame, title: str = "") -> Figure:
    """Loss (log scale) against epoch from loss.csv's columns, one line per replicate (the
    first MAX_LINES), with several the median and min-max band of all of them, and a mark
    where each drawn replicate stopped (``stops``: replicate, epoch, loss, outcome)."""
    fig = Figure(figsize=(8, 4.4), layout="constrained")
    ax = fig.subplots()
    wide = curves.pivot(index="epoch", columns="replicate", values="loss")  # (epochs, R)
    wide = drawable(wide)
    test = _carried_forward(curves, "test_loss") if "test_loss" in curves else None
    _loss_limits(ax, wide if test is None else pd.concat([wide, drawable(test)], axis=1))
    above = clip_off_top(wide, ax.get_ylim()[1])
    drawn = wide.columns[:MAX_LINES]
    one = wide.shape[1] == 1
    for i, r in enumerate(drawn):
        label = None if i else "training loss" if one else f"replicate {drawn[0]} to {drawn[-1]}"
        ax.plot(
            wide.index,
            above[r],
            color="C0",
            lw=1.4 if one else 0.8,
            alpha=1 if one else 0.45,
            label=label,
        )
    if not one:
        _median_and_band(ax, curves)
    if test is not None:
        median = clip_off_top(drawable(test.median(axis=1)), ax.get_ylim()[1])
        ax.plot(
            median.index,
            median,
            color="C1",
            lw=1.8,
            ls="--",
            label="held-out loss" if one else "held-out loss (median)",
        )
    _stop_marks(ax, stops[stops["replicate"].isin(drawn)], stops["outcome"].value_counts())
    epoch_axis(ax, curves["epoch"].max())
    ax.set(xlabel="epoch", ylabel="loss (all training points)")
    ax.set_title(_drawn_note(len(drawn), wide.shape[1]), fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(loc="outside right upper")
    fig.suptitle(title or "Learning curve")
    light_minor_ticks(fig)
    return fig


def _median_and_band(ax: Axes, curves: pd.DataFrame) -> None:
    """Over every replicate, its last loss carried forward once it stopped (a diverged one at
    infinity), so the median does not jump as replicates leave."""
    carried = _carried_forward(curves, "loss")
    ax.fill_between(
        carried.index,
        carried.min(axis=1),
        carried.max(axis=1).clip(upper=ax.get_ylim()[1]),  # inf: to the top edge
        color="C0",
        alpha=0.15,
        lw=0,
        label="min to max",
    )
    median = carried.median(axis=1)
    ax.plot(median.index, median.where(np.isfinite(median)), color="black", lw=1.8, label="median")


def _carried_forward(curves: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` (epoch, replicate), each replicate's last value carried forward once it
    stopped, and infinity once it diverged (NaN in loss.csv)."""
    filled = curves.assign(**{column: curves[column].fillna(np.inf)})
    return filled.pivot(index="epoch", columns="replicate", values=column).ffill()


def _stop_marks(ax: Axes, stops: pd.DataFrame, counts: pd.Series) -> None:
    """Where each replicate stopped. A diverged one has no finite loss to stand at: its
    mark sits on the top edge, at its last epoch."""
    for outcome, (marker, colour) in STOP_MARKS.items():
        rows = stops[stops["outcome"] == outcome]
        y = np.full(len(rows), ax.get_ylim()[1]) if outcome == "diverged" else rows["loss"]
        label = f"{outcome} ({counts[outcome]:,})" if outcome in counts else None
        ax.scatter(
            rows["epoch"],
            y,
            marker=marker,
            color=colour,
            s=45,
            zorder=3,
            clip_on=False,
            label=label,
        )


def _loss_limits(ax: Axes, wide: pd.DataFrame) -> None:
    """A log loss axis over ``wide``'s drawable losses, up to LOSS_GROWTH times the first
    ones at most (the first of each replicate that has one)."""
    first = wide.bfill().iloc[0].max()
    ax.set(yscale="log", ylim=log_limits(wide, start=first, growth=LOSS_GROWTH))


def _drawn_note(drawn: int, replicates: int) -> str:
    if replicates == 1:
        return ""
    if drawn < replicates:
        return (
            f"{drawn} of {replicates:,} replicates drawn; the median and band "
            f"summarise all {replicates:,}"
        )
    return f"{replicates} replicates, their median and band"
