"""Heat maps of two swept fields: the median final loss and the median epochs run."""

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from nnsweep.figures.style import save
from nnsweep.report.aggregate import STATISTIC, heat_table
from nnsweep.report.style import context, figure_path, pooled_over
from nnsweep.report.tables import Sweep
from nnsweep.report.text import fixed_settings, short_name

QUANTITIES = {"final_loss": "final loss", "epochs_run": "epochs run"}


def write_heatmaps(sweep: Sweep, rows: str, columns: str, out_dir: Path) -> list[Path]:
    """``heatmap_<quantity>_<rows>_<columns>.png`` for the final loss and epochs run."""
    written = []
    cap = fixed_settings(sweep).get("epochs")
    for value, label in QUANTITIES.items():
        tables = heat_table(sweep, rows, columns, value)
        if not tables:
            continue
        label = f"{STATISTIC} {label}" + (
            f" (cap {cap:,})" if value == "epochs_run" and cap else ""
        )
        pair = f"{short_name(rows)} × {short_name(columns)}"
        spread = sweep.runs[value].where(sweep.runs[value] > 0)
        fig = heatmap_figure(
            tables,
            label=label,
            log=value == "final_loss" or spread.max() > 20 * spread.min(),
            title=f"{label.capitalize()}: {pair}, over {pooled_over(sweep, rows, columns)}\n"
            f"{context(sweep, rows, columns)}",
        )
        written.append(save(fig, figure_path(out_dir, f"heatmap_{value}", rows, columns)))
    return written


def heatmap_figure(tables: dict[str, pd.DataFrame], label: str, log: bool, title: str) -> Figure:
    """One heat map per panel of a (rows x columns) table, with a shared colour scale
    (logarithmic if ``log``) and each cell's value written in it."""
    fig = Figure(figsize=(1.6 + 4.6 * len(tables), 4.6), layout="constrained")
    axes = fig.subplots(1, len(tables), squeeze=False)[0]
    values = np.concatenate([t.to_numpy(dtype=float).ravel() for t in tables.values()])
    finite = values[np.isfinite(values) & ((values > 0) | (not log))]
    low, high = (finite.min(), finite.max()) if finite.size else (1, 10)
    norm = LogNorm(low, max(high, low * 1.01)) if log else Normalize(low, max(high, low + 1))
    for ax, (panel, table) in zip(axes, tables.items(), strict=True):
        image = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", norm=norm, aspect="auto")
        _annotate(ax, table.to_numpy(dtype=float), norm)
        ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
        ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
        ax.set(xlabel=table.columns.name, ylabel=table.index.name, title=panel)
    fig.colorbar(image, ax=list(axes), label=label)
    fig.suptitle(_fit(title, fig.get_figwidth()), fontsize="medium")
    return fig


def _fit(title: str, inches: float) -> str:
    """The title's first line and the rest, each wrapped to the figure's width (about 13
    characters an inch at this size): constrained layout does not wrap a long line."""
    head, _, rest = title.partition("\n")
    width = int(13 * inches)
    lines = [textwrap.fill(head, width)] + (
        [textwrap.fill(" ".join(rest.split()), width)] if rest else []
    )
    return "\n".join(lines)


def compact(value: float) -> str:
    """A cell's label: ``690k``, ``1.2M``, ``0.0012``."""
    rounded = float(f"{value:.2g}")  # two significant figures
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(rounded) >= scale:
            return f"{rounded / scale:g}{suffix}"
    return f"{rounded:g}"


def _annotate(ax: Axes, values: np.ndarray, norm: Normalize) -> None:
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            dark = norm(v) < 0.6  # viridis is dark at the low end: white text there
            colour = "white" if dark else "black"
            ax.text(j, i, compact(v), ha="center", va="center", color=colour, fontsize="small")
