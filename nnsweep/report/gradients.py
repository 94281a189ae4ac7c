"""The gradients figure: the gradient reaching layer 1 against epoch, per value of a swept
field, from the jobs' layers.csv.

Top row, the norm of the loss gradient of layer 1's weights (log scale); bottom row, the
mean |f'(z)| of layer 1's units over the training points, the factor its activation puts
on every gradient passing back through it (linear scale: it lies between 0 and 1, and a
relu layer whose units are all inactive has 0). Lines and bands are those of the learning
curves (:mod:`.curves`): median and min-max over the replicates, a replicate holding its
last value once it stopped. A dotted line marks the end of the early epochs that
report.md compares (:mod:`.early_gradients`).
"""

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nnsweep.figures.style import drawable, log_limits, save
from nnsweep.report.aggregate import curve_bands
from nnsweep.report.curves import band_legend, draw_panel, series_legend
from nnsweep.report.early_gradients import early_gradients
from nnsweep.report.layers import GRADIENTS
from nnsweep.report.style import (
    context,
    figure_path,
    is_numeric,
    ordered,
    panels_width,
    series_styles,
    shown_by,
)
from nnsweep.report.tables import PANEL, Sweep
from nnsweep.report.text import short_name

LABELS = {
    "grad_norm": "‖∂loss/∂W‖ of layer 1's weights",
    "mean_abs_derivative": "mean |f'(z)| of layer 1's units",
}
SIGMOID_MAX = 0.25  # sigmoid' = y(1 - y) is at most 1/4, at y = 1/2


def write_gradients(sweep: Sweep, field: str | None, out_dir: Path) -> Path | None:
    """``gradients_<field>.png`` (``gradients_all.png`` when only the dataset was swept);
    None when no job has a layers.csv."""
    if sweep.layers.empty:
        return None
    bands = {c: curve_bands(sweep, field, sweep.layers, c) for c in GRADIENTS}
    activations = sweep.done.get("activation.name", pd.Series(dtype=object))
    title = f"Gradient reaching layer 1 (the first hidden layer) {shown_by(field)}"
    legend = band_legend(sweep, field)
    window = _window_ends(sweep, field) if field else {}  # nothing compared without a field
    if window:
        legend += "\n┆ (dotted): end of the epochs report.md compares, where every "
        legend += "replicate was still training"
    fig = gradients_figure(
        bands,
        window=window,
        title=f"{title}\n{context(sweep, field)}",
        legend_title=legend,
        sequential=is_numeric(sweep, field),
        sigmoid=bool((activations == "sigmoid").any()),
    )
    return save(fig, figure_path(out_dir, "gradients", field or "all"))


def _window_ends(sweep: Sweep, field: str) -> dict[str, int]:
    """Per panel label (``dataset=xor``, or ``""``): the last epoch of the early window."""
    keys = [PANEL] if PANEL in sweep.swept else []
    table = early_gradients(sweep, [*keys, field])
    if table.empty:
        return {}
    if not keys:
        return {"": int(table["until"].iloc[0])}
    ends = table.groupby(PANEL, sort=False)["until"].first()
    return {f"{short_name(PANEL)}={name}": int(until) for name, until in ends.items()}


def gradients_figure(
    bands: dict[str, pd.DataFrame],
    window: dict[str, int],
    title: str,
    legend_title: str,
    sequential: bool = False,
    sigmoid: bool = False,
) -> Figure:
    """A row per quantity of ``bands`` (:func:`curve_bands` tables), a column per panel;
    log epochs for long runs (:func:`~nnsweep.figures.style.epoch_axis`). ``window``: per
    panel, where the dotted line goes; ``sigmoid``: a sigmoid layer is drawn, so mark its
    largest f'."""
    first = next(iter(bands.values()))
    panels = ordered(first["panel"])
    fig = Figure(figsize=(panels_width(len(panels)), 8.0), layout="constrained")
    grid = fig.subplots(len(bands), len(panels), sharex="col", sharey="row", squeeze=False)
    colours, styles = series_styles(first["series"], sequential)
    for row, (column, table) in zip(grid, bands.items(), strict=True):
        for ax, panel in zip(row, panels, strict=True):
            draw_panel(ax, table, panel, colours, styles, first["epoch"].max())
            if panel in window:
                ax.axvline(window[panel], color="0.4", ls=":", lw=1.2)
        _y_axis(row, column, table, sigmoid)
    for ax, panel in zip(grid[0], panels, strict=True):
        ax.set_title(str(panel))
    for ax in grid[-1]:
        ax.set_xlabel("epoch")
    series_legend(fig, colours, styles, legend_title)
    fig.suptitle(title, fontsize="medium")
    return fig


def _y_axis(row: list[Axes], column: str, table: pd.DataFrame, sigmoid: bool) -> None:
    """The gradient norm on a log scale; mean |f'| from 0 to 1, with sigmoid's ceiling."""
    if column != "mean_abs_derivative":
        # a zero (every relu unit inactive) has no place on the log axis; no data, no limits
        limits = log_limits(table["low"], table["high"], margin=1.5, empty=None)
        row[0].set(ylabel=LABELS[column], yscale="log", ylim=limits)
        return
    high = drawable(table["high"]).max()
    row[0].set(ylabel=LABELS[column], ylim=(0, max(1.05, 1.05 * high)))
    if not sigmoid:
        return
    for ax in row:
        ax.axhline(SIGMOID_MAX, color="0.4", ls="--", lw=0.9)
    row[0].annotate(
        "sigmoid's largest f'",
        (0.01, SIGMOID_MAX),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        fontsize="x-small",
        color="0.3",
    )
