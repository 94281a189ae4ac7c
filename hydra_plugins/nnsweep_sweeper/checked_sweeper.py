"""Hydra's basic sweeper, plus nnsweep's range checks on every job before any job runs.

Hydra composes every job's config before launching a sweep, so a type error
anywhere aborts it early; this sweeper runs :func:`nnsweep.config.check` on
each of those configs too, so ``lr=0.1,0`` fails at once rather than after
the first job has trained.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException

from nnsweep.config import ConfigError, check


class CheckedSweeper(BasicSweeper):
    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        loader = self.hydra_context.config_loader
        for overrides in batch:
            cfg = loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides)
            )
            try:
                check(cfg)
            except ConfigError as error:
                # a compact Hydra error: the message alone, no traceback, exit code 1
                job = " ".join(overrides)
                raise ConfigCompositionException(f"bad config: {error} (job: {job})") from None


@dataclass
class CheckedSweeperConf(BasicSweeperConf):
    _target_: str = "hydra_plugins.nnsweep_sweeper.checked_sweeper.CheckedSweeper"


# selected by conf/config.yaml: `override hydra/sweeper: checked`
ConfigStore.instance().store(
    group="hydra/sweeper", name="checked", node=CheckedSweeperConf, provider="nnsweep"
)
