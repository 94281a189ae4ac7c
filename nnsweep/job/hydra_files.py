"""What Hydra keeps in a job folder (``.hydra/``), read back: the job's config and
overrides, and whether a folder is an nnsweep job's at all."""

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from nnsweep.job.result_json import RESULT_JSON

HYDRA_CONFIG = Path(".hydra") / "config.yaml"


HYDRA_OVERRIDES = Path(".hydra") / "overrides.yaml"


# Fields every nnsweep config has: a .hydra/config.yaml without them is another app's.
NNSWEEP_FIELDS = {"dataset", "activation", "optimizer", "loss", "lr", "epochs"}


def is_job_dir(path: Path) -> bool:
    """A job's folder: it has result.json, or Hydra's config of an nnsweep job that never
    finished (another Hydra app's job folder is not one)."""
    path = Path(path)
    if (path / RESULT_JSON).is_file():
        return True
    return set(read_hydra_config(path)) >= NNSWEEP_FIELDS


def read_hydra_config(job_dir: Path) -> dict[str, Any]:
    """The job config Hydra saved in ``.hydra/config.yaml``; empty if there is none or it
    cannot be read."""
    path = Path(job_dir) / HYDRA_CONFIG
    if not path.is_file():
        return {}
    try:
        config = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception:  # noqa: BLE001  (YAML, UTF-8 and interpolation errors alike)
        return {}
    return config if isinstance(config, dict) else {}


def read_hydra_overrides(job_dir: Path) -> list[str]:
    """The job's command-line overrides from ``.hydra/overrides.yaml``; empty if none."""
    path = Path(job_dir) / HYDRA_OVERRIDES
    return list(OmegaConf.load(path)) if path.is_file() else []
