"""The summary figure: final accuracy and epochs to the threshold against a swept value.

Each replicate is a dot, the median a marker, joined by a line only where the values
are ordered numbers (lr, hidden units), never between names (optimizer, activation).
On the epochs panel a replicate that did not reach the threshold is censored: an open
triangle at its epoch cap (it needed more), a cross at the cap for one that diverged;
the median there is the Kaplan-Meier median, absent where fewer than half reached it.
Where no replicate reached it, the epochs panel is left out and the title says so.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.figures.style import save
from nnsweep.report.aggregate import STATISTIC, replicate_points
from nnsweep.report.style import context, figure_path, is_numeric, ordered, series_colours
from nnsweep.report.survival import caps, survival_columns
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
    a line joins the medians (ordered numbers). Where no replicate reached the threshold
    the epochs panel is left out, and the title says why: it would hold only the caps."""
    reach = f"loss < {threshold:g}" if threshold is not None else "the loss threshold"
    any_reached = bool(points["converged"].fillna(False).astype(bool).any())
    fig = Figure(figsize=(11 if any_reached else 6, 4.4), layout="constrained")
    axes = fig.subplots(1, 2 if any_reached else 1, squeeze=False)[0]
    acc_ax = axes[0]
    values = ordered(points["series"])
    position = {v: i for i, v in enumerate(values)}
    panels = ordered(points["panel"])
    colours = series_colours(points["panel"].astype("category"))
    for k, panel in enumerate(panels):
        rows = points[points["panel"] == panel]
        x = rows["series"].map(position).astype(float) + 0.08 * (k - (len(panels) - 1) / 2)
        _dots_and_median(acc_ax, x, rows["final_accuracy"], colours[panel], joined)
        if any_reached:
            _epoch_points(axes[1], x, rows, colours[panel], joined)
    acc_ax.set(ylabel="final accuracy", ylim=(-0.02, 1.05), title="final accuracy")
    if any_reached:
        axes[1].set(ylabel="epochs run", title=f"epochs to reach {reach}")
        if points["epochs_run"].max() > 50 * max(points["epochs_run"].min(), 1):
            axes[1].set_yscale("log")
    else:
        title += f"\nno replicate reached {reach} within its epoch cap: no epochs to show"
    for ax in axes:
        every = -(-len(values) // MAX_TICKS)
        ticks = range(0, len(values), every)
        ax.set_xticks(ticks, [str(values[i]) for i in ticks], rotation=30 if every > 1 else 0)
        ax.set(xlabel=xlabel, xlim=(-0.5, len(values) - 0.5))
        ax.grid(True, alpha=0.3)
    handles = _handles(colours, joined, any_reached)
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4),
               fontsize="small")  # fmt: skip
    fig.suptitle(title, fontsize="medium")
    return fig


def _epoch_points(ax: Axes, x: pd.Series, rows: pd.DataFrame, colour: tuple, joined: bool) -> None:
    """Replicates that reached the threshold as dots; those that did not are censored, drawn
    at their cap as open markers (at least this many epochs); the median is Kaplan-Meier's,
    absent where fewer than half reached it."""
    reached = rows["converged"].fillna(False).astype(bool).to_numpy()
    diverged = rows["diverged"].fillna(False).astype(bool).to_numpy()
    capped = ~reached & ~diverged
    cap = caps(rows).astype(float)
    ax.scatter(x[reached], rows["epochs_run"][reached], color=colour, alpha=0.45, s=18, lw=0)
    ax.scatter(x[capped], cap[capped], marker="^", facecolors="none", edgecolors=colour, s=40)
    ax.scatter(x[~reached & diverged], cap[~reached & diverged], marker="x", color=colour, s=30)
    medians = rows.groupby(x.round(6)).apply(survival_columns, include_groups=False)
    medians = medians["epochs_km_median"].replace(np.inf, np.nan)
    style = {"ls": "-", "marker": "o"} if joined else {"ls": "", "marker": "_", "ms": 22}
    ax.plot(medians.index, medians.to_numpy(), color=colour, lw=1.6, mew=2.5, **style)


def _dots_and_median(ax: Axes, x: pd.Series, y: pd.Series, colour: tuple, joined: bool) -> None:
    ax.scatter(x, y, color=colour, alpha=0.45, s=18, lw=0)
    medians = y.astype(float).groupby(x.round(6)).median()
    style = {"ls": "-", "marker": "o"} if joined else {"ls": "", "marker": "_", "ms": 22}
    ax.plot(medians.index, medians.to_numpy(), color=colour, lw=1.6, mew=2.5, **style)


def _handles(colours: dict[str, tuple], joined: bool, epochs: bool) -> list[Line2D]:
    style = {"ls": "-", "marker": "o"} if joined else {"ls": "", "marker": "_", "ms": 14}
    label = f": {STATISTIC}" + (" (epochs: Kaplan-Meier's)" if epochs else "")
    handles = [
        Line2D([], [], color=c, mew=2.5, label=f"{p}{label}".lstrip(": "), **style)
        for p, c in colours.items()
    ]
    grey = "0.35"
    handles.append(Line2D([], [], color=grey, marker="o", ls="", alpha=0.6, label="one replicate"))
    if epochs:
        handles.append(Line2D([], [], color=grey, marker="^", ls="", mfc="none",
                              label="censored: stopped at the cap (needs more)"))  # fmt: skip
        handles.append(Line2D([], [], color=grey, marker="x", ls="",
                              label="diverged (censored at the cap)"))  # fmt: skip
    return handles
