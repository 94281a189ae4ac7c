"""The files of one job: writing them atomically, reading them back.

``loss.csv`` is long format, one row per (replicate, recorded epoch):
``replicate,epoch,loss,accuracy``. ``result.json`` holds the resolved config,
the job's ``status`` (complete or failed, with the error) and, per replicate,
its final loss and accuracy, epochs run, converged, diverged and seconds.
Every file is written under a temporary name and renamed, so a killed job
never leaves a half-written file that looks whole.
"""

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from nnsweep.train import History

LOSS_CSV = "loss.csv"
RESULT_JSON = "result.json"
LOSS_COLUMNS = ["replicate", "epoch", "loss", "accuracy"]

# loss.csv keeps every epoch up to this cap, and beyond it a thinned set of epochs.
EVERY_EPOCH_UP_TO = 2000
LOG_SPACED, EVENLY_SPACED = 500, 1000


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) that becomes ``path`` on success."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def recorded_epochs(
    epochs: int,
    every_up_to: int = EVERY_EPOCH_UP_TO,
    log_spaced: int = LOG_SPACED,
    evenly_spaced: int = EVENLY_SPACED,
) -> np.ndarray:
    """The epochs kept of a run of at most ``epochs``: all of them up to ``every_up_to``;
    else ``log_spaced`` log-spaced (the early descent) and ``evenly_spaced`` evenly spaced
    (the long tail) epochs, the first and the last always included. With the defaults,
    loss.csv's: a 1,000,000-epoch replicate keeps about 1,500 rows. The report draws its
    figures on a coarser grid of the same kind."""
    if epochs <= every_up_to:
        return np.arange(1, epochs + 1)
    spaced = [np.geomspace(1, epochs, log_spaced), np.linspace(1, epochs, evenly_spaced)]
    return np.unique(np.rint(np.concatenate(spaced)).astype(np.int64))


def loss_table(history: History, keep: np.ndarray) -> pd.DataFrame:
    """The rows of loss.csv: the epochs ``keep`` (from :func:`recorded_epochs`, where the
    training recorded accuracy too) that each replicate ran, and always its last epoch."""
    loss, accuracy, final_accuracy = history.loss, history.accuracy, history.final_accuracy
    frames = []
    for r, last in enumerate(history.epochs_run):
        epochs = np.union1d(keep[keep <= last], [last])
        acc = [accuracy[e][r] if e in accuracy else np.nan for e in epochs]
        acc[-1] = acc[-1] if not math.isnan(acc[-1]) else final_accuracy[r]
        rows = {"replicate": r, "epoch": epochs, "loss": loss[epochs - 1, r], "accuracy": acc}
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)[LOSS_COLUMNS]


def write_loss_csv(table: pd.DataFrame, job_dir: Path) -> Path:
    path = Path(job_dir) / LOSS_CSV
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.10g")
    return path


def json_safe(value: Any) -> Any:
    """Plain Python values; NaN and infinities become None (null): JSON has no such numbers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_result(result: dict[str, Any], job_dir: Path) -> Path:
    path = Path(job_dir) / RESULT_JSON
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(json_safe(result), indent=2, allow_nan=False) + "\n")
    return path


def read_result(job_dir: Path) -> dict[str, Any]:
    return json.loads((Path(job_dir) / RESULT_JSON).read_text())


def read_loss_csv(job_dir: Path) -> pd.DataFrame:
    """loss.csv of a job; raises ValueError if the file lacks the expected columns."""
    table = pd.read_csv(Path(job_dir) / LOSS_CSV)
    missing = set(LOSS_COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"{Path(job_dir) / LOSS_CSV}: missing columns {sorted(missing)}")
    return table


HYDRA_CONFIG = Path(".hydra") / "config.yaml"
HYDRA_OVERRIDES = Path(".hydra") / "overrides.yaml"


def is_job_dir(path: Path) -> bool:
    """A job's folder: it has result.json, or Hydra's config of a job that never finished."""
    path = Path(path)
    return (path / RESULT_JSON).is_file() or (path / HYDRA_CONFIG).is_file()


def read_hydra_config(job_dir: Path) -> dict[str, Any]:
    """The job config Hydra saved in ``.hydra/config.yaml``; empty if there is none."""
    path = Path(job_dir) / HYDRA_CONFIG
    if not path.is_file():
        return {}
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def read_hydra_overrides(job_dir: Path) -> list[str]:
    """The job's command-line overrides from ``.hydra/overrides.yaml``; empty if none."""
    path = Path(job_dir) / HYDRA_OVERRIDES
    return list(OmegaConf.load(path)) if path.is_file() else []
