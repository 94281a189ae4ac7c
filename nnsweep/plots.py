"""The figures of one job, from plain arrays and DataFrames (the sweep figures are in
nnsweep.report).

Figures are built with matplotlib's object API (no pyplot state), so any
number can be drawn in one process, and saved through an atomic rename.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.records import atomic_path

CLASS_COLOURS = ListedColormap(["red", "blue"]).with_extremes(bad="grey")  # the lab's colours
MAX_LINES = 50  # replicate lines drawn; more is a solid smear that takes minutes to draw
LOG_EPOCHS_FROM = 10_000  # a longer run's epoch axis is logarithmic, as the sweep figures'
STOP_MARKS = {  # how each replicate stopped: marker and colour
    "converged": ("o", "green"),
    "epoch cap": ("s", "grey"),
    "diverged": ("X", "red"),
}


def save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    return path


def prediction_figure(
    x: np.ndarray,
    y: np.ndarray,
    prediction: np.ndarray,
    title: str = "",
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    test_prediction: np.ndarray | None = None,
) -> Figure:
    """The lab's show_result: "Ground truth" beside "Predict result" (output rounded at 0.5);
    a point whose output is not finite (a diverged network) is drawn grey. Held-out points
    (``x_test``, ``y_test``) are hollow: on the right only with ``test_prediction``, the
    network's output on them (a true label there would pass for a prediction)."""
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    panels = fig.subplots(1, 2, sharex=True, sharey=True)
    predicted = _predicted_class(prediction)
    test_predicted = None if test_prediction is None else _predicted_class(test_prediction)
    shown = {"Ground truth": (y, y_test), "Predict result": (predicted, test_predicted)}
    for ax, (name, (label, test_label)) in zip(panels, shown.items(), strict=True):
        ax.scatter(x[:, 0], x[:, 1], c=label.ravel(), cmap=CLASS_COLOURS, vmin=0, vmax=1, s=25)
        if x_test is not None and test_label is not None:
            held_out_points(ax, x_test, test_label)
        ax.set_title(name, fontsize=16)
        _input_axes(ax)
        ax.label_outer()  # the panels share their axes
    outputs = [predicted] if test_predicted is None else [predicted, test_predicted]
    handles = class_handles(not_finite=bool(np.isnan(np.concatenate(outputs)).any()))
    if x_test is not None and y_test is not None:
        handles.append(held_out_handle())
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    if title:
        fig.suptitle(title)
    return fig


def _predicted_class(output: np.ndarray) -> np.ndarray:
    """1 where the output is above 0.5, 0 where not, NaN where it is not finite: (n,)."""
    output = np.ravel(output)
    return np.where(np.isfinite(output), output > 0.5, np.nan)


def _input_axes(ax: Axes) -> None:
    ax.set(xlabel="x1", ylabel="x2", aspect="equal")


def held_out_points(ax: Axes, x_test: np.ndarray, label: np.ndarray) -> PathCollection:
    """Held-out points as rings of their class colour (grey where ``label`` is NaN), drawn
    over the training points: hollow, they hide nothing beneath them. A white halo keeps a
    ring seen on shading of its own colour."""
    colours = CLASS_COLOURS(np.ravel(label).astype(float))
    halo = [patheffects.withStroke(linewidth=3.2, foreground="white")]
    return ax.scatter(
        *x_test.T, facecolors="none", edgecolors=colours, s=40, linewidths=1.6, path_effects=halo
    )


def class_handles(not_finite: bool = False, **style: Any) -> list[Line2D]:
    """Legend entries for the class colours (and the grey of outputs that are not finite)."""
    names = {"class 0": CLASS_COLOURS(0), "class 1": CLASS_COLOURS(1)}
    if not_finite:
        names["output not finite"] = CLASS_COLOURS.get_bad()
    kw = {"marker": "o", "linestyle": "", "markersize": 6, **style}
    return [Line2D([], [], color=c, label=name, **kw) for name, c in names.items()]


def held_out_handle() -> Line2D:
    """The legend entry of :func:`held_out_points`: a black ring, whatever the class."""
    ring = {"markerfacecolor": "none", "markeredgecolor": "black", "markeredgewidth": 1.6}
    return Line2D([], [], marker="o", linestyle="", markersize=7, label="held-out", **ring)


def learning_curve_figure(curves: pd.DataFrame, stops: pd.DataFrame, title: str = "") -> Figure:
    """Loss (log scale) against epoch from loss.csv's columns, one line per replicate (the
    first MAX_LINES), with several the median and min-max band of all of them, and a mark
    where each drawn replicate stopped (``stops``: replicate, epoch, loss, outcome)."""
    fig = Figure(figsize=(8, 4.4), layout="constrained")
    ax = fig.subplots()
    wide = curves.pivot(index="epoch", columns="replicate", values="loss")  # (epochs, R)
    wide = drawable(wide)
    test = _held(curves, "test_loss") if "test_loss" in curves else None
    _loss_limits(ax, wide if test is None else pd.concat([wide, drawable(test)], axis=1))
    above = wide.clip(upper=10 * ax.get_ylim()[1])  # off the top, no overflow drawing 1e300
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
        median = drawable(test.median(axis=1)).clip(upper=10 * ax.get_ylim()[1])
        ax.plot(
            median.index,
            median,
            color="C1",
            lw=1.8,
            ls="--",
            label="held-out loss" if one else "held-out loss (median)",
        )
    _stop_marks(ax, stops[stops["replicate"].isin(drawn)], stops["outcome"].value_counts())
    # runs to 10,000 epochs or more stop at very different times: a log axis shows each
    # (as the sweep figures do)
    ax.set_xscale("log" if curves["epoch"].max() >= LOG_EPOCHS_FROM else "linear")
    ax.set(xlabel="epoch", ylabel="loss (all training points)")
    ax.set_title(_drawn_note(len(drawn), wide.shape[1]), fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(loc="outside right upper")
    fig.suptitle(title or "Learning curve")
    return fig


def _median_and_band(ax: Axes, curves: pd.DataFrame) -> None:
    """Over every replicate, each held at its last loss once it stopped (a diverged one at
    infinity), so the median does not jump as replicates leave."""
    held = _held(curves, "loss")
    ax.fill_between(
        held.index,
        held.min(axis=1),
        held.max(axis=1).clip(upper=ax.get_ylim()[1]),  # inf: to the top edge
        color="C0",
        alpha=0.15,
        lw=0,
        label="min to max",
    )
    median = held.median(axis=1)
    ax.plot(median.index, median.where(np.isfinite(median)), color="black", lw=1.8, label="median")


def _held(curves: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` (epoch, replicate), each replicate held at its last value once it stopped
    and at infinity once diverged (NaN in loss.csv)."""
    held = curves.assign(**{column: curves[column].fillna(np.inf)})
    return held.pivot(index="epoch", columns="replicate", values=column).ffill()


def drawable(values: pd.DataFrame | pd.Series) -> Any:
    """``values`` with what a log axis cannot show (0, negative, inf, NaN) left out."""
    return values.where(np.isfinite(values) & (values > 0))


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
    """Up to a thousand times the first losses at most: a diverging line's 1e300 would
    squeeze every other line into the bottom of the figure."""
    values = wide.to_numpy()
    if not np.isfinite(values).any():
        ax.set(yscale="log", ylim=(1e-3, 1))  # every replicate diverged at once: no line
        return
    first = wide.bfill().iloc[0].max()
    low, high = np.nanmin(values), min(np.nanmax(values), 1e3 * first)
    ax.set(yscale="log", ylim=(low / 2, high * 2))


def _drawn_note(drawn: int, replicates: int) -> str:
    if replicates == 1:
        return ""
    if drawn < replicates:
        return (
            f"{drawn} of {replicates:,} replicates drawn; the median and band "
            f"summarise all {replicates:,}"
        )
    return f"{replicates} replicates, their median and band"


def decision_boundary_figure(
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    output: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    title: str = "",
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
) -> Figure:
    """The network's output over the input square, the 0.5 contour, and the data on top
    (held-out points, if given, as rings of their class colour)."""
    fig = Figure(figsize=(6, 4.8), layout="constrained")
    ax = fig.subplots()
    output = np.ma.masked_invalid(output)
    if output.count():
        shade = ax.contourf(
            grid_x,
            grid_y,
            output,
            levels=np.linspace(0, 1, 11),
            cmap="RdBu",
            alpha=0.7,
            extend="both",
        )
        ax.contour(grid_x, grid_y, output, levels=[0.5], colors="black", linewidths=1.2)
        fig.colorbar(shade, ax=ax, label="network output")
    else:
        ax.text(
            0.5,
            0.5,
            "the network's output is not finite (diverged)",
            ha="center",
            transform=ax.transAxes,
            bbox={"facecolor": "white"},
        )
    ax.scatter(
        x[:, 0], x[:, 1], c=y.ravel(), cmap=CLASS_COLOURS, vmin=0, vmax=1, edgecolors="white", s=30
    )
    if x_test is not None and y_test is not None:
        held_out_points(ax, x_test, y_test)
    _input_axes(ax)
    ax.set_title(title or "Decision boundary")
    handles = class_handles(markeredgecolor="white")
    if x_test is not None and y_test is not None:
        handles.append(held_out_handle())
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    return fig
