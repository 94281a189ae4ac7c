"""decision_boundary.png: the network's output over the input square, the 0.5 contour and
the data."""

import numpy as np
from matplotlib.figure import Figure

from nnsweep.figures.style import (
    OUTPUT_COLOURS,
    OUTPUT_LEVELS,
    SHADING_ALPHA,
    data_legend,
    data_points,
    input_axes,
)

GRID_STEPS = 200  # per side of the grid the output is drawn on (style.input_grid)


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
            levels=OUTPUT_LEVELS,
            cmap=OUTPUT_COLOURS,
            alpha=SHADING_ALPHA,
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
    data_points(ax, x, y, x_test, y_test, on_shading=True)
    input_axes(ax)
    ax.set_title(title or "Decision boundary")
    data_legend(fig, x_test is not None and y_test is not None, on_shading=True)
    return fig
