"""Hydra's basic sweeper, plus nnsweep's checks on every job before any job runs.

Hydra composes every job's config before launching a sweep, so a type error
anywhere aborts it early; this sweeper runs :func:`nnsweep.job.preflight.preflight`
(fields, ranges, keys added with ``+``, the memory a job needs) on each of those
configs too, so ``lr=0.1,0`` fails at once rather than after the first job has
trained. It also refuses, before any job runs, a job whose folder holds another config's
results (:func:`nnsweep.job.folder.refusal`). Hydra's record of each sweep into a folder
is kept: an earlier ``multirun.yaml`` is copied to ``multirun-<time>.yaml`` first, and a
refused sweep leaves the folder as it found it.
"""

import logging
import os
import shlex
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf, open_dict

from nnsweep.errors import ConfigError
from nnsweep.job.console import SWEEP_JOBS, SWEEPER_PID
from nnsweep.job.folder import refusal
from nnsweep.job.lock import is_locked
from nnsweep.job.preflight import preflight
from nnsweep.job.ranges import check_same_classes
from nnsweep.job.result_json import JobStatus, read_result, write_result

log = logging.getLogger("nnsweep")
MULTIRUN_YAML = "multirun.yaml"  # Hydra's record of a sweep, written as it starts
STAMP = "%Y-%m-%d_%H-%M-%S-%f"
WORKERS_WAIT = 10.0  # seconds a stopped sweep waits for its workers to record their stop
KEPT_CONFIGS = 200  # composed job configs handed to the launcher, about 0.2 MB each


class CheckedSweeper(BasicSweeper):
    def sweep(self, arguments: list[str]) -> Any:
        """Hydra's sweep, keeping the folder's earlier multirun.yaml, and the folder as it
        was if any job is refused."""
        sweep_dir = Path(self.config.hydra.sweep.dir)
        record, existed = sweep_dir / MULTIRUN_YAML, sweep_dir.exists()
        earlier = record.read_bytes() if record.is_file() else None
        if earlier is not None:
            stamp = datetime.fromtimestamp(record.stat().st_mtime).strftime(STAMP)
            kept = record.with_name(f"multirun-{stamp}.yaml")
            kept.write_bytes(earlier)
        self._next_job = 0
        os.environ[SWEEPER_PID] = str(os.getpid())
        try:
            return super().sweep(arguments)
        except (KeyboardInterrupt, *worker_killed()) as stop:  # workers in processes
            log.error(stopped_line(sweep_dir, self._next_job, stop))
            raise SystemExit(130 if isinstance(stop, KeyboardInterrupt) else 1) from None
        except ConfigCompositionException:  # refused before any job ran: leave no trace
            if earlier is None:
                record.unlink(missing_ok=True)
                if not existed and not any(sweep_dir.iterdir()):
                    sweep_dir.rmdir()
            else:
                record.write_bytes(earlier)
            raise
        except Exception:
            if getattr(self.launcher, "failures_said", False):  # each failure said in a line
                raise SystemExit(1) from None
            raise
        finally:
            if earlier is not None and record.read_bytes() == earlier:
                kept.unlink()  # a resume, or a refused sweep: one record is enough

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        loader = self.hydra_context.config_loader
        configs = []
        for overrides in batch:
            cfg = loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides)
            )
            job = " ".join(overrides)
            try:
                preflight(cfg)
            except ConfigError as error:
                # a compact Hydra error: the message alone, no traceback, exit code 1
                raise ConfigCompositionException(f"bad config: {error} (job: {job})") from None
            problem = refusal(self._job_dir(cfg), task_config(cfg), rerun=cfg.rerun)
            if problem is None and on_slurm(cfg):
                from hydra_plugins.nnsweep_sweeper.slurm_launcher import memory_refusal

                problem = memory_refusal(cfg)  # before anything is queued
            if problem is not None:
                raise ConfigCompositionException(f"refused: {problem} (job: {job})")
            configs.append(cfg)
        self._hand_to_launcher(batch, configs)
        try:
            check_same_classes(configs)
        except ConfigError as error:
            raise ConfigCompositionException(f"bad sweep: {error}") from None
        if configs and on_slurm(configs[0]):
            self._prepare_slurm(configs)
        warm_up_engine(configs)
        # how many jobs the sweep has, for each job's end line ("job 3/8"); the launchers
        # start their workers after this, so they inherit it
        os.environ[SWEEP_JOBS] = str(sum(len(jobs) for jobs in self.overrides or [batch]))

    def _hand_to_launcher(
        self, batch: Sequence[Sequence[str]], configs: Sequence[DictConfig]
    ) -> None:
        """Hydra's default launcher, which runs the jobs in this process, composes each job's
        config again, as just composed and checked here (a tenth of a second a job): it gets
        these instead, the first KEPT_CONFIGS of a batch (the rest are composed again, which
        keeps a large sweep's memory low)."""
        if not isinstance(self.launcher, BasicLauncher):
            return  # other launchers compose in their own processes
        loader = self.hydra_context.config_loader
        kept = {tuple(o): cfg for o, cfg in zip(batch[:KEPT_CONFIGS], configs, strict=False)}
        if len(kept) < min(len(batch), KEPT_CONFIGS):
            return  # the same overrides twice: each job composes its own
        hydra_compose = getattr(loader, "hydra_load_sweep_config", loader.load_sweep_config)

        def load_sweep_config(master_config: DictConfig, sweep_overrides: list[str]) -> Any:
            cfg = kept.pop(tuple(sweep_overrides), None)
            if cfg is None or master_config is not self.config:
                return hydra_compose(master_config, sweep_overrides)
            return cfg

        loader.hydra_load_sweep_config = hydra_compose
        loader.load_sweep_config = load_sweep_config

    def _prepare_slurm(self, configs: Sequence[DictConfig]) -> None:
        """submitit's sacct warnings collapsed (for submitit_slurm too), and the time limit
        that hydra/launcher=slurm asks of SLURM, from the jobs' epoch caps."""
        import submitit  # noqa: F401 (it configures its logger as it is imported)

        from hydra_plugins.nnsweep_sweeper import slurm_launcher

        slurm_launcher.quiet_sacct()
        if isinstance(self.launcher, slurm_launcher.SlurmLauncher):
            self.launcher.minutes = slurm_launcher.time_limit(configs)

    def _job_dir(self, cfg: DictConfig) -> Path:
        """The folder Hydra will give this job: the sweep's, then its subdir for its number."""
        with open_dict(cfg):
            cfg.hydra.job.num = cfg.hydra.job.id = self._next_job
        self._next_job += 1
        return Path(cfg.hydra.sweep.dir) / str(cfg.hydra.sweep.subdir)


def worker_killed() -> tuple[type[BaseException], ...]:
    """joblib's error for a killed worker, where joblib is loaded (only its launcher raises
    it): importing joblib for this cost every job, whose Hydra loads this plugin, 0.1 s."""
    executor = sys.modules.get("joblib.externals.loky.process_executor")
    return () if executor is None else (executor.TerminatedWorkerError,)


def on_slurm(cfg: DictConfig) -> bool:
    """Whether the sweep's jobs go to SLURM (hydra/launcher=slurm or submitit_slurm)."""
    return str(cfg.hydra.launcher.get("_target_", "")).endswith(".SlurmLauncher")


def stopped_line(sweep_dir: Path, jobs: int, stop: BaseException) -> str:
    """One line for a parallel sweep that Ctrl-C or a killed worker stopped: what each job
    was left as, and the command that resumes (complete jobs are skipped)."""
    why = "interrupted" if isinstance(stop, KeyboardInterrupt) else "a worker process was killed"
    folders = [sweep_dir / str(num) for num in range(jobs)]
    deadline = time.monotonic() + WORKERS_WAIT  # the workers record their own stop first
    while any(is_locked(f) for f in folders if f.is_dir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for job_dir in folders:
        _mark_stopped(job_dir, why)
    states = Counter(_state(sweep_dir / str(num)) for num in range(jobs))
    left = ", ".join(f"{count} {state}" for state, count in states.items())
    args = [a for a in sys.argv[1:] if not a.startswith("hydra.sweep.dir=")]
    folder = f"hydra.sweep.dir={sweep_dir.absolute()}"
    return f"{why}: {left}; resume with: {shlex.join(['python', '-m', 'nnsweep', *args, folder])}"


def _mark_stopped(job_dir: Path, why: str) -> None:
    """A job whose worker was stopped before it could say so is marked failed, as the job
    itself marks a stop: its result.json then tells the truth."""
    if not job_dir.is_dir() or is_locked(job_dir):
        return
    try:
        result = read_result(job_dir)
    except (OSError, ValueError):
        return
    if result["status"] == JobStatus.RUNNING:
        stopped = {**result, "status": JobStatus.FAILED, "error": f"the sweep was stopped: {why}"}
        write_result(stopped, job_dir)


def _state(job_dir: Path) -> str:
    if not job_dir.is_dir():
        return "never started"
    try:
        status = read_result(job_dir)["status"]
    except (OSError, ValueError):
        return "left unfinished"
    return {JobStatus.COMPLETE: "complete", JobStatus.FAILED: "marked failed"}.get(
        JobStatus(status), "left unfinished"
    )


def task_config(cfg: DictConfig) -> dict[str, Any]:
    """The job's own config, resolved as a job records it in result.json (Hydra's node aside)."""
    task = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    return OmegaConf.to_container(task, resolve=True, enum_to_str=True)


def warm_up_engine(configs: Sequence[Any]) -> None:
    """Load or compile the compiled engine once, here, before the jobs start: workers that
    start together then read the disk cache instead of each compiling it."""
    compiled = [cfg for cfg in configs if cfg.engine.name == "numba"]
    if not compiled:
        return
    try:
        from nnsweep.engines.compiled import warm_up
    except ImportError:
        return  # each job then fails with the one line that says engine=numpy works
    warm_up(parallel=any(cfg.blas_threads > 1 and cfg.replicates > 1 for cfg in compiled))


@dataclass
class CheckedSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.nnsweep_sweeper.checked_sweeper.CheckedSweeper"


# selected by conf/config.yaml: `override hydra/sweeper: checked`
ConfigStore.instance().store(
    group="hydra/sweeper", name="checked", node=CheckedSweeperConf, provider="nnsweep"
)
