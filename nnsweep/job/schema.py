"""The config schema, registered in Hydra's ConfigStore.

Each option of a config group (``dataset/linear``, ``optimizer/adam``, ...) is typed by a
dataclass made from the signature of the function it configures, so a new registry entry
brings its schema with it. The values live in ``conf/``; the types here. A misspelt key
or a value of the wrong type fails at compose time, before any job of a sweep runs."""

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, make_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from nnsweep.data import DATASETS
from nnsweep.engines import ENGINES
from nnsweep.job.objective import OBJECTIVES
from nnsweep.nn.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from nnsweep.nn.losses import LOSSES
from nnsweep.nn.mlp import INITS
from nnsweep.nn.optimizers import OPTIMIZERS

# conf/ sits beside the package in the repository (install with pip install -e .).
CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "conf")

# Engine arguments that come from elsewhere than the group's own config.
NOT_CONFIGURED = ("rng", "lr")

# A job's figures by name, and the file each is drawn into (nnsweep.job.figures draws them).
FIGURE_FILES = {
    "prediction": "prediction.png",
    "learning_curve": "learning_curve.png",
    "decision_boundary": "decision_boundary.png",
    "gradients": "gradients.png",
    "boundary": "boundary.gif",
    "confusion": "confusion.png",  # K > 2 classes only
}


def _names(kind: str, registry: Mapping[str, Any]) -> type[Enum]:
    """An Enum of a registry's names: Hydra then refuses any other name at compose time."""
    return Enum(kind, {name: name for name in registry})


OutputActivationName = _names("OutputActivationName", OUTPUT_ACTIVATIONS)
InitName = _names("InitName", INITS)
Objective = _names("Objective", OBJECTIVES)
EngineName = _names("EngineName", ENGINES)
FigureName = _names("FigureName", FIGURE_FILES)
FIGURES = tuple(FIGURE_FILES)

# Fields that change how a job runs or what it prints, not what it computes: resuming
# ignores them. Not the engine: the two agree to rounding, and rounding grows apart on a
# chaotic run (tests/test_engines.py measures the horizon), so a job says which trained it.
PRESENTATION_FIELDS = (
    "rerun",
    "progress",
    "print_predictions",
    "log_every",
    "objective",
    "blas_threads",
    "figures",
)


# Fields every option of a group has besides its engine function's keywords: (type, default).
GROUP_FIELDS: dict[str, dict[str, tuple[type, Any]]] = {
    "dataset": {"test_n": (int, 0)},  # held-out points, drawn besides the training set
}


def option_schema(group: str, name: str, factory: Callable[..., Any] | None) -> type:
    """A dataclass with ``name``, every keyword of ``factory`` with its type and default, and
    the group's own fields (GROUP_FIELDS)."""
    fields: list[tuple[str, Any, Any]] = [("name", str, field(default=name))]
    parameters = inspect.signature(factory).parameters.values() if factory else ()
    for p in parameters:
        if p.name not in NOT_CONFIGURED:
            fields.append((p.name, p.annotation, field(default=p.default)))
    for key, (kind, default) in GROUP_FIELDS.get(group, {}).items():
        fields.append((key, kind, field(default=default)))
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
    output_activation: OutputActivationName = MISSING
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
    snapshots: int = MISSING
    figures: list[FigureName] = MISSING


def classes(cfg: Any) -> int:
    """The classes of a job's dataset: its ``classes`` field, or 2."""
    return int(cfg.dataset.get("classes", 2))


def layer_sizes(cfg: Any) -> tuple[int, ...]:
    """The network's widths, input first: 2 inputs, the hidden layers, then one output unit,
    or one per class for a softmax output."""
    outputs = classes(cfg) if cfg.output_activation.name == "softmax" else 1
    return (2,) + (cfg.hidden_units,) * cfg.hidden_layers + (outputs,)


def hyperparameters(node: Any) -> dict[str, Any]:
    """A group option's fields but its ``name``."""
    return {k: v for k, v in node.items() if k != "name"}


def arguments(node: Any, group: str) -> dict[str, Any]:
    """A group option's hyperparameters that its engine function takes (not the group's
    own fields, GROUP_FIELDS)."""
    own = GROUP_FIELDS.get(group, {})
    return {k: v for k, v in hyperparameters(node).items() if k not in own}


def register() -> None:
    """Store the top-level schema and one schema per group option in Hydra's ConfigStore."""
    from hydra.core.config_store import ConfigStore  # Hydra only where a config is composed

    store = ConfigStore.instance()
    store.store(name="run_schema", node=RunConfig)
    for group, registry in GROUPS.items():
        for name, factory in registry.items():
            store.store(
                group=f"schema/{group}", name=name, node=option_schema(group, name, factory)
            )


def option_fields(group: str, name: str) -> list[str]:
    """The fields of option ``name`` of ``group``: its engine function's keywords, then the
    group's own (GROUP_FIELDS)."""
    factory = GROUPS[group].get(name)
    parameters = inspect.signature(factory).parameters if factory else {}
    own = list(GROUP_FIELDS.get(group, {}))
    return [p for p in parameters if p not in NOT_CONFIGURED] + own
