"""Hydra's basic sweeper, plus nnsweep's checks on every job before any job runs.

Hydra composes every job's config before launching a sweep, so a type error
anywhere aborts it early; this sweeper runs :func:`nnsweep.job.preflight.preflight`
(fields, ranges, keys added with ``+``, the memory a job needs) on each of those
configs too, so ``lr=0.1,0`` fails at once rather than after the first job has
trained.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException

from nnsweep.errors import ConfigError
from nnsweep.job.console import SWEEP_JOBS
from nnsweep.job.preflight import preflight


class CheckedSweeper(BasicSweeper):
    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        loader = self.hydra_context.config_loader
        configs = []
        for overrides in batch:
            cfg = loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides)
            )
            try:
                preflight(cfg)
            except ConfigError as error:
                # a compact Hydra error: the message alone, no traceback, exit code 1
                job = " ".join(overrides)
                raise ConfigCompositionException(f"bad config: {error} (job: {job})") from None
            configs.append(cfg)
        warm_up_engine(configs)
        # how many jobs the sweep has, for each job's end line ("job 3/8"); the launchers
        # start their workers after this, so they inherit it
        os.environ[SWEEP_JOBS] = str(sum(len(jobs) for jobs in self.overrides or [batch]))


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
