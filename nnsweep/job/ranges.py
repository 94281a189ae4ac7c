"""The ranges a type cannot express, one table for every field, and the check that
refuses a config before anything trains (:func:`check`)."""

import dataclasses
import difflib
from collections.abc import Sequence
from typing import Any

from omegaconf import OmegaConf

from nnsweep.bounds import MAX_COUNT, Range, count, finite, require
from nnsweep.data import MAX_CLASSES, QUADRANT_CLASSES
from nnsweep.errors import ConfigError
from nnsweep.job.schema import FIGURES, GROUPS, RunConfig, classes, hyperparameters, option_fields
from nnsweep.nn.optimizers import HYPERPARAMETER_RANGES

MAX_EPOCHS = 10**9  # 1,000 times the report's cap; its loss history alone is 16 GB
MAX_SEED = 2**63 - 1  # seeds are stored as int64 (the report's tables)


# Every top-level field with a range: checked by check() before anything trains.
RANGES: dict[str, Range] = {
    "lr": HYPERPARAMETER_RANGES["lr"],
    "hidden_units": count(1),
    "hidden_layers": count(0, 1000),
    "epochs": count(1, MAX_EPOCHS),
    "replicates": count(1),
    "loss_threshold": finite(0),
    "batch_size": (lambda v: v is None or 1 <= v <= MAX_COUNT, "null (full batch) or >= 1"),
    "log_every": count(1),
    "blas_threads": count(1),  # more than the cores: a warning, and the cores (run time)
    "seed": count(0, MAX_SEED),
    "snapshots": count(0, 10_000),
}


# Every hyperparameter of every group option, by group and keyword: a new registry entry
# with a new keyword needs its range here (tests/test_config.py checks that).
OPTION_RANGES: dict[str, dict[str, Range]] = {
    "dataset": {
        "n": count(2, 10**7),
        "noise": finite(0, 1),
        "test_n": count(0, 10**7),
        "classes": count(2, MAX_CLASSES),
    },
    "activation": {"alpha": finite(0, 1)},  # leaky_relu's slope for negative inputs
    "optimizer": {k: v for k, v in HYPERPARAMETER_RANGES.items() if k != "lr"},
    "loss": {},
}


def check(cfg: Any) -> None:
    """Raise ConfigError for the first key that is not a field, or value out of range."""
    _check_keys(cfg)
    for key, allowed in RANGES.items():
        if key in cfg:
            require(key, cfg[key], allowed)
    for group, ranges in OPTION_RANGES.items():
        for key, value in hyperparameters(cfg[group]).items():
            require(f"{group}.{key}", value, ranges[key])
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
    _check_output(cfg)


def _check_output(cfg: Any) -> None:
    """The output layer, the loss and the dataset's classes fit together."""
    output, loss, k = cfg.output_activation.name, cfg.loss.name, classes(cfg)
    if cfg.dataset.name == "quadrants" and k not in QUADRANT_CLASSES:
        raise ConfigError(
            f"dataset.classes={k} cannot be used with dataset=quadrants; allowed: 2 (XOR-like) "
            "or 4 (one class per quadrant)"
        )
    if loss == "bce" and output != "sigmoid":
        raise ConfigError(
            f"output_activation={output!r} cannot be used with loss=bce; "
            "allowed: sigmoid (binary cross-entropy needs outputs in (0, 1))"
        )
    if loss == "cross_entropy" and output != "softmax":
        raise ConfigError(
            f"loss=cross_entropy cannot be used with output_activation={output!r}; allowed: "
            "softmax (use output_activation=softmax loss=cross_entropy)"
        )
    if k > 2 and output != "softmax":
        raise ConfigError(
            f"output_activation={output!r} cannot tell dataset.classes={k} classes apart (one "
            "output unit); use output_activation=softmax loss=cross_entropy"
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


def check_same_classes(configs: Sequence[Any]) -> None:
    """Raise ConfigError for a sweep whose jobs tell different numbers of classes apart: its
    report compares jobs on one K (their losses and accuracies are not alike across K)."""
    counts = sorted({classes(cfg) for cfg in configs})
    if len(counts) > 1:
        raise ConfigError(
            f"the sweep mixes dataset.classes={','.join(map(str, counts))}; allowed: one K per "
            "sweep (its report compares jobs on one K): sweep each K into its own folder"
        )
