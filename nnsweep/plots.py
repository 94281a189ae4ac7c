"""The figures of one job, from plain arrays and DataFrames (the sweep figures are in
nnsweep.report).

Figures are built with matplotlib's object API (no pyplot state), so any
number can be drawn in one process, and saved through an atomic rename.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from nnsweep.records import atomic_path

CLASS_COLOURS = ListedColormap(["red", "blue"])  # the lab's: class 0 red, class 1 blue


def save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    return path


def prediction_figure(
    x: np.ndarray, y: np.ndarray, prediction: np.ndarray, title: str = ""
) -> Figure:
    """The lab's show_result: "Ground truth" beside "Predict result" (output rounded at 0.5)."""
    fig = Figure(figsize=(9, 4.2), layout="constrained")
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
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
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
    fig = Figure(figsize=(5.4, 4.6), layout="constrained")
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
