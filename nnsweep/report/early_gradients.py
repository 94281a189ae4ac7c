"""The gradient reaching layer 1 over the same early epochs, per setting, and report.md's
sentence on it.

Runs stop at different epochs, and a replicate that stopped holds its last gradient, so
values are compared only over the epochs at which every replicate compared was still
training: from epoch 1 to the shortest run (replicates that diverged left out). Each
replicate's value is its median over log-spaced epochs of that window (every decade
weighs the same, as on the figures' log axis); a setting's is the median over its
replicates, with their min and max.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nnsweep.report.aggregate import STATISTIC
from nnsweep.report.answer import times
from nnsweep.report.layers import GRADIENTS
from nnsweep.report.tables import PANEL, Sweep
from nnsweep.report.text import format_value, ordered_values, short_name

WINDOW_POINTS = 50  # log-spaced epochs from 1 to the window's end
CLEARLY_FEWER = 1.1  # below this ratio two values are called about the same
NAMES = {"grad_norm": "layer-1 gradient norm", "mean_abs_derivative": "mean |f'|"}


def early_gradients(sweep: Sweep, keys: Sequence[str]) -> pd.DataFrame:
    """Per value of ``keys``: ``until`` (the window's last epoch, shared by every value of
    ``keys[-1]`` within one value of ``keys[:-1]``), ``replicates`` with gradients,
    ``diverged`` (left out), and ``grad_norm`` and ``mean_abs_derivative``: median, min
    and max over the replicates of each one's median over the window."""
    keys, groups = list(keys), list(keys[:-1])
    stats = [f"{g}_{how}" for g in GRADIENTS for how in (STATISTIC, "min", "max")]
    empty = pd.DataFrame(columns=[*keys, "until", "replicates", "diverged", *stats])
    runs = sweep.done.loc[sweep.done["job"].isin(sweep.layers["job"])]
    if runs.empty:
        return empty
    runs = runs[["job", "replicate", *keys, "epochs_run", "diverged"]].astype(
        {"replicate": "int64", "epochs_run": "int64"}
    )
    diverged = runs["diverged"].fillna(False).astype(bool)
    kept = runs[~diverged]
    if kept.empty:
        return empty
    runs_of = kept.groupby(groups, sort=False)["epochs_run"] if groups else None
    kept = kept.assign(until=runs_of.transform("min") if groups else kept["epochs_run"].min())
    medians = _window_medians(kept, sweep.layers)
    per_replicate = kept.merge(medians, on=["job", "replicate"])
    table = per_replicate.groupby(keys, dropna=False, sort=False).agg(
        until=("until", "first"),
        replicates=("replicate", "count"),
        **{f"{g}_{how}": (g, how) for g in GRADIENTS for how in (STATISTIC, "min", "max")},
    )
    lost = runs[diverged].groupby(keys, dropna=False, sort=False)["replicate"].count()
    table["diverged"] = lost.reindex(table.index, fill_value=0).astype("int64")
    return table.reset_index()[empty.columns]


def _window_medians(kept: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    """Per (job, replicate): the median of each gradient column at log-spaced epochs from 1
    to its ``until``, each taking the row recorded at or before it."""
    grids = pd.concat(
        pd.DataFrame({"until": u, "epoch": log_grid(int(u))}) for u in kept["until"].unique()
    )
    at = kept[["job", "replicate", "until"]].merge(grids, on="until").sort_values("epoch")
    aligned = pd.merge_asof(at, layers.sort_values("epoch"), on="epoch", by=["job", "replicate"])
    finite = aligned[list(GRADIENTS)].where(np.isfinite(aligned[list(GRADIENTS)]))
    return finite.groupby([aligned["job"], aligned["replicate"]]).median().reset_index()


def log_grid(until: int) -> np.ndarray:
    """``WINDOW_POINTS`` log-spaced epochs from 1 to ``until``, rounded, each once."""
    return np.unique(np.rint(np.geomspace(1, until, WINDOW_POINTS)).astype(np.int64))


def gradient_lines(sweep: Sweep) -> list[str]:
    """One markdown line per panel and swept field: the values with the smallest and the
    largest layer-1 gradient norm and mean |f'| over the same early epochs, and the ratio."""
    lines = []
    panel = [PANEL] if PANEL in sweep.swept else []
    for field in sweep.figure_fields:
        table = early_gradients(sweep, [*panel, field])
        parts = table.groupby(PANEL, sort=False) if panel else [("", table)]
        for name, part in parts:
            if len(part) < 2:
                continue
            where = f"{name}, " if name else ""
            lines.append(f"- {where}`{short_name(field)}`: {_sentence(part, field)}.")
    return lines


def _sentence(part: pd.DataFrame, field: str) -> str:
    """``over epochs 1 to 7,563, each decade alike (20 replicates), layer-1 gradient norm
    smallest at sigmoid (0.0021), largest at relu (0.013, 6.1x that at sigmoid); ...``"""
    order = {v: i for i, v in enumerate(ordered_values(part[field]))}
    part = part.sort_values(field, key=lambda v: v.map(order))
    texts = []
    for column, name in NAMES.items():
        values = part.set_index(field)[f"{column}_{STATISTIC}"].dropna()
        if len(values) < 2:
            continue
        low, high = values.idxmin(), values.idxmax()
        texts.append(_extremes(name, values, low, high))
    until = int(part["until"].iloc[0])
    counted = f"{int(part['replicates'].sum())} replicates"
    lost = int(part["diverged"].sum())
    counted += f"; {lost} that diverged left out" if lost else ""
    # each decade weighs alike: say so, since a late reversal counts for little
    return f"over epochs 1 to {until:,}, each decade alike ({counted}), " + "; ".join(texts)


def _extremes(name: str, values: pd.Series, low: object, high: object) -> str:
    """``mean |f'| smallest at sigmoid (0.2), largest at tanh (0.75, 3.8x that at sigmoid)``,
    or about the same everywhere when the largest is within 10% of the smallest."""
    if values[low] > 0 and values[high] / values[low] < CLEARLY_FEWER:
        return f"{name} about the same at every value ({values[low]:.3g} to {values[high]:.3g})"
    ratio = f", {times(values[high] / values[low])} that at {format_value(low)}"
    return (
        f"{name} smallest at {format_value(low)} ({values[low]:.3g}), largest at "
        f"{format_value(high)} ({values[high]:.3g}{ratio if values[low] > 0 else ''})"
    )
