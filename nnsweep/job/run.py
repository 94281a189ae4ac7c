"""One job's life: from a composed config to its files.

The job folder is locked (one process per folder), a complete result already there is
kept (resume), the job is built (nnsweep.job.build) and trained, and its files are
written: loss.csv, layers.csv and params.npz, then result.json with their checksums, then
the figures (nnsweep.job.figures), which can fail without costing the data.
"""

import logging
import os
import platform
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_info, threadpool_limits

from nnsweep import __version__, atomic
from nnsweep.engines.history import History
from nnsweep.engines.numpy_loop import format_epoch_line
from nnsweep.errors import ConfigError
from nnsweep.job import (
    console,
    csv_tables,
    figures,
    figures_behind,
    folder,
    lock,
    params_npz,
    result_json,
)
from nnsweep.job.build import Experiment, build
from nnsweep.job.lock import JobDirTaken
from nnsweep.job.objective import objective
from nnsweep.job.preflight import cap_blas_threads, check_disk, preflight
from nnsweep.job.result_json import HELD_OUT_KEYS, JobStatus, ReplicateResult
from nnsweep.job.schema import FIGURE_FILES

log = logging.getLogger(__name__)


def run(
    cfg: DictConfig,
    job_dir: Path,
    progress: bool = False,
    overrides: list[str] | None = None,
    behind: bool = False,
) -> float:
    """Train the job ``cfg`` and write its files into ``job_dir``; return its objective
    (:func:`nnsweep.job.objective.objective`), the value a Hydra sweeper minimises.

    The folder is locked while the job runs: another process that trains the same config
    there waits and then keeps this job's result; one with another config fails at once
    (JobDirTaken). A folder whose result.json is complete for the same config, and whose
    files match its checksums, is skipped unless ``cfg.rerun``. While the job runs its
    result.json says ``running`` with its pid and host; on any error it says ``failed``
    with the error, and the error is raised again.

    ``behind``: a sweep's job on Hydra's default launcher, whose figures may be drawn by a
    forked process while the next job trains (nnsweep.job.figures_behind).
    """
    job_dir = Path(job_dir)
    figures_behind.finish(job_dir)  # a folder that a sweep names twice: its figures first
    try:  # a bad field fails before anything in the folder is touched
        preflight(cfg)
    except ConfigError:
        folder.restore_hydra_from(job_dir)
        raise
    job_dir.mkdir(parents=True, exist_ok=True)
    cap_blas_threads(cfg)
    base = {"version": __version__, "config": resolved(cfg), "overrides": list(overrides or [])}
    hydra_files = folder.hydra_record(job_dir, cfg)
    with lock.job_lock(job_dir, base["config"]):
        for stale in atomic.remove_partials(job_dir):
            log.info(f"{stale}: a temporary file of a killed job, removed")
        previous = folder.previous_result(job_dir, base["config"], rerun=cfg.rerun)
        if previous is not None:
            console.log_skipped(job_dir)
            _draw_missing_figures(cfg, job_dir, previous)
            return objective(cfg, previous["replicates"])
        aside = folder.set_aside(job_dir)
        if aside is not None:
            log.info(f"{job_dir}: the earlier run's files moved to {aside}")
        return _run_locked(cfg, job_dir, progress, base, hydra_files, behind)


def _run_locked(
    cfg: DictConfig,
    job_dir: Path,
    progress: bool,
    base: dict,
    hydra_files: dict[Path, bytes],
    behind: bool,
) -> float:
    result_json.write_result({"status": JobStatus.RUNNING, **lock.whoami(), **base}, job_dir)
    try:
        experiment = build(cfg)  # every field checked, and the memory it takes
        check_disk(cfg, job_dir)
        if cfg.hidden_layers == 0:
            log.info("hidden_layers=0: a logistic regression; hidden_units and activation unused")
        with (
            threadpool_limits(limits=cfg.blas_threads),
            console.progress_bar(cfg.epochs, progress) as bar,
        ):
            base["environment"] = environment()
            history = _train(experiment, bar)
        result = {**base, "replicates": replicate_results(experiment, history)}
        lock.check_still_ours(job_dir)
        folder.restore_hydra_record(hydra_files)
        tables = write_data_files(cfg, experiment, history, job_dir, result)
    except BaseException as error:  # KeyboardInterrupt too: the job must not look complete
        _record_failure(job_dir, base, error)
        raise
    figures_behind.draw(
        lambda: _figures_after_data(cfg, experiment, history, tables, job_dir, result),
        job_dir,
        behind and figures_behind.worth_it(cfg, history),
    )
    console.log_summary(cfg, experiment, history)
    return objective(cfg, result["replicates"])


def _record_failure(job_dir: Path, base: dict, error: BaseException) -> None:
    """result.json says failed, with the error; never over another process's result, and
    a disk too full for even this leaves ``running``, which the report calls interrupted."""
    if isinstance(error, JobDirTaken) or not lock.still_ours(job_dir):
        return
    failure = {"status": JobStatus.FAILED, "error": f"{type(error).__name__}: {error}"}
    failure["traceback"] = traceback.format_exc()
    try:
        result_json.write_result({**failure, **base}, job_dir)
    except OSError as write_error:
        log.error(f"{job_dir}: the failure could not be recorded ({write_error})")


def environment() -> dict[str, Any]:
    """What the numbers were computed with: versions and the BLAS threads in force; and,
    in a SLURM job, which one (its SLURM_JOB_ID, and its array task as squeue names it)."""
    threads = [pool["num_threads"] for pool in threadpool_info()]
    found = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": max(threads, default=None),
    }
    if "SLURM_JOB_ID" in os.environ:
        found["slurm_job_id"] = os.environ["SLURM_JOB_ID"]
        if "SLURM_ARRAY_TASK_ID" in os.environ:
            array = os.environ.get("SLURM_ARRAY_JOB_ID")
            found["slurm_array_task"] = f"{array}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return found


def resolved(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def _train(experiment: Experiment, bar: Any) -> History:
    e, every = experiment, experiment.settings.log_every

    def on_log(epoch: int, loss: np.ndarray) -> None:
        log.info(format_epoch_line(epoch, loss))
        if bar is not None:
            bar.update(every)

    return e.run(on_log)


def write_data_files(
    cfg: DictConfig, e: Experiment, history: History, job_dir: Path, result: dict
) -> csv_tables.JobTables:
    """loss.csv, layers.csv and params.npz, then result.json ``complete`` with their sizes
    and sha256 (added to ``result``, result.json's content but its status): a reader that
    finds ``complete`` can check the data against it. Returns both CSVs' tables."""
    tables = csv_tables.job_tables(history, cfg.epochs)
    csv_tables.write_loss_csv(tables.loss, job_dir)
    csv_tables.write_layers_csv(tables.layers, job_dir)
    trained_on = params_npz.TrainedOn(cfg.loss.name, e.x, e.y, e.x_test, e.y_test)
    params_npz.write_params(job_dir, e.net, e.params, history, e.seeds, trained_on)
    result["files"] = result_json.file_records(job_dir)
    result_json.write_result({"status": JobStatus.COMPLETE, **result}, job_dir)
    return tables


def _draw_missing_figures(cfg: DictConfig, job_dir: Path, result: dict) -> None:
    """A skipped job's figures that ``cfg.figures`` asks for and the folder lacks (asked for
    now, or lost to a kill while drawing): drawn from its files, saying so."""
    names = figures.missing(cfg, job_dir)
    if names:
        files = ", ".join(FIGURE_FILES[name] for name in names)
        log.info(
            f"{job_dir}: drawing {files} from its files (no training)", extra={"console": True}
        )
        figures.redraw(cfg, job_dir, result, names)


def _figures_after_data(
    cfg: DictConfig,
    e: Experiment,
    history: History,
    tables: csv_tables.JobTables,
    job_dir: Path,
    result: dict,
) -> None:
    """The figures, after the data: one that cannot be drawn is a warning, recorded in
    result.json as ``figures_failed``; the job stays complete."""
    figures_failed = figures.draw_figures(cfg, e, history, tables, job_dir)
    if figures_failed:
        complete = {"status": JobStatus.COMPLETE, **result, "figures_failed": figures_failed}
        try:
            result_json.write_result(complete, job_dir)
        except OSError as error:  # the data are written; only this note is lost
            log.warning(f"{job_dir}: figures_failed not recorded ({error})")


def replicate_results(e: Experiment, history: History) -> list[ReplicateResult]:
    """Per replicate what result.json keeps, non-finite losses as None (JSON's null)."""
    rows = [
        ReplicateResult(
            replicate=r,
            seed=e.seeds[r],
            final_loss=history.final_loss[r],
            final_accuracy=history.final_accuracy[r],
            epochs=history.epochs_run[r],
            converged=history.converged[r],
            diverged=history.diverged[r],
            seconds=history.seconds[r],
            **_held_out(history, r),
            **_confusions(history, r),
        )
        for r in range(len(e.seeds))
    ]
    return result_json.json_safe(rows)


def _confusions(history: History, r: int) -> dict[str, list[list[int]] | None]:
    """The final confusion matrices of replicate ``r``; None for a diverged one (its outputs
    are not finite: its classes mean nothing)."""
    tables = {"confusion": history.final_confusion}
    if history.final_test_confusion is not None:
        tables["test_confusion"] = history.final_test_confusion
    return {k: None if history.diverged[r] else v[r].tolist() for k, v in tables.items()}


def _held_out(history: History, r: int) -> dict[str, float]:
    if history.final_test is None:
        return {}
    return dict(zip(HELD_OUT_KEYS, history.final_test[r], strict=True))
