"""``python -m nnsweep [overrides]``: one run; ``python -m nnsweep -m ...``: a sweep."""

import logging
import signal
import sys
from types import FrameType

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from nnsweep.config import CONFIG_DIR, ConfigError, register
from nnsweep.help import register_resolver
from nnsweep.registry import UnknownNameError
from nnsweep.run import JobDirTaken, run

log = logging.getLogger("nnsweep")
register()
register_resolver()  # --help lists the groups and fields from conf/


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as SystemExit: the job records itself failed and removes its temporary
    files, and, unlike an Exception, it ends the whole sweep, as Ctrl-C does."""
    log.error(f"stopped by {signal.Signals(signum).name}")
    sys.exit(128 + signum)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def task(cfg: DictConfig) -> float:
    hydra_cfg = HydraConfig.get()
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        return run(
            cfg,
            hydra_cfg.runtime.output_dir,
            progress=cfg.progress and not in_sweep and sys.stderr.isatty(),
            overrides=list(hydra_cfg.overrides.task),
        )
    except (ConfigError, UnknownNameError, JobDirTaken) as error:
        log.error(f"{error}")
        if in_sweep:
            raise  # Hydra records the failed job and goes on with the others
        sys.exit(2)


def main() -> None:
    """Console script entry point (``nnsweep``)."""
    task()


if __name__ == "__main__":
    main()
