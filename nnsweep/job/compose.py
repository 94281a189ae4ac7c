"""A job's config composed from Python, as the command line composes it: conf/ with
overrides, Hydra's schema at compose time, then every check a job gets before it runs."""

from collections.abc import Sequence

from omegaconf import DictConfig

from nnsweep.job.preflight import preflight
from nnsweep.job.schema import CONFIG_DIR, register


def compose(overrides: Sequence[str] = ()) -> DictConfig:
    """The config of ``python -m nnsweep *overrides`` (``["lr=0.1", "dataset=linear"]``),
    checked: a bad value raises ConfigError naming the field, the value and what is allowed."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = hydra_compose("config", overrides=list(overrides))
    preflight(cfg)
    return cfg
