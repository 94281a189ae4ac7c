"""loss.csv and layers.csv: a History made into their rows, written, read back.

``loss.csv`` is long format, one row per (replicate, recorded epoch):
``replicate,epoch,loss,accuracy``, and ``test_loss,test_accuracy`` with held-out data.
``layers.csv`` has one row per (replicate, recorded epoch, layer):
``replicate,epoch,layer,grad_norm,mean_abs_derivative``."""

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from nnsweep.atomic import atomic_path
from nnsweep.engines.history import History
from nnsweep.engines.schedule import recorded_epochs

LOSS_CSV = "loss.csv"


LAYERS_CSV = "layers.csv"


LOSS_COLUMNS = ["replicate", "epoch", "loss", "accuracy"]


TEST_COLUMNS = ["test_loss", "test_accuracy"]  # loss.csv's, with held-out data


LAYER_COLUMNS = ["replicate", "epoch", "layer", "grad_norm", "mean_abs_derivative"]


def loss_table(history: History, keep: np.ndarray) -> pd.DataFrame:
    """The rows of loss.csv: the epochs ``keep`` (from :func:`recorded_epochs`, where the
    training recorded accuracy too) that each replicate ran, and always its last epoch.
    Built for all replicates at once: a Python loop per replicate is slow with many."""
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


FLOAT_FORMAT = "%.10g"


CHUNK_ROWS = 100_000  # rows formatted at once: a large table's text is never all in memory


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    """``table.to_csv(path, index=False, float_format=FLOAT_FORMAT)``, byte for byte, at
    twice its speed for our tables: pandas formats each value through a few Python calls,
    this one row at a time (a 1,000-replicate job's tables took 25 s of its 33)."""
    row = _row_format(table)
    with atomic_path(path) as tmp:
        if row is None:
            table.to_csv(tmp, index=False, float_format=FLOAT_FORMAT)
            return path
        columns = [table[name].to_numpy() for name in table.columns]
        with open(tmp, "w", encoding="utf-8") as file:
            file.write(",".join(table.columns) + "\n")
            for start in range(0, len(table), CHUNK_ROWS):
                rows = zip(*(c[start : start + CHUNK_ROWS].tolist() for c in columns), strict=True)
                file.write("".join(map(row.__mod__, rows)).replace(",nan", ","))  # NaN: empty
    return path


def _row_format(table: pd.DataFrame) -> str | None:
    """A row's %-format (``%d`` an integer, FLOAT_FORMAT a float), or None for a table this
    writer does not do: an empty one, another column type, or a float first column (a NaN
    there would not follow a comma)."""
    kinds = [table[name].dtype.kind for name in table.columns]
    if len(table) == 0 or not kinds or kinds[0] not in "iu" or set(kinds) - set("iuf"):
        return None
    return ",".join("%d" if kind in "iu" else FLOAT_FORMAT for kind in kinds) + "\n"


def read_loss_csv(job_dir: Path) -> pd.DataFrame:
    """loss.csv of a job; raises ValueError if the file lacks the expected columns."""
    table = pd.read_csv(Path(job_dir) / LOSS_CSV)
    missing = set(LOSS_COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"{Path(job_dir) / LOSS_CSV}: missing columns {sorted(missing)}")
    return table
