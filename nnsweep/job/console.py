"""What one job shows a person on the console: its summary, its progress bar, and a log
thinned for the console (its figures are nnsweep.figures')."""

import logging
import math
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

from nnsweep.engines.history import History
from nnsweep.job.build import Experiment

log = logging.getLogger(__name__)
JOB_LOG = "nnsweep.job"  # the lines of every module of nnsweep.job: the console thins these
SWEEP_JOBS = "NNSWEEP_SWEEP_JOBS"  # how many jobs the sweep has (set by the checked sweeper)
SWEEPER_PID = "NNSWEEP_SWEEPER_PID"  # the checked sweeper's process: jobs elsewhere are workers


def in_worker() -> bool:
    """A sweep's job running in a process of its own (joblib, submitit): the sweeper's
    process, not the job's, then says what a stop left."""
    return os.environ.get(SWEEPER_PID, str(os.getpid())) != str(os.getpid())


EPOCH_LINE = re.compile(
    r"Epoch (\d+) loss : "
)  # nnsweep.engines.numpy_loop.format_epoch_line, the lab's
TABLE_ROWS_ON_CONSOLE = 10
PREDICTIONS_ON_CONSOLE = 21  # the lab's XOR print-out, whole
TABLE_ROWS_IN_LOG = 1000


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


def log_summary(cfg: DictConfig, e: Experiment, history: History) -> None:
    """The lab's test print-out (one replicate) or a table (several), then one line that says
    how the run ended and, for a single run, where its files are. In a sweep only that line
    reaches the console (:class:`ConsoleFilter`); nnsweep.log keeps them all."""
    if len(history.final_loss) == 1:
        if cfg.print_predictions:
            with np.errstate(all="ignore"):  # a diverged network's outputs are NaN or inf
                prediction = e.net.predict(history.params, e.x)
            for i, p in enumerate(prediction[0, :, 0]):
                shown = {"file_only": i >= PREDICTIONS_ON_CONSOLE}  # nnsweep.log keeps all
                log.info(f"Prediction {i}: {p:.5f}", extra=shown)
            if len(prediction[0]) > PREDICTIONS_ON_CONSOLE:
                rest = len(prediction[0]) - PREDICTIONS_ON_CONSOLE
                log.info(f"... {rest} more predictions in nnsweep.log")
        log.info(f"loss={history.final_loss[0]:.5f} accuracy={history.final_accuracy[0]:.2%}")
        if history.final_test is not None:
            test_loss, test_accuracy = history.final_test[0]
            log.info(f"held-out: loss={test_loss:.5f} accuracy={test_accuracy:.2%}")
    else:
        _log_replicate_table(history)
    label, files = _job_place()
    ending = outcome(history, cfg.epochs, cfg.loss_threshold) + _held_out(history)
    log.info(f"{label}{ending}", extra={"console": True})
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


def _held_out(h: History) -> str:
    """The median held-out accuracy, for the line that says how the run ended; or nothing."""
    if h.final_test is None or np.isnan(h.final_test[:, 1]).all():
        return ""
    median = " median" if len(h.final_test) > 1 else ""
    return f"; held-out accuracy{median} {np.nanmedian(h.final_test[:, 1]):.2%}"


def _below(loss: float, threshold: float) -> str:
    """``loss`` with the fewest digits (5 or more) that still show it below ``threshold``."""
    for digits in range(5, 17):
        if float(text := f"{loss:.{digits}g}") < threshold:
            return text
    return f"{loss:.17g}"


def log_skipped(job_dir: Path) -> None:
    """A job that a resume finds complete: one line on the console, in a sweep too."""
    label, _ = _job_place()
    said = "complete for the same config, skipped (rerun=true runs it again)"
    log.info(f"{label or f'{job_dir}: '}{said}", extra={"console": True})


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
        self.sweep: bool | None = None  # asked once: Hydra's config is slow to read (20 us)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or getattr(record, "console", False):
            return True
        if getattr(record, "file_only", False):
            return False
        if not record.name.startswith(JOB_LOG):
            return True  # Hydra's, the report's, ...
        if self.sweep is None:  # Hydra configures the job's logging, a filter per job
            self.sweep = in_sweep()
        if self.sweep:
            return False
        match = EPOCH_LINE.match(record.getMessage())
        return match is None or self._show_epoch(int(match[1]))

    def _show_epoch(self, epoch: int) -> bool:
        self.epoch_lines += 1
        previous, self.last_epoch = self.last_epoch, epoch
        if self.epoch_lines <= self.FIRST:
            return True
        mark = math.floor(self.PER_DECADE * math.log10(previous)) if previous else -math.inf
        return math.floor(self.PER_DECADE * math.log10(epoch)) > mark  # the first past a mark
