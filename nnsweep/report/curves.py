"""The learning-curves figure: median loss against epoch per value of a swept field.

Each line is the median over the replicates (and pooled fields), the band their min to
max. A line ends, with a dot, where its last replicate stopped: a replicate that
stopped earlier holds its final loss until then (a converged network keeps its
parameters); a diverged one leaves the median from the epoch it diverged.
"""

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.figures.style import clip_off_top, epoch_axis, log_limits, save
from nnsweep.report.aggregate import STATISTIC, curve_bands, diverged_counts
from nnsweep.report.style import (
    context,
    figure_path,
    is_numeric,
    ordered,
    panels_width,
    pooled_over,
    series_styles,
    shown_by,
)
from nnsweep.report.tables import Sweep

LOSS_GROWTH = 100  # the loss axis reaches at most this many times the highest first loss
NARROWEST, WIDER = 1.4, 2.4  # the last series' line width; the first's is this much wider


def write_curves(sweep: Sweep, field: str | None, out_dir: Path) -> Path | None:
    """``curves_<field>.png`` (``curves_all.png`` when nothing but the dataset was swept)."""
    bands = curve_bands(sweep, field)
    if bands.empty:
        return None
    fig = curves_figure(
        bands,
        title=f"Learning curves {shown_by(field)}\n{context(sweep, field)}",
        legend_title=band_legend(sweep, field),
        diverged=diverged_counts(sweep, field),
        sequential=is_numeric(sweep, field),
    )
    return save(fig, figure_path(out_dir, "curves", field or "all"))


def curves_figure(
    bands: pd.DataFrame,
    title: str,
    legend_title: str,
    diverged: pd.DataFrame,
    sequential: bool = False,
) -> Figure:
    """Median loss (log scale) against epoch, one line and band per series, a panel per
    panel value. ``bands``: panel, series, epoch, median, low, high; ``diverged``:
    replicates and diverged counts indexed by (panel, series), written in a panel where
    nonzero; ``sequential``: the series are ordered numbers, coloured dark to light."""
    panels = ordered(bands["panel"])
    fig = Figure(figsize=(panels_width(len(panels)), 5.0), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    colours, styles = series_styles(bands["series"], sequential)
    limits = _loss_limits(bands)
    bands = bands.assign(**clip_off_top(bands[[STATISTIC, "low", "high"]], limits[1]))
    for ax, panel in zip(axes, panels, strict=True):
        draw_panel(ax, bands, panel, colours, styles, bands["epoch"].max())
        ax.set(title=str(panel), xlabel="epoch", yscale="log")
        _note_diverged(ax, diverged.xs(panel, level="panel"))
    axes[0].set(ylabel="loss", ylim=limits)
    series_legend(fig, colours, styles, legend_title)
    fig.suptitle(title, fontsize="medium")
    return fig


def band_legend(sweep: Sweep, field: str | None) -> str:
    """The legend's title for :func:`draw_series`' lines, bands and dots."""
    over = pooled_over(sweep, field)
    return f"line: {STATISTIC}, band: min–max over {over}; ● where the last replicate stopped"


def series_legend(fig: Figure, colours: dict, styles: dict, title: str) -> None:
    """One legend entry per series, below the panels."""
    handles = [Line2D([], [], color=colours[s], ls=styles[s], lw=2) for s in colours]
    fig.legend(
        handles,
        list(colours),
        loc="outside lower center",
        ncols=min(len(handles), 6),
        title=title,
        fontsize="small",
    )


def draw_panel(
    ax: Axes, table: pd.DataFrame, panel: str, colours: dict, styles: dict, last_epoch: int
) -> None:
    """The series of a :func:`curve_bands` table in ``panel``, each by :func:`draw_series`,
    over a grid, against epoch up to the figure's ``last_epoch``
    (:func:`~nnsweep.figures.style.epoch_axis`)."""
    for series, rows in table[table["panel"] == panel].groupby("series", observed=True):
        draw_series(
            ax, rows, colours[series], styles[series], len(colours), _width(series, colours)
        )
    epoch_axis(ax, last_epoch)
    ax.grid(True, which="both", alpha=0.3)


def _width(series: str, colours: dict) -> float:
    """Earlier series drawn wider: a line that coincides with a later one (relu and
    leaky_relu) shows on both sides of it instead of hiding under it."""
    order, n = list(colours).index(series), len(colours)
    return NARROWEST + WIDER * (n - 1 - order) / max(n - 1, 1)


def draw_series(
    ax: Axes, rows: pd.DataFrame, colour: tuple, style: str, n: int, width: float = 1.8
) -> None:
    """One series of a :func:`curve_bands` table: its median line, its min-max band (paler
    when ``n`` series overlap), and a dot where it ends."""
    alpha = 0.2 if n <= 3 else 0.5 / n  # bands that overlap stay legible
    ax.plot(rows["epoch"], rows[STATISTIC], color=colour, ls=style, lw=width)
    ax.fill_between(rows["epoch"], rows["low"], rows["high"], color=colour, alpha=alpha, lw=0)
    end = rows.dropna(subset=STATISTIC).iloc[-1:]
    ax.plot(end["epoch"], end[STATISTIC], "o", color=colour, ms=6, mec="white", mew=0.8)


def _loss_limits(bands: pd.DataFrame) -> tuple[float, float]:
    """From a little below the lowest loss to a little above the highest, but no more than
    LOSS_GROWTH times the highest starting loss."""
    start = bands.loc[bands["epoch"] == bands["epoch"].min(), "high"].max()
    return log_limits(bands["low"], bands["high"], start=start, growth=LOSS_GROWTH, margin=1.5)


def _note_diverged(ax: Axes, counts: pd.DataFrame) -> None:
    """Which series lost replicates to divergence: their curves leave the median there."""
    bad = counts[counts["diverged"] > 0]
    if bad.empty:
        return
    lines = [f"{s}: {int(r.diverged)} of {int(r.replicates)}" for s, r in bad.iterrows()]
    text = "diverged (left out of the median\nfrom then on):\n" + "\n".join(lines)
    ax.text(
        0.02,
        0.02,
        text,
        transform=ax.transAxes,
        fontsize="x-small",
        va="bottom",
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"},
    )
