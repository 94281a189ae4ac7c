"""``python -m nnsweep [overrides]``: one run; ``python -m nnsweep -m ...``: a sweep."""

import logging
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig

from nnsweep.cli.arguments import check_arguments, check_output_folder
from nnsweep.cli.help import register_resolver
from nnsweep.errors import ConfigError, UnknownNameError
from nnsweep.job import result_json
from nnsweep.job.conf_files import check_conf_files
from nnsweep.job.console import in_worker
from nnsweep.job.lock import JobDirTaken
from nnsweep.job.result_json import JobStatus
from nnsweep.job.run import run
from nnsweep.job.schema import CONFIG_DIR, register

log = logging.getLogger("nnsweep")
register()
register_resolver()  # --help lists the groups and fields from conf/


class Stopped(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the job records itself failed and removes its
    temporary files, and, unlike an Exception, it ends the whole sweep."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.code = 128 + signum


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


class JobRefused(CompactHydraException):
    """A job refused in a sweep: Hydra records it as failed and prints this message, not
    a traceback."""


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def task(cfg: DictConfig) -> float:
    hydra_cfg = HydraConfig.get()
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    signal.signal(signal.SIGTERM, _stop_on_signal)
    sys.unraisablehook = _stop_is_no_error
    try:
        return run(
            cfg,
            hydra_cfg.runtime.output_dir,
            progress=cfg.progress and not in_sweep and sys.stderr.isatty(),
            overrides=list(hydra_cfg.overrides.task),
        )
    except (ConfigError, UnknownNameError, JobDirTaken) as error:
        log.error(f"{error}")
        if in_sweep:  # Hydra records the failed job and goes on with the others
            raise JobRefused(str(error)) from None
        sys.exit(1)
    except KeyboardInterrupt as stop:
        if not in_worker():  # else the sweeper says it once, for every job
            log.error(interrupted_line(hydra_cfg, in_sweep))
        sys.exit(getattr(stop, "code", 130))
    except OSError as error:  # a full disk, a folder that cannot be written
        where = error.filename or hydra_cfg.runtime.output_dir
        line = interrupted_line(hydra_cfg, in_sweep, f"{where}: {error.strerror or error}")
        log.error(line)
        if in_sweep:
            raise JobRefused(line) from None
        sys.exit(1)


def _stop_is_no_error(unraisable: Any) -> None:
    """Ctrl-C landing inside a C callback (numba's cache, as it compiles) cannot be raised
    there, and Python would print it as an ignored exception with its traceback; the stop
    is handled where it can be raised, so only other such exceptions are printed."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def interrupted_line(hydra_cfg: DictConfig, in_sweep: bool, why: str = "interrupted") -> str:
    """What Ctrl-C, SIGTERM or a failed write left, and the command that resumes: the same
    arguments into the same folder (complete jobs are skipped there)."""
    job_dir = Path(hydra_cfg.runtime.output_dir)
    status = _status(job_dir)
    args = [a for a in sys.argv[1:] if not a.startswith(("hydra.sweep.dir=", "hydra.run.dir="))]
    if in_sweep:
        folder = f"hydra.sweep.dir={Path(hydra_cfg.sweep.dir).absolute()}"
        what, again = f"job {hydra_cfg.job.num}", "resume with"
    else:
        folder = f"hydra.run.dir={job_dir.absolute()}"
        what, again = "the run", "run it again with"
    command = shlex.join(["python", "-m", "nnsweep", *args, folder])
    return f"{why}: {what} {status}; {again}: {command}"


def _status(job_dir: Path) -> str:
    try:
        status = result_json.read_result(job_dir)["status"]
    except (OSError, ValueError):
        status = JobStatus.RUNNING
    if status == JobStatus.FAILED:
        return "marked failed"
    return "complete" if status == JobStatus.COMPLETE else "left unfinished"


def main() -> None:
    """Console script entry point (``nnsweep``). A config file that is not UTF-8 or not
    YAML, and an argument that is not a field, are named before Hydra reads them (Hydra's
    own messages do not always name them, or point the wrong way)."""
    logging.raiseExceptions = False  # a log line that cannot be written (a full disk) is lost
    try:
        check_conf_files(CONFIG_DIR)
        check_arguments(sys.argv[1:])
        check_output_folder(sys.argv[1:])
    except ConfigError as error:
        logging.basicConfig(format="%(message)s")
        log.error(f"{error}")
        sys.exit(1)
    task()


if __name__ == "__main__":
    main()
