"""The files of one job: writing them atomically, reading them back.

``loss.csv`` is long format, one row per (replicate, recorded epoch):
``replicate,epoch,loss,accuracy``, and ``test_loss,test_accuracy`` with held-out data.
``layers.csv`` has one row per (replicate, recorded epoch, layer):
``replicate,epoch,layer,grad_norm,mean_abs_derivative``. ``result.json`` holds the resolved config,
the job's ``status`` (``running`` with its pid and host, ``complete``, or
``failed`` with the error), per replicate its final loss and accuracy, epochs
run, converged, diverged and seconds, and the size and sha256 of each data
file (``files``). Every file is written under a temporary name and renamed, so
a killed job never leaves a half-written file that looks whole.
"""

import hashlib
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from nnsweep.history import History

LOSS_CSV = "loss.csv"
LAYERS_CSV = "layers.csv"
RESULT_JSON = "result.json"
LOSS_COLUMNS = ["replicate", "epoch", "loss", "accuracy"]
TEST_COLUMNS = ["test_loss", "test_accuracy"]  # loss.csv's, with held-out data
LAYER_COLUMNS = ["replicate", "epoch", "layer", "grad_norm", "mean_abs_derivative"]
PARAMS_NPZ = "params.npz"  # written by nnsweep.networks
# checksummed in result.json; figures can be redrawn
DATA_FILES = (LOSS_CSV, LAYERS_CSV, PARAMS_NPZ)
PARTIAL = ".*.partial-*"  # atomic_path's temporary names

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


def snapshot_epochs(epochs: int, count: int) -> np.ndarray:
    """``count`` distinct epochs from 1 to ``epochs``, log-spaced, the first and the last
    included (every epoch when ``count`` >= ``epochs``; none when ``count`` is 0): each step
    is the ratio still to go spread evenly over the snapshots left, and at least one epoch."""
    if count >= epochs:
        return np.arange(1, epochs + 1)
    chosen = [1] if count > 1 else []
    for left in range(count - len(chosen), 0, -1):
        previous = chosen[-1] if chosen else 1
        step = round(previous * (epochs / previous) ** (1 / left))
        chosen.append(max(previous + 1, min(step, epochs - left + 1)))
    return np.array(chosen, dtype=np.int64)


def loss_table(history: History, keep: np.ndarray) -> pd.DataFrame:
    """The rows of loss.csv: the epochs ``keep`` (from :func:`recorded_epochs`, where the
    training recorded accuracy too) that each replicate ran, and always its last epoch.
    Built for all replicates at once: a loop over 100,000 replicates took minutes."""
    last = history.epochs_run
    epoch_index, replicate = np.nonzero(keep[:, None] < last[None, :])  # (keep, R) mask
    epochs = np.concatenate([keep[epoch_index], last])
    replicates = np.concatenate([replicate, np.arange(len(last))])
    order = np.lexsort((epochs, replicates))  # by replicate, then epoch
    epochs, replicates = epochs[order], replicates[order]
    is_last = epochs == last[replicates]
    columns = {
        "replicate": replicates,
        "epoch": epochs,
        "loss": history.loss[epochs - 1, replicates],
    }
    # the last epoch's values of the final parameters, where none were recorded there
    columns["accuracy"] = _recorded_at(history.accuracy, epochs, replicates)
    _fill(columns["accuracy"], is_last, history.final_accuracy[replicates])
    if history.final_test is not None:
        test = _recorded_at(history.test, epochs, replicates, width=2)
        _fill(test, is_last, history.final_test[replicates])
        columns.update(zip(TEST_COLUMNS, test.T, strict=True))
    return pd.DataFrame(columns)


class JobTables(NamedTuple):
    """loss.csv's and layers.csv's rows of one job, made once for the files and figures."""

    loss: pd.DataFrame
    layers: pd.DataFrame


def job_tables(history: History, epochs: int) -> JobTables:
    """The rows of loss.csv and layers.csv of a run capped at ``epochs``."""
    keep = recorded_epochs(epochs)
    return JobTables(loss_table(history, keep), layers_table(history, keep))


def _fill(values: np.ndarray, is_last: np.ndarray, final: np.ndarray) -> None:
    """The final values into the last epoch's rows that recorded nothing."""
    missing = np.isnan(values).all(axis=tuple(range(1, values.ndim)))
    values[is_last & missing] = final[is_last & missing]


def _recorded_at(
    rows: dict[int, np.ndarray], epochs: np.ndarray, replicates: np.ndarray, width: int = 0
) -> np.ndarray:
    """The recorded value of each (epoch, replicate): rows[epoch][replicate], NaN where
    nothing was recorded; ``width`` > 0 for rows of that many values per replicate."""
    values = np.full((len(epochs), width) if width else len(epochs), np.nan)
    if not rows:
        return values
    recorded = np.array(sorted(rows))
    table = np.stack([rows[e] for e in recorded])  # (recorded epochs, R, ...)
    where = np.minimum(np.searchsorted(recorded, epochs), len(recorded) - 1)
    found = recorded[where] == epochs
    values[found] = table[where[found], replicates[found]]
    return values


def layers_table(history: History, keep: np.ndarray) -> pd.DataFrame:
    """The rows of layers.csv: the epochs ``keep`` recorded that each replicate ran, and
    always its last epoch (as in loss.csv), every layer (1 the first hidden one, the last
    the output layer)."""
    epochs = np.array([e for e in keep.tolist() if e in history.layers], dtype=np.int64)
    values = np.stack([history.layers[e] for e in epochs]) if len(epochs) else None
    parts = [] if values is None else [_layer_rows(values, epochs, history.epochs_run)]
    if history.final_layers is not None:  # the last epochs that were not recorded ones
        last = ~np.isin(history.epochs_run, epochs)
        rows = np.where(last[:, None, None], history.final_layers, np.nan)[None]  # (1, R, L, 2)
        parts.append(_layer_rows(rows, None, history.epochs_run, only=last))
    if not parts:
        return pd.DataFrame(columns=LAYER_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(LAYER_COLUMNS[:3], ignore_index=True)


def _layer_rows(
    values: np.ndarray,
    epochs: np.ndarray | None,
    epochs_run: np.ndarray,
    only: np.ndarray | None = None,
) -> pd.DataFrame:
    """Long rows of ``values`` (K, R, L, 2) at ``epochs`` (K,) that each replicate ran; with
    ``epochs`` None, one row block at each replicate's last epoch, for those ``only``."""
    k, r, layer = (i.ravel() for i in np.indices(values.shape[:3]))
    at = epochs_run[r] if epochs is None else epochs[k]
    kept = only[r] if epochs is None else at <= epochs_run[r]
    k, r, layer, at = k[kept], r[kept], layer[kept], at[kept]
    columns = [r, at, layer + 1, values[k, r, layer, 0], values[k, r, layer, 1]]
    return pd.DataFrame(dict(zip(LAYER_COLUMNS, columns, strict=True)))


def write_loss_csv(table: pd.DataFrame, job_dir: Path) -> Path:
    return _write_csv(table, Path(job_dir) / LOSS_CSV)


def write_layers_csv(table: pd.DataFrame, job_dir: Path) -> Path:
    return _write_csv(table, Path(job_dir) / LAYERS_CSV)


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
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


class DamagedResult(ValueError):
    """A result.json that is not what a job writes, or whose data files do not match it."""


def read_result(job_dir: Path) -> dict[str, Any]:
    """result.json of a job, its shape checked: ValueError if unreadable (invalid JSON or
    UTF-8), DamagedResult if it is JSON of another shape."""
    result = json.loads((Path(job_dir) / RESULT_JSON).read_text())
    problem = shape_problem(result)
    if problem:
        raise DamagedResult(f"{Path(job_dir) / RESULT_JSON}: {problem}")
    return result


REPLICATE_KEYS = ("final_loss", "final_accuracy", "epochs", "converged", "diverged")


def shape_problem(result: Any) -> str | None:
    """What makes ``result`` unlike a result.json that a job writes, or None."""
    if not isinstance(result, dict):
        return f"a JSON {type(result).__name__}, not an object"
    if result.get("status") not in ("running", "complete", "failed"):
        return f"status {result.get('status')!r} is not running, complete or failed"
    if not isinstance(result.get("config"), dict):
        return "no config"
    if result["status"] != "complete":
        return None
    replicates = result.get("replicates")
    if not isinstance(replicates, list) or not replicates:
        return "complete, but no replicates"
    for r in replicates:
        if not isinstance(r, dict) or any(k not in r for k in REPLICATE_KEYS):
            return f"a replicate without {', '.join(REPLICATE_KEYS)}"
    files = result.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(f, dict) for f in files.values()):
        return "files is not a record of sizes and checksums"
    return None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_records(job_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of each data file in ``job_dir``, for result.json's ``files``."""
    paths = [Path(job_dir) / name for name in DATA_FILES if (Path(job_dir) / name).is_file()]
    return {p.name: {"size": p.stat().st_size, "sha256": sha256(p)} for p in paths}


def file_mismatch(job_dir: Path, result: dict[str, Any]) -> str | None:
    """Why the data files of ``job_dir`` differ from result.json's record, or None. A result
    written before files were recorded is not checked."""
    for name, expected in result.get("files", {}).items():
        path = Path(job_dir) / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != expected.get("size"):
            return f"{name} has {size} bytes, result.json says {expected.get('size')}"
        if sha256(path) != expected.get("sha256"):
            return f"{name}'s sha256 differs from result.json's"
    return None


def remove_partials(job_dir: Path) -> list[Path]:
    """Delete temporary files that a killed job left (the lock file is kept: it is held)."""
    stale = list(Path(job_dir).glob(PARTIAL))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def read_loss_csv(job_dir: Path) -> pd.DataFrame:
    """loss.csv of a job; raises ValueError if the file lacks the expected columns."""
    table = pd.read_csv(Path(job_dir) / LOSS_CSV)
    missing = set(LOSS_COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"{Path(job_dir) / LOSS_CSV}: missing columns {sorted(missing)}")
    return table


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
