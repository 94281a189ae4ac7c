"""gradients.png: each layer's weight-gradient norm and mean |f'(z)| against epoch, from a
table in layers.csv's format (nnsweep.job.csv_tables.layers_table)."""

from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.figures.style import (
    clip_off_top,
    drawable,
    epoch_axis,
    light_minor_ticks,
    log_limits,
)

LAYER_PANELS = {  # layers.csv's columns: panel title and y label
    "grad_norm": ("Gradient reaching each layer's weights", "‖dL/dW‖ (layer weights)"),
    "mean_abs_derivative": (
        "Slope of each layer's activation",
        "mean |f'(z)| over units and samples",
    ),
}
SLOPE_MARKS = {  # reference slopes on the right panel: line style, legend text
    # back-propagation multiplies by f'(z) at each layer: below 1 the gradient shrinks
    1.0: (":", "|f'| = 1: passed back undiminished"),
    0.25: ("--", "0.25: sigmoid's largest slope"),
}
DRAWN_LAYERS = 8  # a deeper network's layers drawn, evenly spread (more: slow and unreadable)
GRADIENT_GROWTH = 1e4  # the gradient axis reaches at most this many times the first values


def gradients_figure(layers: pd.DataFrame, title: str = "") -> Figure:
    """layers.csv drawn: left each layer's weight-gradient norm, right its mean |f'(z)|,
    against epoch, both on log scales; a line per layer (with several replicates the
    per-epoch median over those still training, and a 25-75% band). Points a log axis
    cannot show (0, inf, NaN) are left out. Back-propagation multiplies the gradient by
    f'(z) at every layer it passes, so slopes below 1 (sigmoid's are at most 0.25) shrink
    it on the way to the first layer: the vanishing gradient is the left panel's gap."""
    if layers.empty:
        raise ValueError("no layer rows to draw: the training recorded none")
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    panels = fig.subplots(1, 2, sharex=True)
    last = int(layers["layer"].max())
    shown = np.unique(np.linspace(1, last, min(last, DRAWN_LAYERS)).round().astype(int))
    replicates = layers["replicate"].nunique()
    training = layers.groupby("epoch")["replicate"].nunique()  # those with rows: still training
    drawn = layers[layers["layer"].isin(shown)]
    for ax, (column, (heading, ylabel)) in zip(panels, LAYER_PANELS.items(), strict=True):
        _layer_panel(ax, drawn, column, last, band=replicates > 1)
        ax.set(xlabel="epoch", ylabel=ylabel)
        ax.set_title(heading, fontsize="medium")
    for slope, (style, _) in SLOPE_MARKS.items():
        panels[1].axhline(slope, color="dimgrey", lw=1.1, ls=style, zorder=1.5)  # under data
    epochs = layers["epoch"]
    epoch_axis(panels[0], epochs.max())  # the panels share it
    panels[0].set_xlim(epochs.min(), epochs.max())  # the whole run, where lines stop too
    hidden = not drawable(drawn[list(LAYER_PANELS)]).notna().all(axis=None)
    _layers_legend(fig, shown, last, (int(training.iloc[0]), int(training.iloc[-1])), hidden)
    fig.suptitle(title or "Gradients per layer")
    light_minor_ticks(fig)
    return fig


def _layer_panel(ax: Axes, layers: pd.DataFrame, column: str, last: int, band: bool) -> None:
    quartiles = _layer_quartiles(layers, column)
    _log_limits(ax, quartiles, at_least=1.5 if column == "mean_abs_derivative" else 0)
    for layer, rows in quartiles.groupby(level="layer"):
        _layer_line(ax, rows.droplevel("layer"), _layer_colour(layer, last), band)
    ax.grid(True, which="both", alpha=0.3)


def _layer_quartiles(layers: pd.DataFrame, column: str) -> pd.DataFrame:
    """25%, 50% and 75% of ``column`` over the replicates at each (layer, epoch). NaN is
    skipped; inf counts as the largest value (held at the float maximum, so that two infs
    interpolate to it, not to inf - inf = NaN) and is dropped again when drawn."""
    values = layers[column].clip(upper=np.finfo(float).max)
    grouped = values.groupby([layers["layer"], layers["epoch"]])
    return grouped.quantile([0.25, 0.5, 0.75]).unstack()  # index (layer, epoch)


def _layer_line(ax: Axes, quartiles: pd.DataFrame, colour: Any, band: bool) -> None:
    top = ax.get_ylim()[1]
    median = drawable(quartiles[0.5].where(quartiles[0.5] < np.finfo(float).max))
    ax.plot(median.index, clip_off_top(median, top), color=colour, lw=1.6)
    if band:  # an infinite quartile reaches the top edge
        low, high = quartiles[0.25], quartiles[0.75].clip(upper=top)
        ax.fill_between(quartiles.index, low, high, color=colour, alpha=0.18, lw=0)


def _log_limits(ax: Axes, quartiles: pd.DataFrame, at_least: float) -> None:
    """Every drawable quartile (not an inf held at the float maximum), up to
    GRADIENT_GROWTH times the first epoch's and, on the slope panel, up to at least 1.5, so
    that the line at 1 shows how far below it the slopes are."""
    first_epoch = quartiles.index.get_level_values("epoch").min()
    first = np.nanmax(quartiles.xs(first_epoch, level="epoch").to_numpy(), initial=0.0)
    shown = quartiles.where(quartiles < np.finfo(float).max)
    ax.set_yscale("log")
    ax.set_ylim(*log_limits(shown, start=first, growth=GRADIENT_GROWTH, at_least=at_least))


def _layer_colour(layer: int, last: int) -> Any:
    """Dark for the first layer, light for the output: depth reads as a gradient of colour."""
    return colormaps["viridis"](0.85 * (layer - 1) / max(last - 1, 1))


def _layer_name(layer: int, last: int) -> str:
    return f"layer {layer} (output)" if layer == last else f"layer {layer}"


def still_training(first: int, last: int) -> str:
    """What the median is over: ``the 10 replicates``, or ``the replicates still training
    (10 at first, 3 at the end)`` once some stopped."""
    if first == last:
        return f"median of the {first:,} replicates"
    return f"median of the replicates still training ({first:,} at first, {last:,} at the end)"


def _layers_legend(
    fig: Figure, shown: np.ndarray, last: int, training: tuple[int, int], hidden: bool
) -> None:
    """``training``: how many replicates were training at the first and the last epoch."""
    handles = [
        Line2D([], [], color=_layer_colour(k, last), lw=1.6, label=_layer_name(k, last))
        for k in shown
    ]
    handles += [
        Line2D([], [], color="dimgrey", lw=1.1, ls=style, label=text)
        for style, text in SLOPE_MARKS.values()
    ]
    heading = [f"{last:,} layers, {len(shown)} drawn"] if len(shown) < last else []
    if max(training) > 1:
        heading.append(f"{still_training(*training)}, band 25-75%")
    if hidden:  # else a line that stops or a band that thins would puzzle
        heading.append("values 0, inf or NaN (diverged) not drawn")
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 5),
        title="; ".join(heading) or None,
    )
