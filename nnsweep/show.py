"""What one job shows a person: its figures, its console summary and its progress bar.

matplotlib is imported only when a figure is drawn.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from nnsweep.experiment import Experiment
from nnsweep.train import History

log = logging.getLogger("nnsweep.run")  # the lab's lines keep the logger name they had


def draw_figures(
    cfg: DictConfig, e: Experiment, history: History, table: pd.DataFrame, job_dir: Path
) -> dict[str, str]:
    """prediction.png, learning_curve.png and decision_boundary.png of the job. A figure that
    cannot be drawn costs no data: it is logged as a warning and returned, file name to
    error, for result.json to record."""
    from nnsweep import plots

    shown = representative_replicate(history)
    caption = _caption(cfg, shown, len(history.final_loss))
    params = history.params[shown : shown + 1]
    figures = {
        "prediction.png": lambda: plots.prediction_figure(
            e.x, e.y, _predict(e, params, e.x)[0], caption
        ),
        "learning_curve.png": lambda: plots.learning_curve_figure(table, _caption(cfg)),
        "decision_boundary.png": lambda: plots.decision_boundary_figure(
            *_output_grid(e, params), e.x, e.y, caption
        ),
    }
    failed = {}
    for name, draw in figures.items():
        try:
            plots.save(draw(), job_dir / name)
        except Exception as error:  # a figure is never worth the training
            failed[name] = f"{type(error).__name__}: {error}"
            log.warning(f"{job_dir / name} could not be drawn: {failed[name]}")
    return failed


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
    text = f"{cfg.dataset.name}, {layers} {cfg.activation.name}, {cfg.optimizer.name} lr={cfg.lr}"
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
    """The lab's test print-out for one replicate; a short table for several."""
    if len(history.final_loss) == 1:
        if cfg.print_predictions:
            for i, p in enumerate(_predict(e, history.params, e.x)[0, :, 0]):
                log.info(f"Prediction {i}: {p:.5f}")
        log.info(f"loss={history.final_loss[0]:.5f} accuracy={history.final_accuracy[0]:.2%}")
        return
    log.info("replicate  final loss  accuracy   epochs  stopped")
    h = history
    for r, (loss, acc) in enumerate(zip(h.final_loss, h.final_accuracy, strict=True)):
        stopped = "converged" if h.converged[r] else "diverged" if h.diverged[r] else "epoch cap"
        log.info(f"{r:9d}  {loss:10.5f}  {acc:8.2%}  {h.epochs_run[r]:7d}  {stopped}")
