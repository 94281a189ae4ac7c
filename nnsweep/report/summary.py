"""The summary figure: final accuracy and epochs to the threshold against a swept value.

Each replicate is a dot, the median a marker, joined by a line only where the values
are ordered numbers (lr, hidden units), never between names (optimizer, activation).
On the epochs panel a cross marks a replicate that stopped at the epoch cap without
reaching the threshold, a triangle one that diverged; the median there is over the
replicates that reached the threshold.
"""

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.figures.style import save
from nnsweep.report.aggregate import STATISTIC, replicate_points
from nnsweep.report.style import context, figure_path, is_numeric, ordered, series_colours
from nnsweep.report.tables import Sweep
from nnsweep.report.text import fixed_settings, short_name

MAX_TICKS = 12  # a search tries many values: at most this many labels


def write_summary(sweep: Sweep, field: str, out_dir: Path) -> Path | None:
    """``summary_<field>.png``."""
    points = replicate_points(sweep, field)
    if points.empty:
        return None
    fig = summary_figure(
        points,
        xlabel=short_name(field),
        threshold=fixed_settings(sweep).get("loss_threshold"),
        title=f"Final accuracy and epochs by {short_name(field)}\n{context(sweep, field)}",
        joined=is_numeric(sweep, field),
    )
    return save(fig, figure_path(out_dir, "summary", field))


def summary_figure(
    points: pd.DataFrame, xlabel: str, threshold: float | None, title: str, joined: bool
) -> Figure:
    """Two panels against ``series``, one colour per ``panel`` (dataset); ``joined``:
    a line joins the medians (ordered numbers)."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    acc_ax, epochs_ax = fig.subplots(1, 2)
    values = ordered(points["series"])
    position = {v: i for i, v in enumerate(values)}
    panels = ordered(points["panel"])
    colours = series_colours(points["panel"].astype("category"))
    for k, panel in enumerate(panels):
        rows = points[points["panel"] == panel]
        x = rows["series"].map(position).astype(float) + 0.08 * (k - (len(panels) - 1) / 2)
        _dots_and_median(acc_ax, x, rows["final_accuracy"], colours[panel], joined)
        _epoch_points(epochs_ax, x, rows, colours[panel], joined)
    acc_ax.set(ylabel="final accuracy", ylim=(-0.02, 1.05), title="final accuracy")
    reach = f"loss < {threshold:g}" if threshold is not None else "the loss threshold"
    epochs_ax.set(ylabel="epochs run", title=f"epochs to reach {reach}")
    if points["epochs_run"].max() > 50 * max(points["epochs_run"].min(), 1):
        epochs_ax.set_yscale("log")
    for ax in (acc_ax, epochs_ax):
        every = -(-len(values) // MAX_TICKS)
        ticks = range(0, len(values), every)
        ax.set_xticks(ticks, [str(values[i]) for i in ticks], rotation=30 if every > 1 else 0)
        ax.set(xlabel=xlabel, xlim=(-0.5, len(values) - 0.5))
        ax.grid(True, alpha=0.3)
    handles = _handles(colours, joined)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small")
    fig.suptitle(title, fontsize="medium")
    return fig


def _epoch_points(ax: Axes, x: pd.Series, rows: pd.DataFrame, colour: tuple, joined: bool) -> None:
    reached = rows["converged"].fillna(False).astype(bool).to_numpy()
    diverged = rows["diverged"].fillna(False).astype(bool).to_numpy()
    capped = ~reached & ~diverged
    _dots_and_median(ax, x[reached], rows["epochs_run"][reached], colour, joined)
    ax.scatter(x[capped], rows["epochs_run"][capped], marker="x", color=colour, s=30)
    ax.scatter(x[diverged], rows["epochs_run"][diverged], marker="v", color=colour, s=30)


def _dots_and_median(ax: Axes, x: pd.Series, y: pd.Series, colour: tuple, joined: bool) -> None:
    ax.scatter(x, y, color=colour, alpha=0.45, s=18, lw=0)
    medians = y.astype(float).groupby(x.round(6)).median()
    style = {"ls": "-", "marker": "o"} if joined else {"ls": "", "marker": "_", "ms": 22}
    ax.plot(medians.index, medians.to_numpy(), color=colour, lw=1.6, mew=2.5, **style)


def _handles(colours: dict[str, tuple], joined: bool) -> list[Line2D]:
    style = {"ls": "-", "marker": "o"} if joined else {"ls": "", "marker": "_", "ms": 14}
    label = f": {STATISTIC}"
    handles = [
        Line2D([], [], color=c, mew=2.5, label=f"{p}{label}".lstrip(": "), **style)
        for p, c in colours.items()
    ]
    grey = "0.35"
    handles.append(Line2D([], [], color=grey, marker="o", ls="", alpha=0.6, label="one replicate"))
    handles.append(Line2D([], [], color=grey, marker="x", ls="", label="stopped at the cap"))
    handles.append(Line2D([], [], color=grey, marker="v", ls="", label="diverged"))
    return handles
