"""Aggregation: per setting of the swept fields, medians over the replicates, and the
curves of each setting on one epoch grid.

The curves and the final loss and accuracy are medians over replicates (median line,
min-max band). Epochs to the threshold are censored data (:mod:`.survival`): each
setting's Kaplan-Meier median with its 95% interval, and the share converged with its
Wilson interval; ``epochs_median`` beside them is over the replicates that reached it.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nnsweep.engines import schedule
from nnsweep.report.jobs import COMPLETE
from nnsweep.report.survival import SURVIVAL_COLUMNS, survival_columns
from nnsweep.report.tables import PANEL, POOLED, Sweep
from nnsweep.report.text import ordered_values, short_name, value_labels

STATISTIC = "median"  # the one statistic of every table and figure
GRID_POINTS = 200  # log-spaced and evenly spaced epochs each, for the figures
REACHED = "_epochs_"  # epochs_run of the replicates that reached the threshold


def setting_table(runs: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One row per value of ``keys`` over the replicate rows ``runs``: replicates,
    converged, diverged; epochs to the threshold over the converged ones, final loss and
    final accuracy (and held-out accuracy, where ``runs`` has it): median, min and max."""
    reached = runs["epochs_run"].where(runs["converged"].fillna(False).astype(bool))
    # its own name: a swept cap is the config column ``epochs``, a key of the grouping
    runs = runs.assign(**{REACHED: reached.astype("float64")})
    stats = [REACHED, "final_loss", "final_accuracy"]
    stats += [c for c in ["final_test_accuracy"] if c in runs]
    named = {
        f"{column.strip('_')}_{how}": (column, how)
        for column in stats
        for how in (STATISTIC, "min", "max")
    }
    groups = runs.groupby(list(keys), dropna=False, sort=False)
    table = groups.agg(
        replicates=("replicate", "count"),
        converged=("converged", "sum"),
        diverged=("diverged", "sum"),
        **named,
    )
    if runs.empty:  # no complete job: apply would hand back the input's columns
        censored = pd.DataFrame(index=table.index, columns=list(SURVIVAL_COLUMNS.values()))
    else:
        censored = groups[runs.columns.tolist()].apply(survival_columns)
    table = table.join(censored)
    return table.reset_index().astype({"converged": "int64", "diverged": "int64"})


def summary_keys(sweep: Sweep) -> list[str]:
    """The swept fields but the seed (pooled with the replicates), the dataset first."""
    keys = [f for f in sweep.swept if f not in POOLED]
    return sorted(keys, key=lambda f: f != PANEL)


def summary_table(sweep: Sweep) -> pd.DataFrame:
    """:func:`setting_table` of the complete jobs per setting of the swept fields."""
    keys = summary_keys(sweep)
    done = sweep.done
    if not keys:
        done, keys = done.assign(setting="all runs"), ["setting"]
    return setting_table(done, keys)


def not_complete(sweep: Sweep) -> pd.DataFrame:
    """The jobs that failed or never finished: job, status, first line of the error."""
    jobs = sweep.jobs.loc[sweep.jobs["status"] != COMPLETE, ["job", "status", "error"]]
    overrides = sweep.jobs.loc[jobs.index, "overrides"]
    return jobs.assign(error=jobs["error"].fillna("").str.split("\n").str[0], overrides=overrides)


def aligned_curves(
    curves: pd.DataFrame, grid: np.ndarray, ends: pd.Series | None = None, column: str = "loss"
) -> pd.DataFrame:
    """Every (job, replicate) curve at the epochs of ``grid``: ``job, replicate, epoch`` and
    ``column`` (the loss, or a layer's gradient norm).

    loss.csv keeps thinned epochs, and each replicate's last one, so replicates are
    recorded at different epochs. Each grid epoch takes the value recorded at the last
    epoch at or before it. After a replicate stopped, that is its final value: a
    converged replicate keeps its parameters, so its loss (and gradient) stays there. A
    diverged replicate's last value is not finite: it is NaN from then on. Past ``ends``
    (job -> last epoch to show) the value is NaN too.
    """
    keys = curves[["job", "replicate"]].drop_duplicates()
    at = keys.merge(pd.DataFrame({"epoch": grid}), how="cross").sort_values("epoch")
    recorded = curves[["job", "replicate", "epoch", column]].sort_values("epoch")
    aligned = pd.merge_asof(at, recorded, on="epoch", by=["job", "replicate"])
    shown = np.isfinite(aligned[column])
    if ends is not None:
        shown &= aligned["epoch"] <= aligned["job"].map(ends)
    return aligned.assign(**{column: aligned[column].where(shown)})


def curve_bands(
    sweep: Sweep, field: str | None, curves: pd.DataFrame | None = None, column: str = "loss"
) -> pd.DataFrame:
    """Per panel, value of ``field`` and grid epoch: median, min and max of ``column`` of
    ``curves`` (default: the loss of ``sweep.curves``) over replicates (and every other
    swept field), up to the epoch where the series' last replicate stopped; columns
    panel, series, epoch, median, low, high."""
    curves = sweep.curves if curves is None else curves
    columns = ["panel", "series", "epoch", STATISTIC, "low", "high"]
    if curves.empty:
        return pd.DataFrame(columns=columns)
    labels = labels_of(sweep, field)
    series = ["panel", "series"]
    last = curves.merge(labels, on="job").groupby(series, observed=True)["epoch"].max()
    job_ends = labels.join(last.rename("end"), on=series).set_index("job")["end"]
    grid = schedule.recorded_epochs(int(last.max()), 0, GRID_POINTS, GRID_POINTS)
    aligned = aligned_curves(curves, np.union1d(grid, last), job_ends, column)
    aligned = aligned.dropna(subset=column).merge(labels, on="job")
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging curve may overflow: inf
        bands = aligned.groupby(["panel", "series", "epoch"], observed=True)[column].agg(
            **{STATISTIC: STATISTIC, "low": "min", "high": "max"}
        )
    return bands.reset_index()[columns]


def labels_of(sweep: Sweep, field: str | None, named: bool = True) -> pd.DataFrame:
    """job, panel (``dataset=xor`` where the dataset was swept) and series (``lr=0.1``, or
    ``0.1`` unless ``named``), as ordered categoricals: numbers in ascending order, names
    in the order the sweep ran them."""
    jobs = sweep.jobs
    panel = category(jobs, PANEL, with_name=True) if PANEL in sweep.swept else ""
    series = category(jobs, field, with_name=named) if field else "all runs"
    return pd.DataFrame({"job": jobs["job"], "panel": panel, "series": series})


def category(jobs: pd.DataFrame, field: str, with_name: bool) -> pd.Categorical:
    values = jobs[field]
    prefix = f"{short_name(field)}=" if with_name else ""
    labels = {v: f"{prefix}{text}" for v, text in value_labels(ordered_values(values)).items()}
    names = values.map(labels).fillna(f"{prefix}(unset)")
    categories = list(dict.fromkeys([*labels.values(), f"{prefix}(unset)"]))
    return pd.Categorical(names, categories=categories, ordered=True)


def replicate_points(sweep: Sweep, field: str) -> pd.DataFrame:
    """Complete replicates with panel and series labels, for the figures against a value."""
    return sweep.done.merge(labels_of(sweep, field, named=False), on="job")


def heat_table(sweep: Sweep, rows: str, columns: str, value: str) -> dict[str, pd.DataFrame]:
    """Per panel, the median of ``value`` over replicates, ``rows`` by ``columns``."""
    points = sweep.done.merge(labels_of(sweep, None)[["job", "panel"]], on="job")
    points = points.assign(
        **{
            rows: category(points, rows, with_name=False),
            columns: category(points, columns, with_name=False),
        }
    )
    tables = {
        str(panel): pd.pivot_table(
            part, values=value, index=rows, columns=columns, aggfunc=STATISTIC, observed=True
        )
        for panel, part in points.groupby("panel", observed=True)
    }
    for table in tables.values():
        table.index.name, table.columns.name = short_name(rows), short_name(columns)
    return tables


def diverged_counts(sweep: Sweep, field: str | None) -> pd.DataFrame:
    """Per panel and series: replicates, and how many of them diverged."""
    points = sweep.done.merge(labels_of(sweep, field), on="job")
    return points.groupby(["panel", "series"], observed=True).agg(
        replicates=("replicate", "count"), diverged=("diverged", "sum")
    )
