"""One job's life: from a composed config to its files.

The job is built (nnsweep.experiment), a complete result already in its folder is kept
(resume), the network trains, and the files are written: loss.csv, the figures
(nnsweep.show), then result.json. Also here: the objective a sweeper minimises.
"""

import logging
import platform
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_info, threadpool_limits

from nnsweep import __version__, records, show
from nnsweep.config import PRESENTATION_FIELDS
from nnsweep.experiment import Experiment, build
from nnsweep.train import History, format_epoch_line

log = logging.getLogger(__name__)


def run(
    cfg: DictConfig, job_dir: Path, progress: bool = False, overrides: list[str] | None = None
) -> float:
    """Train the job ``cfg`` and write its files into ``job_dir``; return its objective
    (:func:`objective`), the value a Hydra sweeper minimises.

    A job dir whose result.json is complete for the same config is skipped unless
    ``cfg.rerun``. While the job runs its result.json says ``running``; on any error it
    says ``failed`` with the error, and the error is raised again.
    """
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    base = {"version": __version__, "config": resolved(cfg), "overrides": list(overrides or [])}
    previous = previous_result(job_dir, base["config"], rerun=cfg.rerun)
    if previous is not None:
        log.info(f"{job_dir}: complete for the same config, skipped (rerun=true runs it again)")
        return objective(cfg, previous["replicates"])
    records.write_result({"status": "running", **base}, job_dir)
    try:
        experiment = build(cfg)
        with (
            threadpool_limits(limits=cfg.blas_threads),
            show.progress_bar(cfg.epochs, progress) as bar,
        ):
            base["environment"] = environment()
            history = _train(experiment, bar)
        replicates = replicate_results(experiment, history)
        write_job_files(cfg, experiment, history, job_dir, {**base, "replicates": replicates})
    except BaseException as error:  # KeyboardInterrupt too: the job must not look complete
        failure = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
        failure["traceback"] = traceback.format_exc()
        records.write_result({**failure, **base}, job_dir)
        raise
    show.log_summary(cfg, experiment, history)
    return objective(cfg, replicates)


class JobDirTaken(RuntimeError):
    """A job dir that holds a complete result of another config."""


def previous_result(job_dir: Path, config: dict[str, Any], rerun: bool) -> dict[str, Any] | None:
    """The complete result already in ``job_dir`` for ``config``, if there is one to keep."""
    try:
        previous = records.read_result(job_dir)
    except (OSError, ValueError):
        return None  # none yet, or unreadable: the job runs
    if previous.get("status") != "complete" or rerun:
        return None
    same = {k: v for k, v in config.items() if k not in PRESENTATION_FIELDS}
    if {k: v for k, v in previous["config"].items() if k not in PRESENTATION_FIELDS} != same:
        raise JobDirTaken(
            f"{job_dir} holds a complete result of another config; sweep into a new "
            "hydra.sweep.dir, or pass rerun=true to replace it"
        )
    return previous


def objective(cfg: DictConfig, replicates: list[dict[str, Any]]) -> float:
    """What the task returns for a sweeper to minimise, chosen by ``cfg.objective``:

    - ``loss``: the mean final loss; infinite if any replicate diverged.
    - ``epochs``: the mean epochs to reach the loss threshold. A replicate that never
      reached it counts as ``epochs * (1 + log10(final_loss / threshold))``, so it ranks
      after every replicate that did, the nearer misses first; a diverged one counts as
      ``100 * epochs``.
    """
    losses = np.array([np.inf if r["final_loss"] is None else r["final_loss"] for r in replicates])
    if cfg.objective.name == "loss":
        return float(losses.mean())
    miss = cfg.epochs * (
        1 + np.log10(np.maximum(losses, cfg.loss_threshold) / max(cfg.loss_threshold, 1e-300))
    )
    scores = [
        r["epochs"] if r["converged"] else 100 * cfg.epochs if r["diverged"] else m
        for r, m in zip(replicates, miss, strict=True)
    ]
    return float(np.mean(scores))


def environment() -> dict[str, Any]:
    """What the numbers were computed with: versions and the BLAS threads in force."""
    threads = [pool["num_threads"] for pool in threadpool_info()]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": max(threads, default=None),
    }


def resolved(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def _train(experiment: Experiment, bar: Any) -> History:
    e, every = experiment, experiment.settings.log_every

    def on_log(epoch: int, loss: np.ndarray) -> None:
        log.info(format_epoch_line(epoch, loss))
        if bar is not None:
            bar.update(every)

    keep = records.recorded_epochs(e.settings.epochs)
    return e.train(
        e.net,
        e.params,
        e.optimizer,
        e.loss_fn,
        e.x,
        e.y,
        e.settings,
        e.rngs,
        on_log,
        set(keep.tolist()),
    )


def write_job_files(
    cfg: DictConfig, e: Experiment, history: History, job_dir: Path, base: dict
) -> None:
    """loss.csv, the figures, then result.json last: a complete result means complete files.
    ``base`` is result.json's content but its status."""
    table = records.loss_table(history, records.recorded_epochs(cfg.epochs))
    records.write_loss_csv(table, job_dir)
    figures_failed = show.draw_figures(cfg, e, history, table, job_dir)
    if figures_failed:
        base = {**base, "figures_failed": figures_failed}
    records.write_result({"status": "complete", **base}, job_dir)


def replicate_results(e: Experiment, history: History) -> list[dict[str, Any]]:
    """Per replicate what result.json keeps, non-finite losses as None (JSON's null)."""
    rows = [
        {
            "replicate": r,
            "seed": e.seeds[r],
            "final_loss": history.final_loss[r],
            "final_accuracy": history.final_accuracy[r],
            "epochs": history.epochs_run[r],
            "converged": history.converged[r],
            "diverged": history.diverged[r],
            "seconds": history.seconds[r],
        }
        for r in range(len(e.seeds))
    ]
    return records.json_safe(rows)
