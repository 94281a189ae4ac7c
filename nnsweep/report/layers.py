"""layers.csv, the gradient reaching each layer, read for the report: layer 1 of every
complete job, thinned.

A job writes layers.csv beside loss.csv, one row per (replicate, recorded epoch, layer):
``replicate, epoch, layer, grad_norm, mean_abs_derivative``. Layer 1 is the first hidden
layer: its gradient has passed back through every layer's derivative, so a vanishing
gradient shows there most. The report keeps layer 1 only, and per replicate at most
about 400 of its rows (at log- and evenly spaced epochs over the sweep's longest run,
and its last row): a sweep of thousands of jobs then holds less than its loss curves.
Jobs from before layers.csv existed have none and are left out without a word.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from nnsweep.engines import schedule
from nnsweep.job.csv_tables import LAYER_COLUMNS, LAYERS_CSV
from nnsweep.report.jobs import COMPLETE

log = logging.getLogger(__name__)

GRADIENTS = ("grad_norm", "mean_abs_derivative")
FIRST = 1  # the first hidden layer
KEPT = 200  # per replicate, this many log-spaced and this many evenly spaced epochs
TYPES = {"replicate": "int64", "epoch": "int64", "grad_norm": "float64"}
TYPES |= {"mean_abs_derivative": "float64"}
COLUMNS = ["job", "replicate", "epoch", *GRADIENTS]


def read_layer(job_dir: Path, layer: int = FIRST) -> pd.DataFrame | None:
    """The rows of one layer in ``job_dir``'s layers.csv; None, quietly, when the job has
    no layers.csv, and with a warning when it cannot be read."""
    path = Path(job_dir) / LAYERS_CSV
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path)
        missing = set(LAYER_COLUMNS) - set(table.columns)
        if missing:
            raise ValueError(f"missing columns {sorted(missing)}")
        table = table.loc[table["layer"] == layer, [*TYPES]]
        for column, dtype in TYPES.items():
            if table[column].dtype.kind not in ("iu" if dtype == "int64" else "iuf"):
                raise ValueError(f"column {column!r} holds {table[column].dtype} values")
    except (OSError, ValueError) as error:  # pandas' parser errors are ValueErrors
        log.warning(f"{path}: corrupt or truncated, its gradients are left out ({error})")
        return None
    return table


def thinned(table: pd.DataFrame, grid: np.ndarray) -> pd.DataFrame:
    """The rows of ``table`` (one job, one layer) recorded at or last before each epoch of
    ``grid``, and each replicate's last row. A row stands for the epochs up to the next
    one kept; jobs that recorded the same epochs keep the same ones."""
    epochs = np.sort(table["epoch"].unique())
    below = np.searchsorted(epochs, grid, side="right") - 1  # the last recorded at or before
    kept = epochs[below[below >= 0]]
    last = table["epoch"] == table.groupby("replicate")["epoch"].transform("max")
    return table[table["epoch"].isin(kept) | last]


def first_layer_table(runs: pd.DataFrame) -> pd.DataFrame:
    """``job, replicate, epoch, grad_norm, mean_abs_derivative`` of layer 1 for every
    complete job of ``runs`` that has a layers.csv, thinned to one grid of epochs: ``KEPT``
    log-spaced and ``KEPT`` evenly spaced over the longest run. (A job's own layers.csv,
    every layer, is nnsweep.job.csv_tables.layers_table's.)"""
    complete = runs.loc[runs["status"] == COMPLETE]
    longest = complete["epochs_run"].max()
    grid = schedule.recorded_epochs(int(longest) if pd.notna(longest) else 1, 0, KEPT, KEPT)
    tables = {}
    for job, folder in complete[["job", "job_dir"]].drop_duplicates("job").itertuples(index=False):
        table = read_layer(Path(folder), FIRST)
        if table is not None and not table.empty:
            tables[job] = thinned(table, grid)
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype=TYPES.get(c, "object")) for c in COLUMNS})
    found = pd.concat(tables, names=["job", None]).astype(TYPES)
    return found.reset_index(level="job").reset_index(drop=True)[COLUMNS]
