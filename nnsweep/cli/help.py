"""What ``--help`` and README.md say about the config, read from conf/ itself: the groups a
user chooses, each option with its fields, and every top-level field with its default and
the comment conf/config.yaml gives it. One source: a test holds README.md's tables to it.
"""

import re
import textwrap
from pathlib import Path

from omegaconf import OmegaConf

from nnsweep.job.schema import CONFIG_DIR

USER_GROUPS = ("dataset", "activation", "optimizer", "loss", "experiment", "hparams_search")
LAUNCHERS = "hydra/launcher"
NBSP = "\N{NO-BREAK SPACE}"  # an option and its fields stay on one line of --help
# "key: value  # comment" at the top level, or "  - group: option  # comment" in defaults
FIELD_LINE = re.compile(r"^(?:  - )?(\w+): *(\[[^\]]*\]|\S+) *(?:# *(.*))?$")


def group_options(group: str) -> dict[str, dict]:
    """Each option of ``group`` (a folder of conf/) with its fields and their values."""
    options = {}
    for path in sorted(Path(CONFIG_DIR, group).glob("*.yaml")):
        fields = OmegaConf.to_container(OmegaConf.load(path))
        keep = group not in ("experiment", "hparams_search")  # sweeps, not fields
        options[path.stem] = {k: v for k, v in fields.items() if keep and k != "defaults"}
    return options


def launchers() -> list[str]:
    """The launchers Hydra found (its plugins), when asked inside a Hydra app."""
    from hydra.core.global_hydra import GlobalHydra

    if not GlobalHydra.instance().is_initialized():
        return []
    return GlobalHydra.instance().config_loader().get_group_options(LAUNCHERS)


def config_fields() -> list[tuple[str, str, str]]:
    """(field, default, comment) for each group default and top-level field of config.yaml,
    as it is written there; continuation comments join their field's."""
    rows: list[list[str]] = []
    text = Path(CONFIG_DIR, "config.yaml").read_text().split("\nhydra:")[0]
    for line in text.splitlines():
        match = FIELD_LINE.match(line)
        if match and match[1] != "defaults":
            rows.append([match[1], match[2], match[3] or ""])
        elif rows and re.match(r"^ +# ", line):
            rows[-1][2] += " " + line.strip()[2:]
    hidden = {"run_schema", "_self_", "sweeper"}  # how it is built, not a choice to make
    return [(k, v, c) for k, v, c in rows if k not in hidden]


def _option_text(name: str, fields: dict, space: str = " ") -> str:
    text = f"{name} ({', '.join(f'{k}={v}' for k, v in fields.items())})" if fields else name
    return text.replace(" ", space)


def help_text() -> str:
    """--help's body: the groups with their options' fields, then every field."""
    groups = {
        g: [_option_text(n, f, NBSP) for n, f in group_options(g).items()] for g in USER_GROUPS
    }
    groups[LAUNCHERS] = launchers()
    lines = ["== Groups: group=option; an option's fields: group.field=value ==", ""]
    for group, options in groups.items():
        lines += textwrap.wrap(
            " | ".join(options),
            100,
            initial_indent=f"{group:<16}",
            subsequent_indent=" " * 16,
            break_on_hyphens=False,
        )
    lines += ["", "== Fields: field=value (the default shown) ==", ""]
    fields = [(f"{f}={v}", c) for f, v, c in config_fields() if f not in groups]
    for setting, comment in fields:
        if len(setting) >= 28:  # too long to share its line with the comment
            lines.append(setting)
            setting = ""
        lines += textwrap.wrap(
            comment, 100, initial_indent=f"{setting:<28}", subsequent_indent=" " * 28
        ) or [setting]
    return "\n".join(lines)


def readme_tables() -> str:
    """README.md's configuration tables, in markdown."""
    rows = ["| group | default | options and their fields |", "|---|---|---|"]
    defaults = {f: v for f, v, _ in config_fields()}
    for group in USER_GROUPS:
        options = ", ".join(f"`{_option_text(n, f)}`" for n, f in group_options(group).items())
        rows.append(f"| `{group}` | `{defaults[group]}` | {options} |")
    rows += ["", "| field | default | what (conf/config.yaml's comment) |", "|---|---|---|"]
    fields = [(f, v, c.replace("|", "\\|")) for f, v, c in config_fields() if f not in USER_GROUPS]
    rows += [f"| `{f}` | `{v}` | {c} |" for f, v, c in fields]
    return "\n".join(rows)


def register_resolver() -> None:
    """``${nnsweep_help:}`` in conf/config.yaml's help template."""
    if not OmegaConf.has_resolver("nnsweep_help"):
        OmegaConf.register_new_resolver("nnsweep_help", help_text)
