"""Every figure nnsweep draws, from plain arrays and DataFrames.

Figures are built with matplotlib's object API (no pyplot state), so any
number can be drawn in one process, and saved through an atomic rename.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.records import atomic_path

CLASS_COLOURS = ListedColormap(["red", "blue"])  # the lab's: class 0 red, class 1 blue


def save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    return path


def prediction_figure(
    x: np.ndarray, y: np.ndarray, prediction: np.ndarray, title: str = ""
) -> Figure:
    """The lab's show_result: "Ground truth" beside "Predict result" (output rounded at 0.5)."""
    fig = Figure(figsize=(9, 4.2))
    panels = fig.subplots(1, 2, sharex=True, sharey=True)
    labels = {"Ground truth": y.ravel(), "Predict result": (prediction.ravel() > 0.5).astype(int)}
    for ax, (name, label) in zip(panels, labels.items(), strict=True):
        ax.scatter(x[:, 0], x[:, 1], c=label, cmap=CLASS_COLOURS, vmin=0, vmax=1, s=25)
        ax.set_title(name, fontsize=16)
        ax.set_aspect("equal")
    if title:
        fig.suptitle(title)
    return fig


def learning_curve_figure(curves: pd.DataFrame, title: str = "") -> Figure:
    """Loss (log scale) against epoch, one line per replicate (columns of loss.csv)."""
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    for replicate, rows in curves.groupby("replicate"):
        ax.plot(rows["epoch"], rows["loss"], lw=1.2, label=f"replicate {replicate}")
    ax.set(xlabel="epoch", ylabel="loss", yscale="log", title=title or "Learning curve")
    if curves["replicate"].nunique() <= 10:
        ax.legend(fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    return fig


def decision_boundary_figure(
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    output: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    title: str = "",
) -> Figure:
    """The network's output over the input square, the 0.5 contour, and the data on top."""
    fig = Figure(figsize=(5.4, 4.6))
    ax = fig.subplots()
    shade = ax.contourf(
        grid_x, grid_y, output, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.7, extend="both"
    )
    ax.contour(grid_x, grid_y, output, levels=[0.5], colors="black", linewidths=1.2)
    ax.scatter(
        x[:, 0], x[:, 1], c=y.ravel(), cmap=CLASS_COLOURS, vmin=0, vmax=1, edgecolors="white", s=30
    )
    fig.colorbar(shade, ax=ax, label="network output")
    ax.set(xlabel="x0", ylabel="x1", title=title or "Decision boundary", aspect="equal")
    return fig


# ---------------------------------------------------------------- figures comparing runs


def _series_colours(series: pd.Series, sequential: bool = False) -> dict[str, tuple]:
    """One colour per series, in its order: tab10 for up to ten names, else (and for
    ordered numbers, ``sequential``) from dark to light along viridis."""
    names = _ordered(series)
    if sequential or len(names) > 10:
        steps = np.linspace(0, 0.85, len(names))  # not viridis' last yellows: pale on white
        return {name: colormaps["viridis"](s) for name, s in zip(names, steps, strict=True)}
    return {name: colormaps["tab10"](i) for i, name in enumerate(names)}


def _ordered(values: pd.Series) -> list:
    present = set(values)
    order = values.cat.categories if hasattr(values, "cat") else values.unique()
    return [v for v in order if v in present]


def comparison_curves_figure(
    bands: pd.DataFrame,
    title: str,
    legend_title: str,
    diverged: pd.DataFrame,
    sequential: bool = False,
) -> Figure:
    """Mean loss (log scale) against epoch, one line and band per series, a panel per
    panel value. ``bands``: panel, series, epoch, mean, low, high; ``diverged``: replicates
    and diverged counts indexed by (panel, series), written in a panel where nonzero;
    ``sequential``: the series are ordered numbers, coloured dark to light."""
    panels = _ordered(bands["panel"])
    fig = Figure(figsize=(max(9.0, 1.0 + 5.2 * len(panels)), 5.0), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    colours = _series_colours(bands["series"], sequential)
    alpha = 0.2 if len(colours) <= 3 else 0.5 / len(colours)  # bands that overlap stay legible
    limits = _loss_limits(bands)
    # far above the axis a diverging curve is only out of view; clipped, it cannot overflow
    bands = bands.assign(**bands[["mean", "low", "high"]].clip(upper=limits[1] * 10))
    for ax, panel in zip(axes, panels, strict=True):
        for series, rows in bands[bands["panel"] == panel].groupby("series", observed=True):
            ax.plot(rows["epoch"], rows["mean"], color=colours[series], lw=1.6)
            ax.fill_between(
                rows["epoch"], rows["low"], rows["high"], color=colours[series], alpha=alpha, lw=0
            )
        ax.set(title=str(panel), xlabel="epoch", yscale="log")
        # runs to 10,000 epochs or more stop at very different times: a log axis shows
        # the early descent of the fast ones and the long tail of the slow ones
        ax.set_xscale("log" if bands["epoch"].max() >= 10_000 else "linear")
        ax.grid(True, which="both", alpha=0.3)
        _note_diverged(ax, diverged.xs(panel, level="panel"))
    axes[0].set(ylabel="loss", ylim=limits)
    handles = [_line_handle(c) for c in colours.values()]
    fig.legend(
        handles,
        list(colours),
        loc="outside lower center",
        ncols=min(len(handles), 6),
        title=legend_title,
        fontsize="small",
    )
    fig.suptitle(title, fontsize="medium")
    return fig


def _loss_limits(bands: pd.DataFrame) -> tuple[float, float]:
    """From the lowest loss to a little above the highest, but no more than 100 times the
    highest starting loss: a diverging curve would otherwise squash every other one."""
    low = bands["low"].where(bands["low"] > 0).min()
    start = bands.loc[bands["epoch"] == bands["epoch"].min(), "high"].max()
    high = bands["high"].where(np.isfinite(bands["high"])).max()
    return low / 1.5, min(high, 100 * start) * 1.5


def _line_handle(colour: tuple) -> Line2D:
    return Line2D([], [], color=colour, lw=6, alpha=0.6)


def _note_diverged(ax, counts: pd.DataFrame) -> None:
    """Which series lost replicates to divergence: their curves leave the mean there."""
    bad = counts[counts["diverged"] > 0]
    if bad.empty:
        return
    lines = [f"{s}: {int(r.diverged)} of {int(r.replicates)}" for s, r in bad.iterrows()]
    text = "diverged (left out of the mean\nfrom then on):\n" + "\n".join(lines)
    ax.text(
        0.02,
        0.02,
        text,
        transform=ax.transAxes,
        fontsize="x-small",
        va="bottom",
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"},
    )


def comparison_summary_figure(
    points: pd.DataFrame, xlabel: str, threshold: float | None, title: str
) -> Figure:
    """Final accuracy and epochs run against a swept value (``series``), each replicate
    a dot and the mean a line, one colour per ``panel`` (dataset). On the epochs panel a
    cross marks a replicate that stopped at the epoch cap without reaching the loss
    threshold, a triangle one that diverged (at the epoch it did); the mean there is over
    the replicates that reached the threshold."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    acc_ax, epochs_ax = fig.subplots(1, 2)
    values = _ordered(points["series"])
    position = {v: i for i, v in enumerate(values)}
    panels = _ordered(points["panel"])
    colours = _series_colours(points["panel"].astype("category"))
    for k, panel in enumerate(panels):
        rows = points[points["panel"] == panel]
        x = rows["series"].map(position).astype(float) + 0.08 * (k - (len(panels) - 1) / 2)
        _dots_and_mean(acc_ax, x, rows["final_accuracy"], colours[panel], panel)
        _epoch_points(epochs_ax, x, rows, colours[panel])
    acc_ax.set(ylabel="final accuracy", ylim=(-0.02, 1.05), title="final accuracy")
    reach = f"loss < {threshold:g}" if threshold is not None else "the loss threshold"
    epochs_ax.set(ylabel="epochs run", title=f"epochs to reach {reach}")
    if points["epochs_run"].max() > 50 * max(points["epochs_run"].min(), 1):
        epochs_ax.set_yscale("log")
    for ax in (acc_ax, epochs_ax):
        every = -(-len(values) // 12)  # at most 12 labels: a search tries many values
        ticks = range(0, len(values), every)
        ax.set_xticks(ticks, [str(values[i]) for i in ticks], rotation=30 if every > 1 else 0)
        ax.set(xlabel=xlabel, xlim=(-0.5, len(values) - 0.5))
        ax.grid(True, alpha=0.3)
    handles = _summary_handles(colours)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small")
    fig.suptitle(title, fontsize="medium")
    return fig


def _epoch_points(ax, x: pd.Series, rows: pd.DataFrame, colour: tuple) -> None:
    reached = rows["converged"].fillna(False).astype(bool).to_numpy()
    diverged = rows["diverged"].fillna(False).astype(bool).to_numpy()
    capped = ~reached & ~diverged
    _dots_and_mean(ax, x[reached], rows["epochs_run"][reached], colour, None)
    ax.scatter(x[capped], rows["epochs_run"][capped], marker="x", color=colour, s=30)
    ax.scatter(x[diverged], rows["epochs_run"][diverged], marker="v", color=colour, s=30)


def _dots_and_mean(ax, x: pd.Series, y: pd.Series, colour: tuple, label: str | None) -> None:
    ax.scatter(x, y, color=colour, alpha=0.45, s=18, lw=0)
    means = y.groupby(x.round(6)).mean()
    ax.plot(means.index, means.to_numpy(), color=colour, marker="o", lw=1.6, label=label)


def _summary_handles(colours: dict[str, tuple]) -> list[Line2D]:
    handles = [
        Line2D([], [], color=c, marker="o", lw=1.6, label=f"{p}: mean".lstrip(": "))
        for p, c in colours.items()
    ]
    grey = "0.35"
    handles.append(Line2D([], [], color=grey, marker="o", ls="", alpha=0.6, label="one replicate"))
    handles.append(
        Line2D(
            [],
            [],
            color=grey,
            marker="x",
            ls="",
            label="stopped at the cap",
        )
    )
    handles.append(Line2D([], [], color=grey, marker="v", ls="", label="diverged"))
    return handles


def heatmap_figure(tables: dict[str, pd.DataFrame], label: str, log: bool, title: str) -> Figure:
    """One heat map per panel of a (rows x columns) table, with a shared colour scale
    (logarithmic if ``log``) and each cell's value written in it."""
    fig = Figure(figsize=(1.6 + 4.6 * len(tables), 4.4), layout="constrained")
    axes = fig.subplots(1, len(tables), squeeze=False)[0]
    values = np.concatenate([t.to_numpy(dtype=float).ravel() for t in tables.values()])
    finite = values[np.isfinite(values) & ((values > 0) | (not log))]
    low, high = (finite.min(), finite.max()) if finite.size else (1, 10)
    norm = LogNorm(low, max(high, low * 1.01)) if log else Normalize(low, max(high, low + 1))
    for ax, (panel, table) in zip(axes, tables.items(), strict=True):
        image = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", norm=norm, aspect="auto")
        _annotate(ax, table.to_numpy(dtype=float), norm, ".2g" if log else ".0f")
        ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
        ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
        ax.set(xlabel=table.columns.name, ylabel=table.index.name, title=panel)
    fig.colorbar(image, ax=list(axes), label=label)
    fig.suptitle(title, fontsize="medium")
    return fig


def _annotate(ax, values: np.ndarray, norm: Normalize, fmt: str) -> None:
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            dark = norm(v) < 0.6  # viridis is dark at the low end: white text there
            ax.text(
                j,
                i,
                format(v, fmt),
                ha="center",
                va="center",
                color="white" if dark else "black",
                fontsize="small",
            )
