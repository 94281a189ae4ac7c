"""decision_boundary.png: the network's output over the input square, the data on top, and
the boundary: one output's 0.5 contour, or for K classes the borders of each class's
region, shaded by the winning probability."""

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nnsweep.figures.style import (
    OUTPUT_COLOURS,
    OUTPUT_LEVELS,
    SHADING_ALPHA,
    class_borders,
    class_shading,
    data_legend,
    data_points,
    input_axes,
    winning_shades,
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
    """The network's output over the input square, (steps, steps) for one output unit or
    (steps, steps, K) class probabilities, and the data on top (held-out points, if given,
    as rings of their class colour)."""
    fig = Figure(figsize=(6, 4.8), layout="constrained")
    ax = fig.subplots()
    classes = output.shape[-1] if output.ndim == 3 else 2
    if not np.isfinite(output).any():
        _not_finite(ax)
    elif output.ndim == 3:
        _class_regions(fig, ax, grid_x, grid_y, output)
    else:
        _output_shading(fig, ax, grid_x, grid_y, np.ma.masked_invalid(output))
    data_points(ax, x, y, x_test, y_test, on_shading=True, classes=classes)
    input_axes(ax)
    ax.set_title(title or "Decision boundary")
    held_out = x_test is not None and y_test is not None
    data_legend(fig, held_out, on_shading=True, classes=classes)
    return fig


def _output_shading(
    fig: Figure, ax: Axes, grid_x: np.ndarray, grid_y: np.ndarray, output: np.ma.MaskedArray
) -> None:
    """One output unit: its value in ten bands, red (0) to blue (1), and its 0.5 contour."""
    shade = ax.contourf(
        grid_x, grid_y, output, levels=OUTPUT_LEVELS, cmap=OUTPUT_COLOURS, alpha=SHADING_ALPHA,
        extend="both",
    )  # fmt: skip
    ax.contour(grid_x, grid_y, output, levels=[0.5], colors="black", linewidths=1.2)
    fig.colorbar(shade, ax=ax, label="network output")


def _class_regions(
    fig: Figure, ax: Axes, grid_x: np.ndarray, grid_y: np.ndarray, probabilities: np.ndarray
) -> None:
    """K classes: each point of the square in its most probable class's colour, paler as
    that probability falls towards 1/K, and the borders between the classes' regions."""
    extent = (grid_x[0, 0], grid_x[0, -1], grid_y[0, 0], grid_y[-1, 0])
    ax.imshow(class_shading(probabilities), extent=extent, origin="lower", aspect="auto")
    for line in class_borders(grid_x, grid_y, probabilities):
        ax.plot(*line.T, color="black", linewidth=1.0)
    ax.set(xlim=extent[:2], ylim=extent[2:])
    classes = probabilities.shape[-1]
    fig.colorbar(winning_shades(classes), ax=ax, label="most probable class's probability")


def _not_finite(ax: Axes) -> None:
    ax.text(
        0.5, 0.5, "the network's output is not finite (diverged)", ha="center",
        transform=ax.transAxes, bbox={"facecolor": "white"},
    )  # fmt: skip
