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
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.collections import PathCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from nnsweep.atomic import atomic_path

CLASS_COLOURS = ListedColormap(["red", "blue"]).with_extremes(bad="grey")  # the lab's colours
# More than two classes: Okabe & Ito's colour-blind-safe qualitative palette (its black left
# for borders); beyond seven classes, evenly spaced colours of matplotlib's "turbo"
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2", "#F0E442"]

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


def light_minor_ticks(fig: Figure) -> None:
    """The minor ticks of ``fig``'s log axes, as marks and grid lines drawn once at fixed
    places: matplotlib draws them as the same marks and lines, but makes a Tick of five
    artists per minor tick on each layout pass and draw (a 6-decade log-log panel has ~80),
    which cost a log-axis figure most of its drawing time. Call it once every limit is
    set. An axis whose minor ticks are labelled (less than about a decade shown) keeps
    matplotlib's."""
    replaced = [_light_minor_ticks(axis) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)]
    for axis in filter(None, replaced):
        axis.set_minor_locator(NullLocator())  # last: shared axes share their locators


def _light_minor_ticks(axis: Axis) -> Axis | None:
    """Draw ``axis``'s minor ticks (a log axis's, unlabelled) as plain lines; the axis
    whose minor locator is then to be emptied, or None."""
    if axis.get_scale() != "log" or isinstance(axis.get_minor_locator(), NullLocator):
        return None
    locs = axis.get_minorticklocs()
    low, high = np.sort(axis.get_transform().transform(axis.get_view_interval()))
    shown = axis.get_transform().transform(locs)
    tolerance = (high - low) * 1e-10  # as matplotlib's _update_ticks keeps a tick
    locs = locs[(shown >= low - tolerance) & (shown <= high + tolerance)]
    if any(axis.get_minor_formatter().format_ticks(locs)):
        return None
    (tick,) = axis.get_minor_ticks(1)  # the style of one, from the axis's settings
    grid = [(tick.gridline, [loc, loc], [0, 1]) for loc in locs]  # axes fractions across
    marks = [(tick.tick1line, locs, np.zeros_like(locs)), (tick.tick2line, locs, locs * 0 + 1)]
    lines = [_copy(axis, *line) for line in [*grid, *marks] if line[0].get_visible()]
    axis.axes.add_artist(LinesArtist(lines, zorder=axis.get_zorder()))
    return axis


def _copy(axis: Axis, line: Line2D, along: Any, across: Any) -> Line2D:
    """``line`` (a tick's) at ``along`` (data) and ``across`` (axes fractions) of
    ``axis``, on the tick's transform and clipping."""
    copy = Line2D(*((along, across) if axis is axis.axes.xaxis else (across, along)))
    copy.update_from(line)  # its style, transform and clipping
    copy.set_figure(axis.get_figure(root=False))
    return copy


class LinesArtist(Artist):
    """Lines drawn as one artist: out of the axes' ``lines`` (they are no data), out of
    the layout (as matplotlib's tick marks and grid lines), at ``zorder`` (the axis's)."""

    def __init__(self, lines: list[Line2D], zorder: float) -> None:
        super().__init__()
        self.lines = lines
        self.set(zorder=zorder, in_layout=False)

    def draw(self, renderer: Any) -> None:
        for line in self.lines:
            line.draw(renderer)


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


def class_colours(classes: int = 2) -> ListedColormap:
    """A colour per class, indexed 0..K-1, grey for NaN: the lab's red and blue for two."""
    if classes <= 2:
        return CLASS_COLOURS
    if classes <= len(OKABE_ITO):
        colours = OKABE_ITO[:classes]
    else:
        colours = colormaps["turbo"](np.linspace(0.05, 0.95, classes))
    return ListedColormap(colours).with_extremes(bad="grey")


def class_rgba(label: np.ndarray, classes: int = 2) -> np.ndarray:
    """(n, 4) the colour of each label 0..K-1, grey where it is NaN."""
    label = np.ravel(label).astype(float)
    return class_colours(classes)(np.where(np.isnan(label), np.nan, label / max(classes - 1, 1)))


def data_points(
    ax: Axes,
    x: np.ndarray,
    label: np.ndarray,
    x_test: np.ndarray | None = None,
    test_label: np.ndarray | None = None,
    on_shading: bool = False,
    classes: int = 2,
) -> list[PathCollection]:
    """The training points ``x`` in their class colour (``label``: 0..K-1, or NaN for grey),
    edged white ``on_shading`` so that they stand out on the output's colours, then the
    held-out points as rings over them when both ``x_test`` and ``test_label`` are given."""
    style = {"edgecolors": "white", "s": 30} if on_shading else {"s": 25}
    points = [ax.scatter(*x.T, c=class_rgba(label, classes), **style)]
    if x_test is not None and test_label is not None:
        points.append(held_out_points(ax, x_test, test_label, classes))
    return points


def data_legend(
    fig: Figure,
    held_out: bool,
    on_shading: bool = False,
    not_finite: bool = False,
    extra: Sequence[Line2D] = (),
    classes: int = 2,
) -> None:
    """The legend below the axes of :func:`data_points`: the class colours (and the grey of
    outputs that are not finite), the held-out ring if ``held_out``, then ``extra``."""
    edge = {"markeredgecolor": "white"} if on_shading else {}
    handles = class_handles(not_finite, classes, **edge)
    if held_out:
        handles.append(held_out_handle())
    handles += extra
    columns = len(handles) if len(handles) <= 4 else (len(handles) + 1) // 2  # two rows
    fig.legend(handles=handles, loc="outside lower center", ncols=columns)


def held_out_points(
    ax: Axes, x_test: np.ndarray, label: np.ndarray, classes: int = 2
) -> PathCollection:
    """Held-out points as rings of their class colour (grey where ``label`` is NaN), drawn
    over the training points: hollow, they hide nothing beneath them. A white halo keeps a
    ring seen on shading of its own colour, and apart from the rings it overlaps. Each
    point is drawn twice, halo then ring (offsets 2i and 2i + 1), in one collection: what a
    path effect's stroke draws, without its Python loop over the points (boundary.gif
    draws them every frame)."""
    colours = class_rgba(label, classes)
    edges = np.repeat(colours, 2, axis=0)
    edges[0::2] = (1.0, 1.0, 1.0, 1.0)  # white
    widths = np.tile([3.2, 1.6], len(colours))
    return ax.scatter(
        *np.repeat(x_test, 2, axis=0).T,
        facecolors="none",
        edgecolors=edges,
        s=40,
        linewidths=widths,
    )


def class_handles(not_finite: bool = False, classes: int = 2, **style: Any) -> list[Line2D]:
    """Legend entries for the class colours (and the grey of outputs that are not finite)."""
    colours = class_rgba(np.arange(classes), classes)
    names = {f"class {k}": colours[k] for k in range(classes)}
    if not_finite:
        names["output not finite"] = CLASS_COLOURS.get_bad()
    kw = {"marker": "o", "linestyle": "", "markersize": 6, **style}
    return [Line2D([], [], color=c, label=name, **kw) for name, c in names.items()]


def predicted_classes(output: np.ndarray) -> np.ndarray:
    """(n,) the class each output row says, NaN where it is not finite (a diverged network):
    one unit, class 1 above 0.5; K units (probabilities), the most probable."""
    output = np.asarray(output, dtype=float).reshape(len(output), -1)
    finite = np.isfinite(output).all(axis=1)
    winner = (output[:, 0] > 0.5) if output.shape[1] == 1 else output.argmax(axis=1)
    return np.where(finite, winner, np.nan)


# ------------------------------------------ more than two classes over the input square

# How much of the class colour a region shows, from a tie of all K classes to certainty:
# pale enough that the points, in the full colour, stand out on their own class's region
SHADE_STRENGTH = (0.06, 0.5)


def class_shading(probabilities: np.ndarray) -> np.ndarray:
    """(..., 4) RGBA over a grid of K-class probabilities (..., K): each point its most
    probable class's colour, faded towards white as that probability falls to 1/K (a tie
    of all classes); light grey where the output is not finite."""
    classes = probabilities.shape[-1]
    finite = np.isfinite(probabilities).all(axis=-1)
    winner = np.where(finite, np.nan_to_num(probabilities).argmax(axis=-1), 0)
    certainty = (np.nan_to_num(probabilities).max(axis=-1) - 1 / classes) / (1 - 1 / classes)
    weakest, strongest = SHADE_STRENGTH
    strength = weakest + (strongest - weakest) * np.clip(certainty, 0, 1)
    colours = class_colours(classes)(winner / (classes - 1))
    rgba = 1 - strength[..., None] * (1 - colours)  # white blended with the class colour
    rgba[..., 3] = 1.0
    rgba[~finite] = (0.83, 0.83, 0.83, 1.0)
    return rgba


def winning_shades(classes: int) -> Any:
    """The grey scale of :func:`class_shading`'s fading, for its colour bar: from a tie of
    all K classes (1/K) to certainty (1)."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    # the fading of a dark grey "class colour": what the regions show, without their hue
    weakest, strongest = (1 - s * 0.9 for s in SHADE_STRENGTH)
    ramp = LinearSegmentedColormap.from_list("winning", [(weakest,) * 3, (strongest,) * 3])
    return ScalarMappable(Normalize(1 / classes, 1), ramp)


def class_borders(grid_x: np.ndarray, grid_y: np.ndarray, probabilities: np.ndarray) -> list:
    """The borders between the most-probable-class regions: for each class the 0.5 contour
    of being the winner, as line segments (k, 2)."""
    import contourpy

    winner = np.nan_to_num(probabilities, nan=-1).argmax(axis=-1)
    lines = []
    for k in range(probabilities.shape[-1]):
        inside = (winner == k).astype(float)
        lines += contourpy.contour_generator(grid_x, grid_y, inside, line_type="Separate").lines(
            0.5
        )
    return lines


def held_out_handle() -> Line2D:
    """The legend entry of :func:`held_out_points`: a black ring, whatever the class."""
    ring = {"markerfacecolor": "none", "markeredgecolor": "black", "markeredgewidth": 1.6}
    return Line2D([], [], marker="o", linestyle="", markersize=7, label="held-out", **ring)


# ----------------------------------------------------------------------------------- names


def network_label(hidden_units: int, hidden_layers: int, outputs: int = 1) -> str:
    """The layer sizes as the README writes them, 2 inputs first: ``2-4-4-1``, or
    ``2-16-16-3`` for a softmax over 3 classes; the figures' captions and the report's
    settings both name a network so."""
    return "-".join(map(str, [2, *[int(hidden_units)] * int(hidden_layers), int(outputs)]))
