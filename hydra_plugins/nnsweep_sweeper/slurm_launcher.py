"""``hydra/launcher=slurm`` (conf/hydra/launcher/slurm.yaml): Hydra's submitit_slurm
launcher, plus what nnsweep needs on a cluster.

- **No job is waited for forever.** submitit learns a job's end from ``sacct`` or from its
  result file; a job cancelled (``scancel``), killed for its time limit or lost with its
  node leaves no result file, and without accounting ``sacct`` never says it ended. So
  while it waits this launcher also asks ``squeue``, the controller's own view: a job
  that is no longer queued or running there, and whose result file has not appeared
  :data:`GONE_GRACE` seconds later, ended without a result. Each job that did not
  complete is named on the console with its error or its SLURM state, then one line
  says how to resume.
- **The time limit comes from the epoch cap** (``timeout_min: 0``): :func:`time_limit`.
- **The memory asked of SLURM is checked** against each job's estimate before anything
  is queued: :func:`memory_refusal`, called by the checked sweeper (for ``submitit_slurm``
  too).
- **submitit's repeated sacct warnings** on a cluster without accounting become one
  line: :class:`SacctWarnings`, a filter on submitit's logger.
"""

import logging
import math
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from nnsweep.data import make_dataset
from nnsweep.job.preflight import memory_parts, shown_fields
from nnsweep.job.result_json import read_result
from nnsweep.job.schema import layer_sizes

try:
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
        SlurmLauncher as SubmititSlurmLauncher,
    )
except ImportError:  # no nnsweep[cluster]: Hydra's plugin scan imports this module anyway
    SubmititSlurmLauncher = object

log = logging.getLogger(__name__)

POLL = 5.0  # seconds between two looks at the queue (squeue) while jobs run
GONE_GRACE = 15.0  # seconds a job's result file may lag its end (submitit's own wait)
# squeue's states of a job that has ended (the others: queued, running, or on the way)
ENDED = {
    "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
    "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT",
}  # fmt: skip
# a job's own memory beside what it trains: Python, NumPy, numba, matplotlib, submitit
# (measured: 275 MB peak for a default job with its figures, engine=numba; 154 MB numpy)
PROCESS_BYTES = 400_000_000
MIN_MINUTES = 10  # the shortest time limit the estimate gives: a job also starts up


class JobEnded(CompactHydraException):
    """A SLURM job that ended without a result: cancelled, out of time, its node lost."""


class JobRefused(CompactHydraException):
    """Jobs refused before they were queued: by nnsweep (the memory asked of SLURM) or
    by sbatch (a partition that does not exist, ...)."""


class SlurmLauncher(SubmititSlurmLauncher):
    """submitit_slurm's launcher, waiting on every job until SLURM says it ended."""

    minutes: int | None = None  # the checked sweeper sets it from every job's config
    failures_said = False  # the checked sweeper then exits 1 without a traceback

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> list:
        import submitit  # as the parent launcher does: plugin discovery stays fast

        quiet_sacct()  # submitit configured its logger as it was imported
        minutes = self.minutes or self._check(job_overrides)
        executor = self._executor(submitit, minutes)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if "mode" in self.config.hydra.sweep:  # as the parent launcher does
            sweep_dir.chmod(int(str(self.config.hydra.sweep.mode), 8))
        state = Singleton.get_state()
        numbers = [initial_job_idx + i for i in range(len(job_overrides))]
        params = [
            (list(o), "hydra.sweep.dir", num, f"job_id_for_{num}", state)
            for num, o in zip(numbers, job_overrides, strict=True)
        ]
        try:
            jobs = executor.map_array(self, *zip(*params, strict=True))
        except submitit.core.utils.FailedJobError as error:  # sbatch said no: its own words
            said = "; ".join(line for line in str(error).splitlines() if line.strip())
            raise JobRefused(f"SLURM refused the jobs: {said}") from None
        array = jobs[0].job_id.split("_")[0]
        log.info(
            f"{len(jobs)} jobs queued on SLURM as array {array} "
            f"({_partition(self.params)}); their logs: {sweep_dir}/.submitit/"
        )
        try:
            endings = wait_until_ended(jobs, accounting=sacct_answers(array))
        except KeyboardInterrupt:  # the sweep stops, and so do its jobs (each marks itself)
            subprocess.run(["scancel", array], capture_output=True, timeout=60)
            raise
        returns = [
            _outcome(job, list(o), ended)
            for job, o, ended in zip(jobs, job_overrides, endings, strict=True)
        ]
        self.failures_said = _say_what_failed(returns, numbers, jobs, sweep_dir)
        return returns

    def _check(self, job_overrides: Sequence[Sequence[str]]) -> int:
        """Under a sweeper other than the checked one (Optuna's): this batch's jobs checked
        against the memory asked, here, before any is queued; their time limit."""
        loader = self.hydra_context.config_loader
        configs = [loader.load_sweep_config(self.config, list(o)) for o in job_overrides]
        for cfg, overrides in zip(configs, job_overrides, strict=True):
            problem = memory_refusal(cfg)
            if problem is not None:
                raise JobRefused(f"refused: {problem} (job: {' '.join(overrides)})")
        return time_limit(configs)

    def _executor(self, submitit: Any, minutes: int) -> Any:
        """submitit's executor with this launcher's parameters, as the parent builds it."""
        executor = submitit.AutoExecutor(
            cluster="slurm",
            folder=self.params["submitit_folder"],
            slurm_max_num_timeout=self.params["max_num_timeout"],
        )
        base = set(OmegaConf.structured(BaseQueueConf).keys())
        own = {"submitit_folder", "max_num_timeout"}
        params = {
            k if k in base else f"slurm_{k}": v for k, v in self.params.items() if k not in own
        }
        params["timeout_min"] = params["timeout_min"] or minutes
        executor.update_parameters(**params)
        return executor


def _partition(params: dict[str, Any]) -> str:
    name = params.get("partition")
    return f"partition {name}" if name else "SLURM's default partition"


def sacct_answers(array: str) -> bool:
    """Whether ``sacct`` answers for the array; if not (a cluster without accounting), one
    line says so, and the jobs' states come from squeue alone: submitit would call sacct,
    and sacct print its error, at every look."""
    try:
        done = subprocess.run(["sacct", "-n", "-j", array], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        said = str(error)
    else:
        if done.returncode == 0:
            return True
        said = done.stderr.decode(errors="replace").strip().split("\n")[0]
    log.warning(f"sacct fails on this cluster ({said}): {NO_SACCT}")
    return False


NO_SACCT = "the jobs' states come from squeue and their result files instead"


def wait_until_ended(jobs: Sequence[Any], accounting: bool = True) -> list[str | None]:
    """Wait until every job has ended; for each, None if it left a result file, else how
    SLURM says it ended (``CANCELLED by 0``, ``TIMEOUT``, ``gone``: no longer known). Without
    ``accounting``, only squeue is asked."""
    ended: dict[int, str | None] = {}
    first_seen: dict[int, float] = {}  # when each job was first seen ended without a result
    while True:
        queue, now = queue_states(jobs[0].job_id.split("_")[0]), time.monotonic()
        for i, job in enumerate(jobs):
            if i in ended:
                continue
            if job.paths.result_pickle.exists():
                ended[i] = None
                continue
            state = _end_state(job, queue, accounting)
            if state is None:
                first_seen.pop(i, None)
            elif now - first_seen.setdefault(i, now) > GONE_GRACE:
                ended[i] = state
        if len(ended) == len(jobs):
            return [ended[i] for i in range(len(jobs))]
        time.sleep(POLL)


def _end_state(job: Any, queue: dict[str, str] | None, accounting: bool) -> str | None:
    """How the job ended, by sacct (submitit's watcher) or else by squeue; None while it
    may still run. Nothing known (squeue not answering) counts as still running."""
    if accounting and job.done():  # sacct says it ended (its result file was looked for)
        return job.state
    if queue is None:
        return None
    state = queue.get(job.job_id, "gone")
    return state if state in ENDED or state == "gone" else None


def queue_states(array: str) -> dict[str, str] | None:
    """The state of each task of a job array as squeue gives it (``{"12_0": "RUNNING"}``),
    ended ones too while the controller keeps them; None when squeue fails."""
    command = ["squeue", "--noheader", "--array", "--states=all", "--format=%i|%T", "-j", array]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        # a job the controller has forgotten: its id is invalid, and it is gone
        return {} if "Invalid job id" in done.stderr else None
    rows = (line.split("|") for line in done.stdout.splitlines() if "|" in line)
    return {job_id: state.split()[0] for job_id, state in rows}


def _outcome(job: Any, overrides: list[str], ended: str | None) -> JobReturn:
    """The job's own return; or a failed one saying how it ended without a result."""
    if ended is None:
        try:
            return job.results()[0]
        except Exception as error:  # a result file that cannot be read
            first = str(error).strip().split("\n")[0]
            return _failed(overrides, f"SLURM job {job.job_id}: {first}")
    how = "is no longer known to SLURM" if ended == "gone" else f"ended {ended}"
    return _failed(overrides, f"SLURM job {job.job_id} {how}, without a result")


def _failed(overrides: list[str], message: str) -> JobReturn:
    return JobReturn(overrides=overrides, status=JobStatus.FAILED, _return_value=JobEnded(message))


def _say_what_failed(
    returns: list[JobReturn], numbers: list[int], jobs: Sequence[Any], sweep_dir: Path
) -> bool:
    """One line per job that did not complete, with its error, what its result.json says
    and its log; then one line that says the others stand and how to resume. Whether any
    failed (Hydra then exits 1)."""
    failed = [i for i, r in enumerate(returns) if r.status == JobStatus.FAILED]
    for i in failed:
        error = returns[i]._return_value
        what = f"{error}" if isinstance(error, JobEnded) else f"{type(error).__name__}: {error}"
        record = _recorded(sweep_dir / str(numbers[i]), what)
        place = f"job {numbers[i]} {', '.join(returns[i].overrides)}"
        log.error(f"{place}: {what.strip()}; {record} (its log: {jobs[i].paths.stderr})")
    if failed:
        log.error(
            f"{len(failed)} of {len(returns)} jobs did not complete; the others' results "
            f"stand; resume with: {resume_command(sweep_dir)}"
        )
    return bool(failed)


def _recorded(job_dir: Path, said: str) -> str:
    """What the job's result.json says of it, for the line that names a failed job (its
    error once: not again where ``said`` has it)."""
    try:
        result = read_result(job_dir)
    except (OSError, ValueError):
        return "it wrote no result.json"
    error = f", {result['error']}" if result.get("error", said) not in said else ""
    return f"its result.json says {result['status']}{error}"


def resume_command(sweep_dir: Path) -> str:
    """The sweep's own command into its own folder: complete jobs are skipped there."""
    args = [a for a in sys.argv[1:] if not a.startswith("hydra.sweep.dir=")]
    folder = f"hydra.sweep.dir={sweep_dir.absolute()}"
    return shlex.join(["python", "-m", "nnsweep", *args, folder])


# --- the memory asked of SLURM, and the time limit -------------------------------------

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)B?$", re.I)
_UNIT = {"": 2**20, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}  # SLURM's: default MB


def asked_bytes(launcher: DictConfig) -> tuple[int, str] | None:
    """The memory a job asks of SLURM, in bytes, and the field that asks it; None when it
    asks none (SLURM's default then applies, which nnsweep cannot know)."""
    if launcher.get("mem_gb") is not None:
        return int(launcher.mem_gb * _UNIT["G"]), f"hydra.launcher.mem_gb={launcher.mem_gb}"
    per_cpu = launcher.get("mem_per_cpu")
    if per_cpu is not None:
        match = _SIZE.match(str(per_cpu).strip())
        if match:
            cpus = launcher.get("cpus_per_task") or 1
            size = float(match[1]) * _UNIT[match[2].upper()] * cpus
            return int(size), f"hydra.launcher.mem_per_cpu={per_cpu} x {cpus} cpus"
    return None


def memory_refusal(cfg: DictConfig) -> str | None:
    """Why the job ``cfg`` would not fit in the memory its launcher asks of SLURM, in one
    line, or None: its estimate (nnsweep.job.preflight) and a job's own process."""
    asked = asked_bytes(cfg.hydra.launcher)
    if asked is None:
        return None
    parts = memory_parts(cfg)
    needed = sum(size for size, _ in parts.values()) + PROCESS_BYTES
    limit, field = asked
    if needed <= limit:
        return None
    largest = max(parts, key=lambda part: parts[part][0])
    fields = shown_fields(cfg, parts[largest][1])
    gb = math.ceil(needed / _UNIT["G"])
    return (
        f"{fields} needs about {needed / 1e9:,.1f} GB ({parts[largest][0] / needed:.0%} of it "
        f"{largest}, {PROCESS_BYTES / 1e9:.1f} GB a job's own process), more than the "
        f"{limit / 1e9:,.1f} GB that {field} asks of SLURM; allowed: "
        f"hydra.launcher.mem_gb={gb} or more, or a smaller job"
    )


# seconds of training per epoch: a fixed cost per update and a cost per sample and weight,
# from docs/speed.md's measurements rounded up (numba 1.6-3.3 us an epoch, numpy ~50)
RATES = {"numba": (1.5e-6, 1.2e-9), "numpy": (60e-6, 3e-9)}


def time_limit(configs: Sequence[DictConfig]) -> int:
    """Minutes for the slowest job: three times its estimated training time, plus a minute
    to start, and never under :data:`MIN_MINUTES`."""
    return max(MIN_MINUTES, max(math.ceil((60 + 3 * _seconds(c)) / 60) for c in configs))


def _seconds(cfg: DictConfig) -> float:
    n = cfg.dataset.n if "n" in cfg.dataset else len(make_dataset(cfg.dataset.name, None)[0])
    n += cfg.dataset.get("test_n", 0)
    sizes = layer_sizes(cfg)
    weights = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    updates = 1 if cfg.batch_size is None else math.ceil(n / cfg.batch_size)
    fixed, per = RATES.get(cfg.engine.name, RATES["numpy"])
    replicates = cfg.replicates if cfg.engine.name == "numba" else 1  # numpy shares calls
    return cfg.epochs * (updates * fixed * replicates + cfg.replicates * n * weights * per)


# --- submitit's sacct warnings ----------------------------------------------------------


class SacctWarnings(logging.Filter):
    """submitit warns at every poll when ``sacct`` fails, as it does on a cluster without
    accounting: the first becomes one line saying so, the others are dropped."""

    MARK = "Bypassing sacct error"

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if self.MARK not in str(record.msg):
            return True
        if self.said:
            return False
        self.said = True
        record.msg = (
            "sacct fails on this cluster (no accounting?), and submitit will say so at every "
            "look at its jobs: said once here"
        )
        record.args = ()
        return True


def quiet_sacct() -> None:
    """Put :class:`SacctWarnings` on submitit's logger, once, and let each of its warnings
    reach the console once: submitit gives its logger a stderr handler for warnings and a
    stdout one for everything, and Hydra's handlers would print it a third time."""
    logger = logging.getLogger("submitit")
    if not any(isinstance(f, SacctWarnings) for f in logger.filters):
        logger.addFilter(SacctWarnings())
    logger.propagate = False
    for handler in logger.handlers:
        to_stdout = getattr(handler, "stream", None) is sys.stdout
        if to_stdout and _below_warning not in handler.filters:
            handler.addFilter(_below_warning)


def _below_warning(record: logging.LogRecord) -> bool:
    return record.levelno < logging.WARNING
