"""The config schema, registered in Hydra's ConfigStore.

Each option of a config group (``dataset/linear``, ``optimizer/adam``, ...) is
typed by a dataclass made from the signature of the engine function it
configures, so a new registry entry brings its schema with it and the types
and defaults live in one place. The YAML files under ``conf/`` extend these
schemas; a misspelt key or a value of the wrong type fails at compose time,
before any job of a sweep runs. :func:`check` then tests the ranges that a
type cannot express, before any training starts.
"""

import dataclasses
import difflib
import inspect
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, make_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from nnsweep.activations import ACTIVATIONS
from nnsweep.data import DATASETS
from nnsweep.losses import LOSSES
from nnsweep.network import INITS
from nnsweep.optimizers import OPTIMIZERS

# conf/ sits beside the package in the repository (install with pip install -e .).
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")

# Engine arguments that come from elsewhere than the group's own config.
NOT_CONFIGURED = ("rng", "lr")

log = logging.getLogger(__name__)

ActivationName = Enum("ActivationName", {name: name for name in ACTIVATIONS})
InitName = Enum("InitName", {name: name for name in INITS})
Objective = Enum("Objective", {"loss": "loss", "epochs": "epochs"})  # see nnsweep.run.objective
EngineName = Enum("EngineName", {"numba": "numba", "numpy": "numpy"})  # nnsweep.engines
# A job's figures by name: prediction.png, ..., and boundary.gif (nnsweep.show)
FIGURES = ("prediction", "learning_curve", "decision_boundary", "gradients", "boundary")
FigureName = Enum("FigureName", {name: name for name in FIGURES})


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
    "figures",
)


class ConfigError(ValueError):
    """A config value out of range: the message names the field, the value and what is allowed."""


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
    snapshots: int = MISSING
    figures: list[FigureName] = MISSING


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
    store = ConfigStore.instance()
    store.store(name="run_schema", node=RunConfig)
    for group, registry in GROUPS.items():
        for name, factory in registry.items():
            store.store(
                group=f"schema/{group}", name=name, node=option_schema(group, name, factory)
            )


Range = tuple[Callable[[Any], bool], str]  # (is the value allowed, what is allowed)
MAX_COUNT = 2**31 - 1  # counts stay far inside the engines' int64 arithmetic
MAX_EPOCHS = 10**9  # 1,000 times the report's cap; its loss history alone is 16 GB
MAX_SEED = 2**63 - 1  # seeds are stored as int64 (the report's tables)


def _count(low: int, high: int = MAX_COUNT) -> Range:
    return lambda v: low <= v <= high, f"an integer from {low:,} to {high:,}"


def _finite(low: float, high: float = math.inf, low_open: bool = False) -> Range:
    above = (lambda v: v > low) if low_open else (lambda v: v >= low)
    text = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}" if high < math.inf else "")
    return lambda v: math.isfinite(v) and above(v) and v <= high, f"a finite number {text}"


RATE: Range = (lambda v: math.isfinite(v) and 0 <= v < 1, "a number from 0 to 1, 1 excluded")

# Every top-level field with a range: checked by check() before anything trains.
RANGES: dict[str, Range] = {
    "lr": _finite(0, low_open=True),
    "hidden_units": _count(1),
    "hidden_layers": _count(0, 1000),
    "epochs": _count(1, MAX_EPOCHS),
    "replicates": _count(1),
    "loss_threshold": _finite(0),
    "batch_size": (lambda v: v is None or 1 <= v <= MAX_COUNT, "null (full batch) or >= 1"),
    "log_every": _count(1),
    "blas_threads": _count(1),  # more than the cores: a warning, and the cores (run time)
    "seed": _count(0, MAX_SEED),
    "snapshots": _count(0, 10_000),
}

# Every hyperparameter of every group option, by group and keyword: a new registry entry
# with a new keyword needs its range here (tests/test_config.py checks that).
OPTION_RANGES: dict[str, dict[str, Range]] = {
    "dataset": {"n": _count(2, 10**7), "noise": _finite(0, 1), "test_n": _count(0, 10**7)},
    "activation": {"alpha": _finite(0, 1)},  # leaky_relu's slope for negative inputs
    "optimizer": {
        "beta": RATE,
        "beta1": RATE,
        "beta2": RATE,
        "decay": RATE,
        "eps": _finite(0, 1, low_open=True),
    },
    "loss": {},
}


def option_fields(group: str, name: str) -> list[str]:
    """The fields of option ``name`` of ``group``: its engine function's keywords, then the
    group's own (GROUP_FIELDS)."""
    factory = GROUPS[group].get(name)
    parameters = inspect.signature(factory).parameters if factory else {}
    own = list(GROUP_FIELDS.get(group, {}))
    return [p for p in parameters if p not in NOT_CONFIGURED] + own


def check(cfg: Any) -> None:
    """Raise ConfigError for the first key that is not a field, or value out of range."""
    _check_keys(cfg)
    for key, (ok, allowed) in RANGES.items():
        if key in cfg and not ok(cfg[key]):
            raise ConfigError(f"{key}={cfg[key]!r} is out of range; allowed: {allowed}")
    for group, ranges in OPTION_RANGES.items():
        for key, value in hyperparameters(cfg[group]).items():
            ok, allowed = ranges[key]
            if not ok(value):
                raise ConfigError(f"{group}.{key}={value!r} is out of range; allowed: {allowed}")
    named = [f.name for f in cfg.get("figures", [])]
    if len(set(named)) < len(named):
        twice = sorted({name for name in named if named.count(name) > 1})
        raise ConfigError(
            f"figures={named} names {', '.join(twice)} twice; allowed: each of "
            f"{', '.join(FIGURES)} at most once"
        )
    if cfg.dataset.get("test_n", 0) and "n" not in cfg.dataset:
        raise ConfigError(
            f"dataset.test_n={cfg.dataset.test_n} cannot be used with dataset={cfg.dataset.name}: "
            "its points are fixed (the lab's 21), so there are no more to hold out; allowed: 0"
        )
    if cfg.loss.name == "bce" and cfg.output_activation.name != "sigmoid":
        raise ConfigError(
            f"output_activation={cfg.output_activation.name!r} cannot be used with loss=bce; "
            "allowed: sigmoid (binary cross-entropy needs outputs in (0, 1))"
        )


def _check_keys(cfg: Any) -> None:
    """Keys added with ``+`` are stored without a check by Hydra: refuse any that nnsweep
    does not read, so a misspelt field never runs the wrong experiment silently."""
    fields = [f.name for f in dataclasses.fields(RunConfig)]
    for key in cfg:
        if key not in fields and key != "hydra":  # a sweeper's configs hold Hydra's node
            raise ConfigError(
                f"{key}={_show(cfg[key])} is not a field of nnsweep's config; "
                + _suggest(key, fields)
            )
    for group in GROUPS:
        name, allowed = cfg[group].name, option_fields(group, cfg[group].name)
        for key in hyperparameters(cfg[group]):
            if key not in allowed:
                others = [n for n in GROUPS[group] if key in option_fields(group, n)]
                where = f" ({key} is a field of {group}={', '.join(others)})" if others else ""
                raise ConfigError(
                    f"{group}.{key}={_show(cfg[group][key])} is not a field of {group}={name}; "
                    f"allowed: {', '.join(allowed) or 'no fields'}{where}"
                )


def _suggest(key: str, fields: list[str]) -> str:
    close = difflib.get_close_matches(key, fields, n=1)
    return f"did you mean {close[0]}?" if close else f"allowed: {', '.join(fields)}"


def _show(value: Any) -> str:
    return repr(OmegaConf.to_container(value) if OmegaConf.is_config(value) else value)


def cpu_count() -> int:
    """The cores this process may run on (its affinity, as a container or taskset sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cap_blas_threads(cfg: Any) -> None:
    """More BLAS (or replicate) threads than cores only slows a job: warn, and use the cores."""
    cores = cpu_count()
    if cfg.blas_threads > cores:
        log.warning(f"blas_threads={cfg.blas_threads} exceeds the {cores} cores; using {cores}")
        cfg.blas_threads = cores


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where installed


def check_conf_files(config_dir: str | Path) -> None:
    """Raise ConfigError naming the first YAML file of ``config_dir`` that is not UTF-8 or
    not YAML, with the problem and its line."""
    for path in sorted(Path(config_dir).rglob("*.yaml")):
        try:
            yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        except UnicodeDecodeError as error:
            reason = f"{error.reason} at byte {error.start}"
            raise ConfigError(f"{path}: not UTF-8 text ({reason})") from None
        except yaml.YAMLError as error:
            where = getattr(error, "problem_mark", None)
            line = f" at line {where.line + 1}" if where else ""
            problem = getattr(error, "problem", None) or error
            raise ConfigError(f"{path}: not valid YAML ({problem}{line})") from None
