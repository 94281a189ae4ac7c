"""One job's figures read at a glance: no text on text, labelled axes, a log epoch axis for
long runs, a mark where each replicate stopped, and a drawing for every loss, inf included."""

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from nnsweep.data import make_dataset
from nnsweep.figures import decision_boundary, gradients, learning_curve, prediction, style
from nnsweep.job import csv_tables, figures
from nnsweep.job.build import build
from nnsweep.job.schema import CONFIG_DIR, register


def texts_apart(fig: Figure) -> None:
    """Every title, axis label and legend of ``fig`` clear of every other."""
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in _texts(fig) if t.get_text()]
    boxes += [legend.get_window_extent(renderer) for legend in fig.legends]
    for a, b in combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def _texts(fig: Figure) -> list:
    texts = [fig._suptitle] if fig._suptitle else []
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
    return texts


def curves(losses: dict[int, list[float]]) -> pd.DataFrame:
    """loss.csv's columns: replicate r's loss at epochs 1, 2, ..."""
    rows = [(r, e + 1, v) for r, values in losses.items() for e, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["replicate", "epoch", "loss"]).assign(accuracy=0.5)


def stops(table: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    last = table.groupby("replicate").tail(1).reset_index(drop=True)
    return last[["replicate", "epoch", "loss"]].assign(outcome=outcomes)


def test_prediction_title_clears_the_panel_titles_and_names_axes_and_classes(xor):
    x, y = xor
    fig = prediction.prediction_figure(x, y, np.linspace(0, 1, len(x)), "xor, 2-4-4-1\nreplicate 2")
    texts_apart(fig)
    assert [ax.get_title() for ax in fig.axes] == ["Ground truth", "Predict result"]
    assert fig.axes[0].get_xlabel() == "x1" and fig.axes[0].get_ylabel() == "x2"
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["class 0", "class 1"]


def test_a_prediction_that_is_not_finite_is_shown_grey_and_said(xor):
    x, y = xor
    fig = prediction.prediction_figure(x, y, np.full(len(x), np.nan))
    assert "output not finite" in [t.get_text() for t in fig.legends[0].get_texts()]


@pytest.mark.parametrize(("epochs", "scale"), [(20, "linear"), (50_000, "log")])
def test_the_epoch_axis_is_logarithmic_when_runs_span_decades(epochs, scale):
    table = curves({0: list(np.geomspace(0.3, 0.01, epochs))})
    fig = learning_curve.learning_curve_figure(table, stops(table, ["epoch cap"]), "a title")
    (ax,) = fig.axes
    assert ax.get_xscale() == scale and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel().startswith("loss")
    texts_apart(fig)
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends  # outside the data: it covers no line
    assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))


def test_each_replicate_is_marked_where_it_stopped():
    table = curves({0: [0.3, 0.1, 0.0009], 1: [0.3, 0.2, 0.2, 0.2], 2: [0.3, 1e300, np.inf]})
    fig = learning_curve.learning_curve_figure(
        table, stops(table, ["converged", "epoch cap", "diverged"])
    )
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"converged (1)", "epoch cap (1)", "diverged (1)"} <= set(labels)
    (ax,) = fig.axes
    marks = {c.get_label(): c.get_offsets()[0] for c in ax.collections if c.get_label()[0] != "_"}
    assert tuple(marks["converged (1)"]) == (3, 0.0009)
    assert marks["diverged (1)"][1] == ax.get_ylim()[1]  # no finite loss: on the top edge
    assert ax.get_ylim()[1] < 1e10  # the 1e300 does not squeeze the other lines
    texts_apart(fig)


@pytest.mark.parametrize(
    "losses",
    [
        {0: [20.0, 1e150, np.inf], 1: [30.0, np.nan]},  # every replicate diverged
        {0: [np.nan]},  # diverged before a single finite loss
        {0: [0.3, 1e300, 1e308]},
    ],
)
def test_losses_that_are_inf_nan_or_huge_draw_with_each_divergence_on_the_top_edge(losses):
    table = curves(losses)
    fig = learning_curve.learning_curve_figure(table, stops(table, ["diverged"] * len(losses)))
    FigureCanvasAgg(fig).draw()
    (ax,) = fig.axes
    low, high = ax.get_ylim()
    assert ax.get_yscale() == "log" and 0 < low < high < 1e10  # no 1e300 squeezing the rest
    assert len(ax.lines) == len(losses) + (len(losses) > 1)  # a line each, and the median
    (marks,) = [c for c in ax.collections if c.get_label() == f"diverged ({len(losses)})"]
    last_epochs = [len(values) for values in losses.values()]
    np.testing.assert_array_equal(marks.get_offsets(), [[e, high] for e in last_epochs])
    assert f"diverged ({len(losses)})" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_at_most_fifty_replicate_lines_and_the_figure_says_so():
    rng = np.random.default_rng(0)
    table = curves({r: list(rng.uniform(0.2, 0.3, 20)) for r in range(1000)})
    fig = learning_curve.learning_curve_figure(table, stops(table, ["epoch cap"] * 1000))
    (ax,) = fig.axes
    assert len(ax.lines) == style.MAX_LINES + 1  # and the median
    assert ax.get_title() == "50 of 1,000 replicates drawn; the median and band summarise all 1,000"


def test_decision_boundary_names_its_axes_and_survives_a_diverged_network(xor):
    x, y = xor
    grid_x, grid_y = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5))
    for output in (grid_x, np.full_like(grid_x, np.nan)):
        fig = decision_boundary.decision_boundary_figure(grid_x, grid_y, output, x, y, "a title")
        ax = fig.axes[0]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
        texts_apart(fig)


def test_the_linear_set_draws_too():
    x, y = make_dataset("linear", np.random.default_rng(0), n=100)
    texts_apart(prediction.prediction_figure(x, y, y.astype(float), "linear"))


def every_replicate_diverged():
    """A real job whose every replicate diverges (the no-activation run at a large rate)."""
    register()
    overrides = ["activation=none", "output_activation=none", "lr=5", "epochs=50"]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, "replicates=3", "engine=numpy"])
    e = build(cfg)
    history = e.run()
    assert history.diverged.all()
    return cfg, e, history, csv_tables.job_tables(history, cfg.epochs)


def test_every_figure_of_a_job_whose_replicates_all_diverged_is_drawn(tmp_path, monkeypatch):
    drawn: dict[str, Figure] = {}

    def draw(fig: Figure, path) -> None:  # rendered, kept to be read, not written
        FigureCanvasAgg(fig).draw()
        drawn[path.name] = fig

    monkeypatch.setattr(style, "save", draw)
    monkeypatch.setattr(figures, "spare_core", lambda: False)  # every figure drawn here
    assert figures.draw_figures(*every_replicate_diverged(), tmp_path) == {}
    assert set(drawn) == {"prediction.png", "learning_curve.png", "decision_boundary.png",
                          "gradients.png"}  # fmt: skip
    truth, predicted = drawn["prediction.png"].axes
    assert (truth.get_title(), predicted.get_title()) == ("Ground truth", "Predict result")
    assert [len(ax.collections[0].get_offsets()) for ax in (truth, predicted)] == [21, 21]
    curve = drawn["learning_curve.png"]
    assert "diverged (3)" in [t.get_text() for t in curve.legends[0].get_texts()]
    boundary = drawn["decision_boundary.png"].axes[0]
    assert boundary.get_title() and (boundary.get_xlabel(), boundary.get_ylabel()) == ("x1", "x2")
    (points,) = [c for c in boundary.collections if isinstance(c, PathCollection)]
    assert len(points.get_offsets()) == 21
    title = drawn["gradients.png"].legends[0].get_title().get_text()
    assert "values 0, inf or NaN (diverged) not drawn" in title


def test_a_figure_that_fails_is_returned_never_raised(tmp_path, monkeypatch):
    def broken(*args):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(learning_curve, "learning_curve_figure", broken)
    failed = figures.draw_figures(*every_replicate_diverged(), tmp_path)
    assert failed == {
        "learning_curve.png": "OverflowError: cannot convert float infinity to integer"
    }
    assert (tmp_path / "prediction.png").is_file()


needs_fork = pytest.mark.skipif(sys.platform != "linux", reason="figures are forked on Linux")


@needs_fork
def test_boundary_gif_drawn_beside_the_rest_reports_its_failure_and_is_logged_here(
    tmp_path, monkeypatch, caplog
):
    from nnsweep.figures import boundary_gif

    drawn_in = []

    def broken(path, *args, **kwargs):
        drawn_in.append(os.getpid())  # the forked process's list, not this one's
        raise ValueError(f"drawn by process {os.getpid()}")

    monkeypatch.setattr(boundary_gif, "boundary_gif", broken)
    monkeypatch.setattr(figures, "spare_core", lambda: True)  # whatever the load
    monkeypatch.setattr(figures, "half_of", lambda names, seconds: ["boundary"])
    failed = figures.draw_figures(*every_replicate_diverged(), tmp_path)
    assert list(failed) == ["boundary.gif"]
    assert failed["boundary.gif"].startswith("ValueError: drawn by process ")
    assert failed["boundary.gif"] != f"ValueError: drawn by process {os.getpid()}"
    assert drawn_in == []
    assert "boundary.gif could not be drawn: ValueError" in caplog.text
    assert (tmp_path / "gradients.png").is_file()


@needs_fork
def test_a_drawing_process_that_dies_fails_its_figures_not_the_job(tmp_path, monkeypatch):
    from nnsweep.figures import boundary_gif

    monkeypatch.setattr(boundary_gif, "boundary_gif", lambda *args, **kwargs: os._exit(7))
    monkeypatch.setattr(figures, "spare_core", lambda: True)
    monkeypatch.setattr(figures, "half_of", lambda names, seconds: ["boundary"])
    failed = figures.draw_figures(*every_replicate_diverged(), tmp_path)
    assert failed == {"boundary.gif": "the drawing process exited with code 7"}
    assert (tmp_path / "prediction.png").is_file()


def test_the_figures_are_split_in_two_about_equal_shares():
    main_run = {"boundary": 0.76, "gradients": 0.28, "learning": 0.2, "decision": 0.16, "a": 0.15}
    assert figures.half_of(list(main_run), main_run) == ["gradients", "learning", "decision", "a"]
    short_run = {**main_run, "boundary": 0.22}
    assert figures.half_of(list(short_run), short_run) == ["boundary", "learning", "a"]
    assert figures.half_of(["gradients"], main_run) == []


LOADS = [(2, 0.3, True), (2, 1.6, True), (2, 1.9, False), (1, 0.0, False), (4, 3.5, True),
         (4, 3.9, False)]  # fmt: skip


@needs_fork
@pytest.mark.parametrize(("cores", "load", "forks"), LOADS)
def test_a_figure_is_forked_only_with_a_core_left_by_the_load(monkeypatch, cores, load, forks):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert figures.spare_core() is forks


def test_a_worker_process_draws_every_figure_itself():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(figures.spare_core).result() is False


def layer_rows(values: dict[int, list[float]], replicates: int = 1) -> pd.DataFrame:
    """layers.csv's columns: layer k's value at epochs 1, 2, ... in both columns, the same
    for every replicate but scaled by (1 + replicate)."""
    rows = [
        (r, e + 1, k, v * (1 + r), v * (1 + r))
        for r in range(replicates)
        for k, series in values.items()
        for e, v in enumerate(series)
    ]
    columns = ["replicate", "epoch", "layer", "grad_norm", "mean_abs_derivative"]
    return pd.DataFrame(rows, columns=columns)


def layer_lines(ax) -> list:
    return [line for line in ax.lines if line.get_linestyle() == "-"]  # not the references


def test_gradients_draw_a_line_per_layer_on_log_axes_named_in_the_legend():
    table = layer_rows({k: list(np.geomspace(1e-1 / k, 1e-3, 50)) for k in (1, 2, 3)})
    fig = gradients.gradients_figure(table, "xor, 2-4-4-1 sigmoid")
    texts_apart(fig)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
        assert ax.get_xlabel() == "epoch" and len(layer_lines(ax)) == 3
    assert fig.axes[0].get_ylabel() == "‖dL/dW‖ (layer weights)"
    assert fig.axes[1].get_ylabel().startswith("mean |f'(z)|")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:3] == ["layer 1", "layer 2", "layer 3 (output)"]
    assert fig.axes[1].get_ylim()[1] > 1  # slopes are seen against 1, where none shrink


def test_gradients_of_several_replicates_are_their_median_and_quartile_band():
    table = layer_rows({1: [0.1, 0.2, 0.3], 2: [1.0, 1.0, 1.0]}, replicates=5)  # x1 ... x5
    fig = gradients.gradients_figure(table)
    left = fig.axes[0]
    first = layer_lines(left)[0]
    assert list(first.get_ydata()) == pytest.approx([0.3, 0.6, 0.9])  # the median is x3
    assert len(left.collections) == 2  # a band per layer
    title = fig.legends[0].get_title().get_text()
    assert "median of the 5 replicates, band 25-75%" in title
    texts_apart(fig)
    stopped = table[(table["replicate"] < 2) | (table["epoch"] < table["epoch"].max())]
    title = gradients.gradients_figure(stopped).legends[0].get_title().get_text()
    assert "median of the replicates still training (5 at first, 2 at the end)" in title


def test_gradients_that_are_zero_inf_or_nan_are_left_out_and_the_rest_drawn():
    table = layer_rows({1: [0.1, 0.0, np.inf, np.nan, 0.05], 2: [0.6, 0.5, 1e300, 0.3, 0.2]})
    fig = gradients.gradients_figure(table)
    for ax in fig.axes:
        for line in layer_lines(ax):
            y = np.asarray(line.get_ydata(), dtype=float)
            assert np.isfinite(y).sum() >= 2 and (y[np.isfinite(y)] > 0).all()
        assert ax.get_ylim()[1] < 1e10  # the 1e300 does not squeeze the other lines
    assert "not drawn" in fig.legends[0].get_title().get_text()
    assert [len(layer_lines(ax)) for ax in fig.axes] == [2, 2]
    FigureCanvasAgg(fig).draw()


def test_gradients_of_a_run_that_diverged_at_once_draw_empty_panels_that_say_why():
    table = layer_rows({1: [np.nan, np.nan], 2: [np.inf, np.nan]}, replicates=3)
    fig = gradients.gradients_figure(table, "diverged")
    FigureCanvasAgg(fig).draw()
    norms, slopes = fig.axes
    for ax, top in ((norms, 1.0), (slopes, 1.5)):  # nothing to scale to: fixed log limits
        assert ax.get_yscale() == "log" and ax.get_ylim() == (1e-3, top)
        assert len(layer_lines(ax)) == 2
        assert all(np.isnan(line.get_ydata()).all() for line in layer_lines(ax))
    assert [line.get_ydata()[0] for line in slopes.lines[2:]] == [1.0, 0.25]  # the references
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()][:2] == ["layer 1", "layer 2 (output)"]
    assert legend.get_title().get_text() == (
        "median of the 3 replicates, band 25-75%; values 0, inf or NaN (diverged) not drawn"
    )


def test_gradients_of_a_long_run_have_a_log_epoch_axis_and_a_deep_net_a_short_legend():
    epochs = [1, 10, 100, 1000, 50_000]
    one_epoch = layer_rows({k: [0.1 / k] for k in range(1, 21)})  # 20 layers
    table = pd.concat([one_epoch.assign(epoch=e) for e in epochs])
    fig = gradients.gradients_figure(table)
    assert fig.axes[0].get_xscale() == "log"
    assert len(layer_lines(fig.axes[0])) == gradients.DRAWN_LAYERS  # of 20, evenly spread
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    named = [label for label in labels if label.startswith("layer")]
    assert named[0] == "layer 1" and named[-1] == "layer 20 (output)"
    assert len(named) == gradients.DRAWN_LAYERS
    assert fig.legends[0].get_title().get_text() == "20 layers, 8 drawn"
    texts_apart(fig)


def rings(ax) -> list:
    """The hollow (held-out) point sets drawn on ``ax``."""
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    return [c for c in points if not len(c.get_facecolors())]


def test_held_out_points_are_rings_in_the_legend_only_when_given(xor):
    x, y = xor
    x_test, y_test = x[:5] + 0.05, y[:5]
    grid_x, grid_y = np.meshgrid(np.linspace(0, 1, 5), np.linspace(0, 1, 5))
    drawn = {
        "boundary": lambda **t: decision_boundary.decision_boundary_figure(
            grid_x, grid_y, grid_x, x, y, **t
        ),
        "prediction": lambda **t: prediction.prediction_figure(x, y, y.astype(float), **t),
    }
    for name, draw in drawn.items():
        without, given = draw(), draw(x_test=x_test, y_test=y_test)
        assert not rings(without.axes[0]), name
        (ring,) = rings(given.axes[0])
        # each point drawn twice, a wide white halo then its ring: a path effect's drawing
        assert np.array_equal(ring.get_offsets()[1::2], x_test)
        assert np.array_equal(ring.get_offsets()[0::2], x_test)
        assert (ring.get_edgecolors()[0::2] == 1).all()  # white
        assert list(ring.get_linewidths()[:2]) == [3.2, 1.6]
        assert "held-out" in [t.get_text() for t in given.legends[0].get_texts()]
        texts_apart(given)


def test_held_out_predictions_show_only_when_given(xor):
    x, y = xor
    x_test = x[:5] + 0.05
    fig = prediction.prediction_figure(x, y, y.astype(float), x_test=x_test, y_test=y[:5])
    assert not rings(fig.axes[1])  # a true label would pass for a prediction there
    output = np.array([0.9, 0.1, np.nan, 0.2, 0.7])
    fig = prediction.prediction_figure(
        x, y, y.astype(float), x_test=x_test, y_test=y[:5], test_prediction=output
    )
    (ring,) = rings(fig.axes[1])
    assert "output not finite" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_the_held_out_loss_is_drawn_only_when_the_table_has_it():
    table = curves({0: [0.3, 0.2, 0.1], 1: [0.3, 0.25, 0.2]})
    plain = learning_curve.learning_curve_figure(table, stops(table, ["epoch cap"] * 2))
    assert not [line for line in plain.axes[0].lines if "held-out" in line.get_label()]
    table = table.assign(test_loss=[0.4, 0.3, 0.2, 0.4, 0.35, np.nan], test_accuracy=0.5)
    fig = learning_curve.learning_curve_figure(table, stops(table, ["epoch cap", "diverged"]))
    (line,) = [line for line in fig.axes[0].lines if line.get_label() == "held-out loss (median)"]
    assert line.get_linestyle() == "--"
    # the median per epoch, a diverged replicate held at infinity: 0.35, then inf (not drawn)
    assert list(line.get_ydata()[:2]) == pytest.approx([0.4, 0.325])
    assert np.isnan(line.get_ydata()[2])
    texts_apart(fig)


def _log_panel(light: bool, top: float) -> np.ndarray:
    """A log-log panel with minor grid lines, drawn; its pixels."""
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot([1, 1e5], [1e-3, top])
    ax.set(xscale="log", yscale="log")
    ax.grid(True, which="both", alpha=0.3)
    if light:
        style.light_minor_ticks(fig)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).astype(int)


def test_light_minor_ticks_draw_what_matplotlib_draws_without_its_tick_objects():
    light, plain = _log_panel(True, 1.0), _log_panel(False, 1.0)
    # the same marks and grid lines; only where two grid lines cross may blending round
    assert np.abs(light - plain).max() <= 1
    fig = Figure()
    ax = fig.subplots()
    ax.plot([1, 1e5], [1e-3, 1.0])
    ax.set(xscale="log", yscale="log")
    style.light_minor_ticks(fig)
    assert not ax.xaxis.get_minorticklocs().size  # no Tick per minor tick any more
    # an artist per axis, with one line: its minor marks (no grid: no grid lines)
    assert [len(drawn.lines) for drawn in ax.artists] == [1, 1]


def test_labelled_minor_ticks_of_a_narrow_log_axis_are_left_to_matplotlib():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([1, 1e5], [0.2, 0.5])  # less than a decade: matplotlib labels the minor ticks
    ax.set(xscale="log", yscale="log")
    style.light_minor_ticks(fig)
    assert ax.yaxis.get_minorticklocs().size and not ax.xaxis.get_minorticklocs().size
    assert np.abs(_log_panel(True, 2e-3) - _log_panel(False, 2e-3)).max() <= 1


def test_boundary_gif_puts_the_points_back_as_drawn_once(xor):
    """The points' picture, put on a white canvas, is the points drawn there directly
    (within rounding): the right way up, in the right place."""
    from nnsweep.figures import boundary_gif

    x, y = xor

    def canvas() -> tuple:
        fig = Figure(figsize=(3, 3), dpi=80)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        style.data_points(ax, x, y, x[:5] + 0.05, y[:5], on_shading=True)
        return fig, ax

    fig, ax = canvas()
    fig.canvas.draw()
    direct = np.asarray(fig.canvas.buffer_rgba()).astype(int)
    fig, ax = canvas()
    fig.canvas.draw()  # as boundary.gif draws its background first
    points = boundary_gif._pixels_of(fig, ax.collections[:])
    for collection in ax.collections[:]:
        collection.set_visible(False)
    fig.canvas.draw()
    fig.draw_artist(points)
    assert np.abs(np.asarray(fig.canvas.buffer_rgba()).astype(int) - direct).max() <= 2
