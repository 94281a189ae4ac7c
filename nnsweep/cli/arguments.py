"""The command line's ``field=value`` arguments, read before Hydra reads them, so that a
misspelt field or a space in a sweep gets nnsweep's one line (Hydra's own would point
the wrong way: "To append to your config use +optimiser=adam")."""

import dataclasses
import difflib
import os
from collections.abc import Sequence
from pathlib import Path

from omegaconf import OmegaConf

from nnsweep.errors import ConfigError
from nnsweep.job.schema import CONFIG_DIR, GROUPS, RunConfig, option_fields

# Hydra's flags that take the next argument as their value
VALUE_FLAGS = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name",
               "-cn", "--config-dir", "-cd", "--experimental-rerun"}  # fmt: skip
# Config groups that select a file and are no field of RunConfig
SELECTORS = ("experiment", "hparams_search", "sweeper", "hydra")


def check_arguments(argv: Sequence[str]) -> None:
    """Raise ConfigError for the first argument that is neither a flag nor a ``field=value``
    of nnsweep's config, naming it and the closest field."""
    fields = [f.name for f in dataclasses.fields(RunConfig)]
    after_flag = False
    for arg in argv:
        if after_flag or arg.startswith("-"):
            after_flag = arg in VALUE_FLAGS
            continue
        if arg.startswith(("+", "~")):
            continue  # added or deleted keys are checked with the composed config
        if "=" not in arg:
            raise ConfigError(
                f"{arg!r} is not field=value; a sweep's values are joined by commas, without "
                "spaces: python -m nnsweep -m lr=0.1,0.01"
            )
        _check_key(arg.split("=", 1)[0], fields)
    _check_option_fields(argv)


def check_output_folder(argv: Sequence[str]) -> None:
    """Raise ConfigError if the folder the job or sweep writes into cannot be written: its
    nearest existing folder is read-only, or a file (before Hydra tries to make it)."""
    key = "hydra.sweep.dir=" if {"-m", "--multirun"} & set(argv) else "hydra.run.dir="
    given = [arg.split("=", 1)[1] for arg in argv if arg.startswith(key)]
    folder = Path(given[-1] if given else "outputs").absolute()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{key}{folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise ConfigError(f"{key}{folder}: {existing} cannot be written; choose another folder")


def _check_key(key: str, fields: list[str]) -> None:
    top, _, rest = key.replace("/", ".").partition(".")
    if top in SELECTORS:
        return
    if top not in fields:
        raise ConfigError(f"{key} is not a field of nnsweep's config; {_suggest(top, fields)}")
    if top in GROUPS and rest:
        known = sorted({f for name in GROUPS[top] for f in option_fields(top, name)} | {"name"})
        if rest.split(".")[0] not in known:
            raise ConfigError(
                f"{key} is not a field of any {top}; {_suggest(rest, known, prefix=top + '.')}"
            )


def _check_option_fields(argv: Sequence[str]) -> None:
    """A ``group.field=value`` whose group's chosen options (on the command line, or
    conf/config.yaml's default) lack that field, and a hidden ``activation=softmax``: one
    line each, where Hydra's would span several."""
    given = dict(arg.split("=", 1) for arg in argv if "=" in arg and not arg.startswith("-"))
    if "experiment" in given or "hparams_search" in given:
        return  # an experiment may choose other options: its composed config is checked
    if "softmax" in given.get("activation", "").split(","):
        raise ConfigError(
            "activation=softmax: softmax is an output activation only; use "
            f"output_activation=softmax (hidden layers: {', '.join(GROUPS['activation'])})"
        )
    defaults = _default_options()
    for key, value in given.items():
        group, _, field = key.partition(".")
        if group not in GROUPS or not field or field == "name":
            continue
        options = given.get(group, defaults.get(group, "")).split(",")
        for option in options:
            allowed = option_fields(group, option) if option in GROUPS[group] else None
            if allowed is not None and field not in allowed:
                others = ", ".join(n for n in GROUPS[group] if field in option_fields(group, n))
                raise ConfigError(
                    f"{key}={value} cannot be used with {group}={option}; its fields: "
                    f"{', '.join(allowed) or 'none'}; {field} is a field of {group}={others}"
                )


def _default_options() -> dict[str, str]:
    """The option conf/config.yaml chooses for each group."""
    config = OmegaConf.load(Path(CONFIG_DIR) / "config.yaml")
    chosen = [d for d in config.get("defaults", []) if OmegaConf.is_dict(d)]
    return {k: str(v) for d in chosen for k, v in d.items()}


def _suggest(key: str, fields: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(key, fields, n=1)
    if close:
        return f"did you mean {prefix}{close[0]}?"
    return f"allowed: {', '.join(prefix + f for f in fields)}"
