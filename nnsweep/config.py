"""The config schema, registered in Hydra's ConfigStore.

Each option of a config group (``dataset/linear``, ``optimizer/adam``, ...) is
typed by a dataclass made from the signature of the engine function it
configures, so a new registry entry brings its schema with it and the types
and defaults live in one place. The YAML files under ``conf/`` extend these
schemas; a misspelt key or a value of the wrong type fails at compose time,
before any job of a sweep runs. :func:`check` then tests the ranges that a
type cannot express, before any training starts.
"""

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, make_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from nnsweep.activations import ACTIVATIONS
from nnsweep.data import DATASETS
from nnsweep.losses import LOSSES
from nnsweep.network import INITS
from nnsweep.optimizers import OPTIMIZERS, BadHyperparameterError, make_optimizer

# conf/ sits beside the package in the repository (install with pip install -e .).
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")

# Engine arguments that come from elsewhere than the group's own config.
NOT_CONFIGURED = ("rng", "lr")

ActivationName = Enum("ActivationName", {name: name for name in ACTIVATIONS})
InitName = Enum("InitName", {name: name for name in INITS})
Objective = Enum("Objective", {"loss": "loss", "epochs": "epochs"})  # see nnsweep.run.objective
EngineName = Enum("EngineName", {"numba": "numba", "numpy": "numpy"})  # nnsweep.engines


# Fields that change how a job runs or what it prints, not what it computes: resuming
# ignores them. The two engines agree to about 1e-12 (tests/test_engines.py).
PRESENTATION_FIELDS = (
    "rerun",
    "progress",
    "print_predictions",
    "log_every",
    "objective",
    "blas_threads",
    "engine",
)


class ConfigError(ValueError):
    """A config value out of range: the message names the field, the value and what is allowed."""


def option_schema(group: str, name: str, factory: Callable[..., Any] | None) -> type:
    """A dataclass with ``name`` and every keyword of ``factory`` with its type and default."""
    fields: list[tuple[str, Any, Any]] = [("name", str, field(default=name))]
    parameters = inspect.signature(factory).parameters.values() if factory else ()
    for p in parameters:
        if p.name not in NOT_CONFIGURED:
            fields.append((p.name, p.annotation, field(default=p.default)))
    return make_dataclass(f"{group.title()}_{name}", fields)


GROUPS: dict[str, Mapping[str, Callable[..., Any] | None]] = {
    "dataset": DATASETS,
    "activation": ACTIVATIONS,
    "optimizer": OPTIMIZERS,
    "loss": dict.fromkeys(LOSSES),  # losses have no hyperparameters
}


@dataclass
class RunConfig:
    """Top-level fields, typed; their values and why are in conf/config.yaml."""

    dataset: Any = MISSING
    activation: Any = MISSING
    optimizer: Any = MISSING
    loss: Any = MISSING
    lr: float = MISSING
    hidden_units: int = MISSING
    hidden_layers: int = MISSING
    output_activation: ActivationName = MISSING
    epochs: int = MISSING
    loss_threshold: float = MISSING
    batch_size: int | None = MISSING
    init: InitName = MISSING
    seed: int = MISSING
    replicates: int = MISSING
    log_every: int = MISSING
    print_predictions: bool = MISSING
    progress: bool = MISSING
    rerun: bool = MISSING
    blas_threads: int = MISSING
    objective: Objective = MISSING
    engine: EngineName = MISSING


def hyperparameters(node: Any) -> dict[str, Any]:
    """A group option's fields but its ``name``: the keyword arguments of its engine function."""
    return {k: v for k, v in node.items() if k != "name"}


def register() -> None:
    """Store the top-level schema and one schema per group option in Hydra's ConfigStore."""
    store = ConfigStore.instance()
    store.store(name="run_schema", node=RunConfig)
    for group, registry in GROUPS.items():
        for name, factory in registry.items():
            store.store(
                group=f"schema/{group}", name=name, node=option_schema(group, name, factory)
            )


RANGES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "lr": (lambda v: math.isfinite(v) and v > 0, "a finite number > 0"),
    "hidden_units": (lambda v: v >= 1, "an integer >= 1"),
    "hidden_layers": (lambda v: v >= 0, "an integer >= 0"),
    "epochs": (lambda v: v >= 1, "an integer >= 1"),
    "replicates": (lambda v: v >= 1, "an integer >= 1"),
    "loss_threshold": (lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "batch_size": (lambda v: v is None or v >= 1, "null (full batch) or an integer >= 1"),
    "log_every": (lambda v: v >= 1, "an integer >= 1"),
    "blas_threads": (lambda v: v >= 1, "an integer >= 1"),
    "dataset.n": (lambda v: v >= 2, "an integer >= 2"),
    "dataset.noise": (lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"),
}


def check(cfg: Any) -> None:
    """Raise ConfigError for the first field whose value is out of range."""
    for key, (ok, allowed) in RANGES.items():
        node, _, leaf = key.rpartition(".")
        parent = cfg[node] if node else cfg
        if leaf in parent and not ok(parent[leaf]):
            raise ConfigError(f"{key}={parent[leaf]!r} is out of range; allowed: {allowed}")
    try:
        make_optimizer(cfg.optimizer.name, cfg.lr, **hyperparameters(cfg.optimizer))
    except BadHyperparameterError as error:
        raise ConfigError(f"optimizer.{error}") from None
    if cfg.loss.name == "bce" and cfg.output_activation.name != "sigmoid":
        raise ConfigError(
            f"output_activation={cfg.output_activation.name!r} cannot be used with loss=bce; "
            "allowed: sigmoid (binary cross-entropy needs outputs in (0, 1))"
        )
