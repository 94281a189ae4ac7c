"""One job's figures, drawn after its data are written: prediction.png,
learning_curve.png, decision_boundary.png, gradients.png, boundary.gif and, for more than
two classes, confusion.png. The modules of
nnsweep.figures draw them from plain arrays; this module chooses which are drawn, and of
which replicate, and picks the arrays.

matplotlib is imported only when a figure is drawn (or captioned): nnsweep.figures is
imported inside the functions that use it, so that a job with figures=[] never loads it.
"""

import logging
import multiprocessing
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from nnsweep.engines.history import History
from nnsweep.job import csv_tables
from nnsweep.job.build import Experiment, build
from nnsweep.job.console import outcomes, stops
from nnsweep.job.params_npz import saved_history
from nnsweep.job.schema import FIGURE_FILES, layer_sizes

log = logging.getLogger(__name__)

# Seconds each figure takes to draw (measured on the main run): with a spare core the
# figures are split in two about equal shares, one drawn in a forked process.
SECONDS = {
    "prediction": 0.15,
    "learning_curve": 0.2,
    "decision_boundary": 0.16,
    "gradients": 0.28,
    "confusion": 0.15,
}
GIF_FRAME_SECONDS = 0.018  # boundary.gif's, per frame
FREE_CORE = 0.25  # cores less the load (this process at least) that leave room to draw


class Drawing(NamedTuple):
    """A forked process drawing figures, and the end of the pipe its failures come on."""

    process: multiprocessing.process.BaseProcess
    receive: Connection


def draw_figures(
    cfg: DictConfig,
    e: Experiment,
    history: History,
    tables: csv_tables.JobTables,
    job_dir: Path,
    names: list[str] | None = None,
) -> dict[str, str]:
    """The figures named in ``cfg.figures`` (FIGURE_FILES), or only ``names`` of them, of
    the replicate of median final loss. A figure that cannot be drawn costs no data: it is
    logged as a warning and returned, file name to error, for result.json to record."""
    names = list(names if names is not None else [f.name for f in cfg.figures])
    if not names:
        return {}  # and matplotlib stays unloaded: half a second of a figures=[] job
    from nnsweep.figures import (
        boundary_gif,
        confusion,
        decision_boundary,
        gradients,
        learning_curve,
        prediction,
        style,
    )

    shown = representative_replicate(history)
    title = caption(cfg, shown, len(history.final_loss))
    params = history.params[shown : shown + 1]
    held_out = {"x_test": e.x_test, "y_test": e.y_test}
    test_output = None if e.x_test is None else predict(e, params, e.x_test)[0]
    counts = None if history.diverged[shown] else history.final_confusion[shown]
    classes = e.net.classes

    def figure(draw: Any) -> Any:  # a matplotlib figure's writer
        return lambda path: style.save(draw(), path)

    drawers = {
        "prediction": figure(lambda: prediction.prediction_figure(
            e.x, e.y, predict(e, params, e.x)[0], title, **held_out,
            test_prediction=test_output,
        )),
        "learning_curve": figure(
            lambda: learning_curve.learning_curve_figure(tables.loss, stops(history), caption(cfg))
        ),
        "decision_boundary": figure(lambda: decision_boundary.decision_boundary_figure(
            *_output_grid(e, params), e.x, e.y, title, **held_out
        )),
        "gradients": figure(lambda: gradients.gradients_figure(
            tables.layers, caption(cfg)
        )),
        "boundary": lambda path: boundary_gif.boundary_gif(
            path, lambda row, x: predict(e, row[None], x)[0], frames(e, history, shown),
            e.x, e.y, title, **held_out, classes=classes,
        ),
        "confusion": figure(lambda: confusion.confusion_figure(counts, title)),
    }  # fmt: skip
    if "boundary" in names and not len(history.snapshot_epochs):
        log.info("boundary.gif not drawn: snapshots=0 kept no parameters to animate")
        names.remove("boundary")
    if "confusion" in names and classes <= 2:
        names.remove("confusion")  # two classes: prediction.png says as much
    beside = half_of(names, _seconds(history)) if len(names) > 1 and spare_core() else []
    drawing = _start(beside, drawers, job_dir) if beside else None
    failed = _draw([name for name in names if name not in beside], drawers, job_dir)
    if drawing:
        failed |= _finish(drawing, beside)
    for file, error in failed.items():
        log.warning(f"{job_dir / file} could not be drawn: {error}")
    return failed


def _seconds(history: History) -> dict[str, float]:
    """Each figure's drawing time, boundary.gif's by its frames."""
    return {**SECONDS, "boundary": GIF_FRAME_SECONDS * (len(history.snapshot_epochs) + 2)}


def drawing_seconds(cfg: DictConfig, history: History) -> float:
    """About how long one process takes to draw the figures ``cfg.figures`` names."""
    return sum(_seconds(history)[figure.name] for figure in cfg.figures)


def _draw(names: list[str], drawers: dict[str, Any], job_dir: Path) -> dict[str, str]:
    """Draw ``names``: file name to error of each that could not be drawn."""
    failed: dict[str, str] = {}
    for name in names:
        path = job_dir / FIGURE_FILES[name]
        try:
            drawers[name](path)
        except Exception as error:  # a figure is never worth the training
            failed[path.name] = f"{type(error).__name__}: {error}"
    return failed


def half_of(names: list[str], seconds: dict[str, float]) -> list[str]:
    """The share of ``names`` a second process draws, given each one's ``seconds``: the
    longest first, each into the share with less work so far."""
    shares: tuple[list[str], list[str]] = ([], [])
    for name in sorted(names, key=lambda name: -seconds[name]):
        min(shares, key=lambda share: sum(seconds[n] for n in share)).append(name)
    return shares[1]


def spare_core() -> bool:
    """Whether a figure can be drawn in a forked process beside the others: on Linux (fork
    shares the job's arrays and imports for free), not in a launcher's or the discussion's
    worker process, whose siblings already use the cores, and with room left by the last
    minute's load: this process counts one, and a sweep's drawing process about half of
    another, while a test suite's two workers, or other work, fill a 2-core machine."""
    return (
        sys.platform == "linux"
        and multiprocessing.current_process().name == "MainProcess"
        and len(os.sched_getaffinity(0)) - max(os.getloadavg()[0], 1.0) >= FREE_CORE
    )


def _start(names: list[str], drawers: dict[str, Any], job_dir: Path) -> Drawing:
    """Fork a process that draws ``names`` and sends back what failed."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def draw() -> None:
        send.send(_draw(names, drawers, job_dir))

    sys.stdout.flush()  # else the child writes the parent's buffered output a second time
    sys.stderr.flush()
    process = context.Process(target=draw, daemon=True)
    process.start()
    send.close()  # the child's copy is the only writer left: its end reads as EOF
    return Drawing(process, receive)


def _finish(drawing: Drawing, names: list[str]) -> dict[str, str]:
    """What the forked process could not draw; all of ``names`` if it died."""
    try:
        failed = drawing.receive.recv()
    except EOFError:  # killed, or crashed in C: no answer
        failed = None
    drawing.process.join()
    if failed is None:
        why = f"the drawing process exited with code {drawing.process.exitcode}"
        failed = {FIGURE_FILES[name]: why for name in names}
    drawing.receive.close()
    return failed


def missing(cfg: DictConfig, job_dir: Path) -> list[str]:
    """The figures ``cfg.figures`` names that ``job_dir`` does not hold (boundary.gif only
    where snapshots were kept)."""
    names = [f.name for f in cfg.figures if not (job_dir / FIGURE_FILES[f.name]).is_file()]
    names = [n for n in names if n != "confusion" or output_classes(cfg) > 2]
    return [n for n in names if n != "boundary" or cfg.snapshots > 0]


def redraw(cfg: DictConfig, job_dir: Path, result: dict, names: list[str]) -> dict[str, str]:
    """Draw ``names`` of a complete job from its files, without training it again."""
    tables = csv_tables.JobTables(
        csv_tables.read_loss_csv(job_dir), pd.read_csv(job_dir / csv_tables.LAYERS_CSV)
    )
    history = saved_history(job_dir, result)
    return draw_figures(cfg, build(cfg), history, tables, job_dir, names)


def frames(e: Experiment, history: History, r: int) -> list:
    """boundary.gif's frames of replicate ``r``, each titled with the epoch after which it
    holds the parameters: the snapshots' numbering, which ``nnsweep-predict --epoch`` and
    ``Network.at`` take. The initial parameters (epoch 0); each snapshot before the
    replicate stopped; and the final parameters: after the epoch cap's update, or after the
    epoch before the one it converged or diverged at. A frame's loss is loss.csv's at the
    next epoch, which loss.csv numbers by the parameters entering it."""
    from nnsweep.figures.boundary_gif import Frame

    last, how = int(history.epochs_run[r]), outcomes(history)[r]
    capped = how == "epoch cap"
    end = last if capped else last - 1  # the final parameters: after this epoch's update
    chosen = [(0, e.params[r], "initial")]
    chosen += [
        (int(k), history.snapshots[i, r], "")
        for i, k in enumerate(history.snapshot_epochs)
        if k < end
    ]
    chosen.append((end, history.params[r], "the epoch cap" if capped else how))
    return [Frame(epoch, row, _loss(e, row), note) for epoch, row, note in chosen]


def _loss(e: Experiment, row: np.ndarray) -> float:
    with np.errstate(all="ignore"):  # a diverged network's loss overflows
        loss, _ = e.loss_fn(e.net.forward(row[None], e.x)[-1], e.y)  # a softmax's logits
    return float(loss[0])


def representative_replicate(history: History) -> int:
    """The replicate of median final loss (diverged ones count as worst): the one drawn."""
    loss = np.nan_to_num(history.final_loss, nan=np.inf)
    return int(np.argsort(loss, kind="stable")[(len(loss) - 1) // 2])


def caption(cfg: DictConfig, shown: int | None = None, replicates: int = 1) -> str:
    from nnsweep.figures.style import network_label

    layers = network_label(cfg.hidden_units, cfg.hidden_layers, layer_sizes(cfg)[-1])
    # no hidden layer: a logistic regression, whose hidden units and activation are unused
    hidden = f" {cfg.activation.name}" if cfg.hidden_layers else " (no hidden layer)"
    text = f"{cfg.dataset.name}, {layers}{hidden}, {cfg.optimizer.name} lr={cfg.lr}"
    if shown is not None and replicates > 1:
        text += f"\nreplicate {shown} of {replicates} (median final loss)"
    return text


def _output_grid(e: Experiment, params: np.ndarray) -> tuple[np.ndarray, ...]:
    """decision_boundary.png's grid (x, y) and the output over it."""
    from nnsweep.figures.decision_boundary import GRID_STEPS
    from nnsweep.figures.style import input_grid

    grid = input_grid(e.x, e.x_test, GRID_STEPS)
    output = predict(e, params, grid.points)[0]
    shape = grid.x.shape if output.shape[-1] == 1 else (*grid.x.shape, output.shape[-1])
    return grid.x, grid.y, output.reshape(shape)


def predict(e: Experiment, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The outputs (R, n, 1) the figures draw, or (R, n, K) class probabilities for K > 2;
    a two-class softmax as its probability of class 1, drawn as one output is."""
    with np.errstate(all="ignore"):  # a diverged replicate's parameters may be inf or NaN
        output = e.net.predict(params, x)
    return output[..., 1:] if output.shape[-1] == 2 else output


def output_classes(cfg: DictConfig) -> int:
    """The classes a job's network tells apart (figures drawn for K > 2 only)."""
    return layer_sizes(cfg)[-1] if cfg.output_activation.name == "softmax" else 2
