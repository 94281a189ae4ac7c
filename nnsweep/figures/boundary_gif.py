"""The boundary as it learns: the network's output over the input square at each snapshot,
an animated GIF written through matplotlib's animation writer interface and Pillow.

The figure is laid out and drawn once. Each frame then restores that picture and draws on
it only what changes (the shading, the 0.5 contour, the points over them and the title):
matplotlib's blitting. The points, the same in every frame, are drawn once into a picture
of their own, which each frame puts over its shading. A full redraw per frame, as
PillowWriter's savefig makes, would spend most of its time on tick labels and legend text
that never change.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import contourpy  # matplotlib's own contouring: new segments per frame, no new artists
import numpy as np
from matplotlib import colormaps
from matplotlib.animation import AbstractMovieWriter
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.text import Text
from PIL import Image

from nnsweep.atomic import atomic_path
from nnsweep.figures.style import (
    OUTPUT_COLOURS,
    OUTPUT_LEVELS,
    SHADING_ALPHA,
    InputGrid,
    class_borders,
    class_shading,
    data_legend,
    data_points,
    input_axes,
    input_grid,
    winning_shades,
)

GRID_STEPS = 80  # per side, fewer than decision_boundary.png's: bilinear smoothing hides cells
FRAME_MS = 150  # a frame's time: 40 snapshots pass in a few seconds (GIFs count in 1/100 s)
HOLD_LAST_MS = 1500  # the last frame stays this much longer, so the end is seen
DPI = 80
FIGSIZE = (5.6, 5.6)  # inches: 448 x 448 pixels
# the bands of decision_boundary.png's contourf: flat colours also keep the GIF small (a
# smooth ramp dithers into noise that compresses badly)
SHADES = colormaps[OUTPUT_COLOURS].resampled(len(OUTPUT_LEVELS) - 1)
SHADES = SHADES.with_extremes(bad="lightgrey")

# params (P,), points (m, 2) -> outputs (m, 1), or (m, K) class probabilities
Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Frame(NamedTuple):
    """One picture: the parameters (P,) at the end of ``epoch``, the loss they give, and a
    note for the title ("converged", "diverged", or "")."""

    epoch: int
    params: np.ndarray
    loss: float
    note: str = ""


class Artists(NamedTuple):
    """What each frame changes, and what it draws again, in drawing order."""

    shade: AxesImage
    boundary: LineCollection
    title: Text
    not_finite: Text
    drawn: list[Artist]


def boundary_gif(
    path: Path,
    predict: Predict,
    frames: Sequence[Frame],
    x: np.ndarray,
    y: np.ndarray,
    title: str = "",
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    classes: int = 2,
) -> Path:
    """``path`` (.gif): a frame per entry of ``frames``, each the network's output over a
    grid around the data (colours fixed to 0..1), its 0.5 contour, the data on top (held-out
    points as rings) and the frame's epoch and loss; ``title`` above them all. With
    ``classes`` K > 2 outputs (class probabilities), each frame shows the most probable
    class's regions, shaded by that probability, and their borders, as
    decision_boundary.png does. Written under a temporary name and renamed: a failure
    leaves no file. Two frames that draw the same picture are merged by Pillow into one
    shown longer."""
    if len(frames) == 0:
        raise ValueError(f"boundary_gif needs at least one frame to draw {path}; got none")
    grid = input_grid(x, x_test, GRID_STEPS)  # decision_boundary.png's box
    fig, artists = _figure(grid, x, y, title, x_test, y_test, classes)
    background = _background(fig, artists)
    writer = GifWriter(fps=1000 / FRAME_MS)
    path = Path(path)
    with atomic_path(path) as tmp:
        writer.setup(fig, tmp)
        for frame in frames:
            fig.canvas.restore_region(background)
            _show(fig, artists, frame, _output(predict, frame.params, grid), grid)
            writer.grab_frame()
        writer.finish()  # only on success: a half-drawn GIF is never written
    return path


class GifWriter(AbstractMovieWriter):
    """A GIF of the canvas as it stands at each grab, which the caller has drawn (matplotlib's
    PillowWriter redraws the whole figure at every grab instead), written by Pillow with the
    last frame held HOLD_LAST_MS longer (PillowWriter gives all frames one duration)."""

    def setup(self, fig: Figure, outfile: Path, dpi: float | None = None) -> None:
        super().setup(fig, outfile, dpi=fig.dpi)  # the canvas's pixels are the frame
        self.images: list[Image.Image] = []

    def grab_frame(self, **savefig_kwargs: Any) -> None:
        rgba = Image.frombuffer("RGBA", self.frame_size, self.fig.canvas.buffer_rgba())
        # Pillow's fast octree: 256 colours, far sooner than its default median cut
        self.images.append(rgba.convert("RGB").quantize(method=Image.Quantize.FASTOCTREE))

    def finish(self) -> None:
        durations = [round(1000 / self.fps)] * len(self.images)  # FRAME_MS
        durations[-1] += HOLD_LAST_MS
        first, *rest = self.images
        first.save(self.outfile, save_all=True, append_images=rest, duration=durations, loop=0)


def _output(predict: Predict, params: np.ndarray, grid: InputGrid) -> np.ndarray:
    """The output on the grid: (steps, steps) with inf and NaN masked (drawn grey), or
    (steps, steps, K) class probabilities."""
    with np.errstate(all="ignore"):  # a diverged network's parameters may be inf or NaN
        output = np.asarray(predict(params, grid.points), dtype=float)
    if output.ndim == 2 and output.shape[1] > 1:
        return output.reshape(*grid.x.shape, output.shape[1])
    return np.ma.masked_invalid(output.reshape(grid.x.shape))


def _figure(
    grid: InputGrid,
    x: np.ndarray,
    y: np.ndarray,
    title: str,
    x_test: np.ndarray | None,
    y_test: np.ndarray | None,
    classes: int = 2,
) -> tuple[Figure, Artists]:
    """The figure with every artist in place, laid out once and then frozen: a layout
    per frame would cost time and could shift the axes as the title changes."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    shade = _shading(ax, grid)
    if classes > 2:
        label = "most probable class's probability"
        fig.colorbar(winning_shades(classes), ax=ax, label=label, shrink=0.8)
    else:
        fig.colorbar(shade, ax=ax, label="network output", shrink=0.8)
    boundary = ax.add_collection(LineCollection([], colors="black", linewidths=1.4))
    points = data_points(ax, x, y, x_test, y_test, on_shading=True, classes=classes)
    not_finite = ax.text(
        0.5, 0.5, "the output is not finite (diverged)", ha="center", transform=ax.transAxes,
        bbox={"facecolor": "white"}, visible=False,
    )  # fmt: skip
    input_axes(ax)
    border = "class border" if classes > 2 else "output 0.5"
    boundary_line = Line2D([], [], color="black", lw=1.4, label=border)
    held_out = x_test is not None and y_test is not None
    data_legend(fig, held_out, on_shading=True, extra=[boundary_line], classes=classes)
    fig.suptitle(title or "Decision boundary as it learns")
    ax.set_title("epoch 1, loss 0.25", fontweight="bold")  # as tall as every frame's title
    fig.draw_without_rendering()
    fig.set_layout_engine(None)
    drawn = [shade, boundary, *points, *ax.spines.values(), not_finite, ax.title]
    return fig, Artists(shade, boundary, ax.title, not_finite, drawn)


def _shading(ax: Axes, grid: InputGrid) -> AxesImage:
    """The output's colours over the grid, fixed to 0..1; its data is set per frame. Not
    decision_boundary.png's contourf and contour: blitting reuses one image and one line
    collection whose data each frame replaces, where a contour set is drawn anew."""
    extent = (grid.x[0, 0], grid.x[0, -1], grid.y[0, 0], grid.y[-1, 0])
    shade = ax.imshow(
        np.full(grid.x.shape, 0.5),
        extent=extent,
        origin="lower",
        cmap=SHADES,
        vmin=0,
        vmax=1,
        alpha=SHADING_ALPHA,
        interpolation="bilinear",
    )
    ax.set(xlim=extent[:2], ylim=extent[2:])
    return shade


def _background(fig: Figure, artists: Artists) -> Any:
    """The figure's pixels without what frames draw: axes, ticks, colour bar, legend."""
    for artist in artists.drawn:
        artist.set_animated(True)  # left out of a full draw
    # a full draw leaves out animated artists but images: a frame's shading, at alpha 0.7,
    # would show the first one's through it
    artists.shade.set_visible(False)
    fig.canvas.draw()
    artists.shade.set_visible(True)
    background = fig.canvas.copy_from_bbox(fig.bbox)
    points = [a for a in artists.drawn if isinstance(a, PathCollection)]
    at = artists.drawn.index(points[0])
    artists.drawn[at : at + len(points)] = [_pixels_of(fig, points)]
    return background


class Pixels(Artist):
    """An RGBA picture (rows bottom first) put on the canvas as it is, its lower left corner
    at pixel (``x``, ``y``) from the canvas's lower left."""

    def __init__(self, rgba: np.ndarray, x: int, y: int) -> None:
        super().__init__()
        self.rgba, self.x, self.y = rgba, x, y

    def draw(self, renderer: Any) -> None:
        gc = renderer.new_gc()
        renderer.draw_image(gc, self.x, self.y, self.rgba)
        gc.restore()


def _pixels_of(fig: Figure, artists: list[Artist]) -> Pixels:
    """``artists`` (the data points) drawn once on a clear canvas, cut to where they are:
    no frame changes them, and every frame puts them over its shading as one picture,
    which costs far less than drawing several hundred points again."""
    renderer = fig.canvas.get_renderer()
    renderer.clear()  # transparent
    for artist in artists:
        fig.draw_artist(artist)
    rgba = np.asarray(renderer.buffer_rgba())
    rows, columns = np.nonzero(rgba[..., 3])
    top, bottom = rows.min(), rows.max() + 1
    left, right = columns.min(), columns.max() + 1
    # draw_image takes the rows bottom first, where the canvas's buffer holds them top first
    picture = rgba[top:bottom, left:right][::-1].copy()
    return Pixels(picture, int(left), int(len(rgba) - bottom))


def _show(fig: Figure, artists: Artists, frame: Frame, output: np.ndarray, grid: InputGrid) -> None:
    """Draw ``frame`` over the restored background."""
    if output.ndim == 3:  # K class probabilities: the regions and their borders, in RGBA
        artists.shade.set_data(class_shading(output))
        artists.boundary.set_segments(class_borders(grid.x, grid.y, output))
    else:
        artists.shade.set_data(output)
        artists.boundary.set_segments(_contour(output, grid))
    shown = output.count() if np.ma.isMaskedArray(output) else np.isfinite(output).any()
    artists.not_finite.set_visible(not shown)
    artists.title.set_text(_frame_title(frame))
    for artist in artists.drawn:
        fig.draw_artist(artist)


def _contour(output: np.ma.MaskedArray, grid: InputGrid) -> list[np.ndarray]:
    """The 0.5 contour's lines, each (k, 2); none through masked (not finite) cells."""
    generator = contourpy.contour_generator(grid.x, grid.y, output, line_type="Separate")
    return list(generator.lines(0.5))


def _frame_title(frame: Frame) -> str:
    loss = f"loss {frame.loss:.4g}" if np.isfinite(frame.loss) else "loss not finite"
    note = f" ({frame.note})" if frame.note else ""
    return f"after epoch {frame.epoch:,}, {loss}{note}"
