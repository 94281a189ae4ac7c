"""The YAML files under conf/, checked before Hydra reads them: a file that is not UTF-8
or not YAML is named with its line (Hydra's traceback does not always name it)."""

from pathlib import Path

import yaml

from nnsweep.errors import ConfigError

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
