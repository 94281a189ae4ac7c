"""Drawing rules every figure shares, a job's (nnsweep.figures) and a sweep's
(nnsweep.report): colours and marks, saving through an atomic rename, the epoch axis and
the limits of a log axis, the grid, points and legend of the input square, and the name
of a network.

Figures are built with matplotlib's object API (no pyplot state), so any number can be
drawn in one process."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from nnsweep.atomic import atomic_path

CLASS_COLOURS = ListedColormap(["red", "blue"]).with_extremes(bad="grey")  # the lab's colours

# The network's output over the input square (decision_boundary.png, boundary.gif): ten flat
# bands from 0 (red) to 1 (blue), pale enough that the points on them stand out
OUTPUT_COLOURS = "RdBu"
OUTPUT_LEVELS = np.linspace(0, 1, 11)
SHADING_ALPHA = 0.7


MAX_LINES = 50  # replicate lines drawn; more is a solid smear, and slow to draw


LOG_EPOCHS_FROM = 10_000  # a run this long gets a logarithmic epoch axis (epoch_axis)


STOP_MARKS = {  # how each replicate stopped: marker and colour
    "converged": ("o", "green"),
    "epoch cap": ("s", "grey"),
    "diverged": ("X", "red"),
}


def save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    return path


# --------------------------------------------------- the epoch axis and a log axis' limits


def epoch_axis(ax: Axes, last_epoch: float) -> None:
    """A logarithmic epoch axis where runs reach LOG_EPOCHS_FROM epochs, else a linear one:
    runs that long stop at very different times, and a log axis shows both the early
    descent of the fast ones and the long tail of the slow ones. Every figure with an epoch
    axis, a job's or a sweep's, follows this one rule."""
    ax.set_xscale("log" if last_epoch >= LOG_EPOCHS_FROM else "linear")


def drawable(values: pd.DataFrame | pd.Series) -> Any:
    """``values`` with what a log axis cannot show (0, negative, inf, NaN) left out."""
    return values.where(np.isfinite(values) & (values > 0))


def log_limits(
    low: Any,
    high: Any = None,
    *,
    start: float = np.nan,
    growth: float = np.inf,
    margin: float = 2.0,
    at_least: float = 0.0,
    empty: tuple[float, float] | None = (1e-3, 1.0),
) -> tuple[float, float] | None:
    """A log axis's (bottom, top): from the smallest drawable value of ``low`` to the
    largest of ``high`` (default ``low``; a band's tops may be another column), each
    ``margin`` times further out; the top at most ``growth`` times ``start`` (the largest
    first value, when finite and above 0) and at least ``at_least``. Only what a log axis
    can show counts (:func:`drawable`), and the cap keeps a diverging line's 1e300 from
    squeezing every other line flat. ``empty`` when nothing is drawable (every replicate
    diverged at once)."""
    lows = _drawable_array(low)
    highs = lows if high is None else _drawable_array(high)
    if not (lows.size and highs.size):
        return None if empty is None else (empty[0], max(empty[1], at_least))
    top = highs.max()
    if np.isfinite(start) and start > 0:
        top = min(top, growth * start)
    return lows.min() / margin, max(top * margin, at_least)


def _drawable_array(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    return values[np.isfinite(values) & (values > 0)]


def clip_off_top(values: Any, top: float) -> Any:
    """``values`` cut a decade above the axis' ``top``: out of view all the same, and no
    1e300 of a diverging line reaches matplotlib, whose drawing overflows on it."""
    return values.clip(upper=10 * top)


# ----------------------------------- the input square: its grid, the points and the legend


def input_axes(ax: Axes) -> None:
    ax.set(xlabel="x1", ylabel="x2", aspect="equal")


class InputGrid(NamedTuple):
    """Points evenly over the input square, where a decision boundary is drawn."""

    x: np.ndarray  # (steps, steps)
    y: np.ndarray  # (steps, steps)
    points: np.ndarray  # (steps * steps, 2)


def input_grid(x: np.ndarray, x_test: np.ndarray | None, steps: int) -> InputGrid:
    """``steps`` by ``steps`` points over the bounding box of the training points ``x``
    and the held-out ``x_test`` (if any), and 0.1 around it."""
    data = x if x_test is None else np.vstack([x, x_test])
    low, high = data.min(axis=0) - 0.1, data.max(axis=0) + 0.1
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps))
    return InputGrid(gx, gy, np.column_stack([gx.ravel(), gy.ravel()]))


def data_points(
    ax: Axes,
    x: np.ndarray,
    label: np.ndarray,
    x_test: np.ndarray | None = None,
    test_label: np.ndarray | None = None,
    on_shading: bool = False,
) -> list[PathCollection]:
    """The training points ``x`` in their class colour (``label``: 0, 1, or NaN for grey),
    edged white ``on_shading`` so that they stand out on the output's colours, then the
    held-out points as rings over them when both ``x_test`` and ``test_label`` are given."""
    style = {"edgecolors": "white", "s": 30} if on_shading else {"s": 25}
    points = [ax.scatter(*x.T, c=np.ravel(label), cmap=CLASS_COLOURS, vmin=0, vmax=1, **style)]
    if x_test is not None and test_label is not None:
        points.append(held_out_points(ax, x_test, test_label))
    return points


def data_legend(
    fig: Figure,
    held_out: bool,
    on_shading: bool = False,
    not_finite: bool = False,
    extra: Sequence[Line2D] = (),
) -> None:
    """The legend below the axes of :func:`data_points`: the class colours (and the grey of
    outputs that are not finite), the held-out ring if ``held_out``, then ``extra``."""
    handles = class_handles(not_finite, **({"markeredgecolor": "white"} if on_shading else {}))
    if held_out:
        handles.append(held_out_handle())
    handles += extra
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))


def held_out_points(ax: Axes, x_test: np.ndarray, label: np.ndarray) -> PathCollection:
    """Held-out points as rings of their class colour (grey where ``label`` is NaN), drawn
    over the training points: hollow, they hide nothing beneath them. A white halo keeps a
    ring seen on shading of its own colour."""
    colours = CLASS_COLOURS(np.ravel(label).astype(float))
    halo = [patheffects.withStroke(linewidth=3.2, foreground="white")]
    return ax.scatter(
        *x_test.T, facecolors="none", edgecolors=colours, s=40, linewidths=1.6, path_effects=halo
    )


def class_handles(not_finite: bool = False, **style: Any) -> list[Line2D]:
    """Legend entries for the class colours (and the grey of outputs that are not finite)."""
    names = {"class 0": CLASS_COLOURS(0), "class 1": CLASS_COLOURS(1)}
    if not_finite:
        names["output not finite"] = CLASS_COLOURS.get_bad()
    kw = {"marker": "o", "linestyle": "", "markersize": 6, **style}
    return [Line2D([], [], color=c, label=name, **kw) for name, c in names.items()]


def held_out_handle() -> Line2D:
    """The legend entry of :func:`held_out_points`: a black ring, whatever the class."""
    ring = {"markerfacecolor": "none", "markeredgecolor": "black", "markeredgewidth": 1.6}
    return Line2D([], [], marker="o", linestyle="", markersize=7, label="held-out", **ring)


# ----------------------------------------------------------------------------------- names


def network_label(hidden_units: int, hidden_layers: int) -> str:
    """The layer sizes as the README writes them, 2 inputs and 1 output: ``2-4-4-1``; the
    figures' captions and the report's settings both name a network so."""
    return "-".join(map(str, [2, *[int(hidden_units)] * int(hidden_layers), 1]))
