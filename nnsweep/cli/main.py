"""``python -m nnsweep [overrides]``: one run; ``python -m nnsweep -m ...``: a sweep."""

import logging
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import hydra
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.hydra import Hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
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


# Hydra's default launcher: a sweep's jobs one after another in this process, so a job's
# figures can be drawn by a forked process while the next trains (nnsweep.job.figures_behind)
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


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
            behind=in_sweep and hydra_cfg.launcher._target_ == BASIC_LAUNCHER,
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


HYDRA_GET_MODE = Hydra.get_mode  # Hydra's own, whichever ComposeOnce was installed last


class ComposeOnce:
    """Hydra composes a command's config twice: once to read ``hydra.mode``
    (``Hydra.get_mode``), then again to run it, the same config but for the ``hydra.mode``
    it adds then (a tenth of a second each). This get_mode composes it for the mode the
    command line asks for and hands it to that second compose, which then only checks the
    overrides and sets ``hydra.mode`` as Hydra's override would. Where its result could
    differ (a config that sets another mode, one that composes only for a sweep), Hydra's
    own get_mode and compose run."""

    def __init__(self, multirun: bool) -> None:
        self.target = RunMode.MULTIRUN if multirun else RunMode.RUN
        self.kept: tuple[str | None, list[str], DictConfig] | None = None

    def install(self) -> None:
        def get_mode(app: Hydra, config_name: str | None, overrides: list[str]) -> Any:
            try:
                cfg = app.compose_config(
                    config_name, overrides, run_mode=self.target, validate_sweep_overrides=False
                )
            except Exception:  # Hydra's get_mode composes as for a sweep: let it decide
                return HYDRA_GET_MODE(app, config_name, overrides)
            if cfg.hydra.mode in (None, self.target):
                self._keep(app.config_loader, config_name, overrides, cfg)
            return cfg.hydra.mode

        Hydra.get_mode = get_mode

    def _keep(self, loader: Any, name: str | None, overrides: list[str], cfg: DictConfig) -> None:
        """Hand ``cfg`` to the loader's next compose if it is the one Hydra's _run_app asks
        for: the same overrides, and ``hydra.mode=<mode>`` where the config sets none."""
        added = [] if cfg.hydra.mode is not None else [f"hydra.mode={self.target.name}"]
        self.kept = (name, [*overrides, *added], cfg)
        hydra_compose = loader.load_configuration

        def load_configuration(config_name: str | None, overrides: list[str], **kw: Any) -> Any:
            kept, self.kept = self.kept, None
            if (
                kept is None
                or kept[:2] != (config_name, overrides)
                or kw.get("run_mode") != self.target
            ):
                return hydra_compose(config_name, overrides, **kw)
            if kw.get("validate_sweep_overrides", True):  # as Hydra's compose checks them
                parsed = OverridesParser.create().parse_overrides(overrides=overrides)
                from_shell = kw.get("from_shell", True)
                ConfigLoaderImpl.validate_sweep_overrides_legal(parsed, self.target, from_shell)
            if added:
                kept[2].hydra.mode = self.target
                kept[2].hydra.overrides.hydra.append(added[0])
            return kept[2]

        loader.load_configuration = load_configuration


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
    ComposeOnce(multirun=bool({"-m", "--multirun"} & set(sys.argv[1:]))).install()
    task()


if __name__ == "__main__":
    main()
