"""What one job shows a person: its figures, its console summary and its progress bar.

matplotlib is imported only when a figure is drawn.
"""

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from nnsweep import records
from nnsweep.experiment import Experiment
from nnsweep.train import History

log = logging.getLogger("nnsweep.run")  # the lab's lines keep the logger name they had
SWEEP_JOBS = "NNSWEEP_SWEEP_JOBS"  # how many jobs the sweep has (set by the checked sweeper)

EPOCH_LINE = re.compile(r"Epoch (\d+) loss : ")  # nnsweep.train.format_epoch_line, the lab's
TABLE_ROWS_ON_CONSOLE = 10
TABLE_ROWS_IN_LOG = 1000


FIGURE_FILES = {
    "prediction": "prediction.png",
    "learning_curve": "learning_curve.png",
    "decision_boundary": "decision_boundary.png",
    "gradients": "gradients.png",
    "boundary": "boundary.gif",
}


def draw_figures(
    cfg: DictConfig, e: Experiment, history: History, table: pd.DataFrame, job_dir: Path
) -> dict[str, str]:
    """The figures named in ``cfg.figures`` (FIGURE_FILES). A figure that cannot be drawn
    costs no data: it is logged as a warning and returned, file name to error, for
    result.json to record."""
    from nnsweep import plots

    shown = representative_replicate(history)
    caption = _caption(cfg, shown, len(history.final_loss))
    params = history.params[shown : shown + 1]
    test = {"x_test": e.x_test, "y_test": e.y_test}

    def figure(draw: Any) -> Any:  # a matplotlib figure's writer
        return lambda path: plots.save(draw(), path)

    drawers = {
        "prediction": figure(
            lambda: plots.prediction_figure(e.x, e.y, _predict(e, params, e.x)[0], caption, **test)
        ),
        "learning_curve": figure(
            lambda: plots.learning_curve_figure(table, stops(history), _caption(cfg))
        ),
        "decision_boundary": figure(
            lambda: plots.decision_boundary_figure(
                *_output_grid(e, params), e.x, e.y, caption, **test
            )
        ),
        "gradients": figure(
            lambda: plots.gradients_figure(
                records.layers_table(history, records.recorded_epochs(cfg.epochs)), _caption(cfg)
            )
        ),
        "boundary": lambda path: _boundary_gif(path, e, history, shown, caption),
    }  # fmt: skip
    failed = {}
    for name in [f.name for f in cfg.figures]:
        path = job_dir / FIGURE_FILES[name]
        try:
            drawers[name](path)
        except Exception as error:  # a figure is never worth the training
            failed[path.name] = f"{type(error).__name__}: {error}"
            log.warning(f"{path} could not be drawn: {failed[path.name]}")
    return failed


def _boundary_gif(path: Path, e: Experiment, history: History, shown: int, caption: str) -> None:
    from nnsweep import animation

    animation.boundary_gif(
        path, lambda row, x: _predict(e, row[None], x)[0], frames(e, history, shown), e.x, e.y,
        caption, x_test=e.x_test, y_test=e.y_test,
    )  # fmt: skip


def frames(e: Experiment, history: History, r: int) -> list:
    """boundary.gif's frames of replicate ``r``: its snapshots before it stopped, then its
    final parameters at the epoch it stopped."""
    from nnsweep.animation import Frame

    last = int(history.epochs_run[r])
    before = np.flatnonzero(history.snapshot_epochs < last)
    chosen = [(int(history.snapshot_epochs[k]), history.snapshots[k, r], "") for k in before]
    chosen.append((last, history.params[r], outcomes(history)[r]))
    return [Frame(epoch, row, _loss(e, row), note) for epoch, row, note in chosen]


def _loss(e: Experiment, row: np.ndarray) -> float:
    loss, _ = e.loss_fn(_predict(e, row[None], e.x), e.y)
    return float(loss[0])


@contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    with (
        logging_redirect_tqdm(),
        tqdm(total=total, unit="epoch", unit_scale=True, leave=False) as bar,
    ):
        yield bar


def representative_replicate(history: History) -> int:
    """The replicate of median final loss (diverged ones count as worst): the one drawn."""
    loss = np.nan_to_num(history.final_loss, nan=np.inf)
    return int(np.argsort(loss, kind="stable")[(len(loss) - 1) // 2])


def _caption(cfg: DictConfig, shown: int | None = None, replicates: int = 1) -> str:
    layers = "-".join(["2", *[str(cfg.hidden_units)] * cfg.hidden_layers, "1"])
    # no hidden layer: a logistic regression, whose hidden units and activation are unused
    hidden = f" {cfg.activation.name}" if cfg.hidden_layers else " (no hidden layer)"
    text = f"{cfg.dataset.name}, {layers}{hidden}, {cfg.optimizer.name} lr={cfg.lr}"
    if shown is not None and replicates > 1:
        text += f"\nreplicate {shown} of {replicates} (median final loss)"
    return text


def _output_grid(e: Experiment, params: np.ndarray, steps: int = 200) -> tuple[np.ndarray, ...]:
    low, high = e.x.min(axis=0) - 0.1, e.x.max(axis=0) + 0.1
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps)
    )
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    return grid_x, grid_y, _predict(e, params, points)[0].reshape(grid_x.shape)


def _predict(e: Experiment, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # a diverged replicate's parameters may be inf or NaN
        return e.net.predict(params, x)


def log_summary(cfg: DictConfig, e: Experiment, history: History) -> None:
    """The lab's test print-out (one replicate) or a table (several), then one line that says
    how the run ended and, for a single run, where its files are. In a sweep only that line
    reaches the console (:class:`ConsoleFilter`); nnsweep.log keeps them all."""
    if len(history.final_loss) == 1:
        if cfg.print_predictions:
            for i, p in enumerate(_predict(e, history.params, e.x)[0, :, 0]):
                log.info(f"Prediction {i}: {p:.5f}")
        log.info(f"loss={history.final_loss[0]:.5f} accuracy={history.final_accuracy[0]:.2%}")
    else:
        _log_replicate_table(history)
    label, files = _job_place()
    log.info(f"{label}{outcome(history, cfg.epochs, cfg.loss_threshold)}", extra={"console": True})
    if files:
        log.info(f"files: {files}", extra={"console": True})


def _log_replicate_table(h: History) -> None:
    # a console table of thousands of rows says nothing: beyond 10 only nnsweep.log has it,
    # and beyond 1,000 only result.json (100,000 log lines take 20 s)
    if len(h.final_loss) > TABLE_ROWS_IN_LOG:
        log.info(f"{len(h.final_loss):,} replicates: each one's result is in result.json")
        return
    extra = {"file_only": len(h.final_loss) > TABLE_ROWS_ON_CONSOLE}
    log.info("replicate  final loss  accuracy   epochs  stopped", extra=extra)
    for r, row in stops(h).iterrows():
        log.info(
            f"{r:9d}  {row.loss:10.5f}  {h.final_accuracy[r]:8.2%}  {row.epoch:7d}  {row.outcome}",
            extra=extra,
        )


def stops(h: History) -> pd.DataFrame:
    """Where and how each replicate stopped: replicate, epoch, loss, outcome (converged,
    epoch cap or diverged)."""
    outcome = outcomes(h)
    return pd.DataFrame(
        {
            "replicate": range(len(outcome)),
            "epoch": h.epochs_run,
            "loss": h.final_loss,
            "outcome": outcome,
        }
    )


def outcomes(h: History) -> np.ndarray:
    """How each replicate ended: converged, diverged or epoch cap."""
    return np.where(h.converged, "converged", np.where(h.diverged, "diverged", "epoch cap"))


def outcome(h: History, cap: int, threshold: float) -> str:
    """How the run ended, in one line: converged, stopped at the cap or diverged; with
    several replicates, the counts and the epochs of those that converged."""
    seconds = f"{np.max(h.seconds):.2g} s"
    if len(h.final_loss) == 1:
        loss, acc, epochs = h.final_loss[0], h.final_accuracy[0], h.epochs_run[0]
        if h.diverged[0]:
            return f"diverged at epoch {epochs:,} (the loss is not finite), {seconds}"
        if h.converged[0]:
            return (
                f"converged at epoch {epochs:,} (loss {_below(loss, threshold)} < {threshold:g}), "
                f"accuracy {acc:.2%}, {seconds}"
            )
        return (
            f"stopped at the epoch cap {cap:,} without converging: loss {loss:.5f}, "
            f"accuracy {acc:.2%}, {seconds}"
        )
    parts = [f"{h.converged.sum()}/{len(h.converged)} converged"]
    if h.converged.any():
        epochs = h.epochs_run[h.converged]
        parts[0] += f"; epochs median {np.median(epochs):,.0f} [{epochs.min():,}, {epochs.max():,}]"
    capped = int((~h.converged & ~h.diverged).sum())
    if capped:
        parts.append(f"{capped} stopped at the epoch cap {cap:,}")
    if h.diverged.any():
        parts.append(f"{h.diverged.sum()} diverged")
    if not h.diverged.all():  # a diverged replicate has no accuracy
        parts.append(f"accuracy median {np.nanmedian(h.final_accuracy):.2%}")
    return "; ".join([*parts, seconds])


def _below(loss: float, threshold: float) -> str:
    """``loss`` with the fewest digits (5 or more) that still show it below ``threshold``."""
    for digits in range(5, 17):
        if float(text := f"{loss:.{digits}g}") < threshold:
            return text
    return f"{loss:.17g}"


def _job_place() -> tuple[str, str | None]:
    """("job 3 lr=0.1, dataset=xor: ", None) in a sweep; ("", "<run dir>/") in a single run
    (nothing known outside Hydra)."""
    if not HydraConfig.initialized():
        return "", None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        num, total = hydra_cfg.job.num, os.environ.get(SWEEP_JOBS)  # Optuna's sets none
        number = f"{num} ({num + 1}/{total})" if total else f"{num}"  # num: its folder
        return f"job {number} {', '.join(hydra_cfg.overrides.task)}: ", None
    return "", f"{_relative(Path(hydra_cfg.runtime.output_dir))}/"


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def in_sweep() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


class ConsoleFilter(logging.Filter):
    """What of a job's log reaches the console (conf/config.yaml puts this filter on
    hydra.job_logging's console handler; the job's nnsweep.log keeps every line).

    A single run shows the lab's first ten ``Epoch N loss`` lines, then one line per
    eighth of a decade of epochs: about 40 lines for a million epochs. A sweep shows, of
    each job, only its end line. Warnings and errors always pass.
    """

    FIRST = 10  # epoch lines shown before thinning: every log_every epochs up to 1,000
    PER_DECADE = 8

    def __init__(self) -> None:
        super().__init__()
        self.epoch_lines = 0
        self.last_epoch = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or getattr(record, "console", False):
            return True
        if getattr(record, "file_only", False):
            return False
        if record.name != log.name:
            return True  # Hydra's, the report's, ...
        if in_sweep():
            return False
        match = EPOCH_LINE.match(record.getMessage())
        return match is None or self._show_epoch(int(match[1]))

    def _show_epoch(self, epoch: int) -> bool:
        self.epoch_lines += 1
        previous, self.last_epoch = self.last_epoch, epoch
        if self.epoch_lines <= self.FIRST:
            return True
        step = np.floor(self.PER_DECADE * np.log10([previous, epoch]))
        return bool(step[1] > step[0])  # the first logged epoch past a log-spaced mark
