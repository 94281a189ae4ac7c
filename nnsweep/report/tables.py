"""Job folders into tidy tables, and which config fields were swept.

:func:`load` takes one sweep folder, several, a single run, or any folder that holds
many of them, and returns a :class:`Sweep` of pandas DataFrames:

- ``runs``: one row per job and replicate. Every config field is a column with a dotted
  name (``lr``, ``dataset.name``, ``optimizer.beta``); then the replicate's
  ``final_loss``, ``final_accuracy``, ``epochs_run`` (the config's ``epochs`` is the
  cap), ``converged``, ``diverged``, ``seconds`` and ``replicate_seed``, the job's
  ``status`` (complete, failed, running, interrupted, damaged, unreadable, unfinished,
  never started: nnsweep.report.jobs), ``error``, ``overrides`` and
  ``job_dir``. A job that did not complete has one row, with no replicate.
- ``curves``: long format, one row per recorded epoch: ``job, replicate, epoch, loss,
  accuracy`` and the swept fields.

Jobs that held out test points (``dataset.test_n`` > 0) add ``final_test_loss`` and
``final_test_accuracy`` to ``runs`` and ``test_loss, test_accuracy`` to ``curves``; where
no job did, the tables have no such columns. ``layers`` holds the gradient reaching
layer 1 (:mod:`nnsweep.report.layers`), empty where no job wrote layers.csv.

The swept fields (``Sweep.swept``, also ``runs.attrs["swept"]``) are the config columns
with more than one distinct value over the complete jobs: a failed or refused job
neither adds a swept value nor makes a field look held fixed.
"""

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pandas as pd

from nnsweep.job import csv_tables
from nnsweep.job.result_json import CONFUSION_KEYS, HELD_OUT_KEYS, ReplicateResult
from nnsweep.job.schema import PRESENTATION_FIELDS
from nnsweep.report.jobs import (
    COMPLETE,
    CURVE_TYPES,
    NEVER_STARTED,
    NoRunsError,
    job_dirs,
    job_names,
    never_started,
    read_curves,
    read_job,
    warn_damaged,
)
from nnsweep.report.layers import COLUMNS as LAYERS_COLUMNS
from nnsweep.report.layers import first_layer_table

log = logging.getLogger(__name__)

PANEL = "dataset.name"  # a swept dataset gives each figure one panel per dataset
POOLED = ("seed",)  # a swept seed is pooled with the replicates, never a colour of its own
# Never swept fields: what a job prints, and how many replicates (replicate r is the same
# network whatever their number, so jobs with 3 and with 5 replicates pool together).
NOT_SWEPT = (*PRESENTATION_FIELDS, "replicates")
# result.json's replicate keys as runs.csv names them (the config has its own seed, epochs)
RENAMED = {"seed": "replicate_seed", "epochs": "epochs_run"}
# pandas' nullable types: a job without replicates has an empty row
DTYPES = {int: "Int64", float: "float64", bool: "boolean"}


def _column_types(typed_dict: type) -> dict[str, str]:
    # the confusion matrices stay in result.json: a table of K x K, not a column
    hints = {k: v for k, v in get_type_hints(typed_dict).items() if k not in CONFUSION_KEYS}
    types = {
        RENAMED.get(k, k): DTYPES[next(t for t in DTYPES if t in (v, *get_args(v)))]
        for k, v in hints.items()
    }
    return types


HELD_OUT_TYPES = {k: v for k, v in _column_types(ReplicateResult).items() if k in HELD_OUT_KEYS}
# runs.csv's replicate columns: result.json's, its seed last as runs.csv always had it
REPLICATE_TYPES = {
    k: v for k, v in _column_types(ReplicateResult).items() if k not in HELD_OUT_TYPES
}
REPLICATE_TYPES["replicate_seed"] = REPLICATE_TYPES.pop("replicate_seed")


@dataclass
class Sweep:
    """The runs and curves of every job found, and which config fields were swept."""

    runs: pd.DataFrame
    curves: pd.DataFrame
    swept: list[str]
    config_columns: list[str]
    sources: list[Path]
    layers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LAYERS_COLUMNS))

    @property
    def jobs(self) -> pd.DataFrame:
        """One row per job: its config, status and error."""
        return self.runs.drop_duplicates("job")

    @property
    def done(self) -> pd.DataFrame:
        """The rows of complete jobs, one per replicate."""
        return self.runs.loc[self.runs["status"] == COMPLETE]

    @property
    def figure_fields(self) -> list[str]:
        """Swept fields that get their own figures: not the dataset (panels), not the seed."""
        return [f for f in self.swept if f != PANEL and f not in POOLED]


def load(dirs: Path | str | Iterable[Path | str]) -> Sweep:
    """Read every job at or below ``dirs``; raise NoRunsError if a folder holds none."""
    sources = [Path(dirs)] if isinstance(dirs, (str, Path)) else [Path(d) for d in dirs]
    if not sources:
        raise NoRunsError("no folder given")
    found = job_dirs(sources)
    missing = never_started({*sources, *(d.parent for d in found)})
    jobs = [
        {"job": n, "job_dir": str(d), **(_not_started(missing[d]) if d in missing else read_job(d))}
        for n, d in zip(job_names([*found, *missing]), [*found, *missing], strict=True)
    ]
    config = _config_table(jobs)
    _check_same_classes(config)
    runs = _runs_table(jobs, config)
    swept = swept_fields(judged_jobs(runs), list(config.columns))
    runs.attrs["swept"] = swept
    curves = _curves_table(runs, swept)
    layers = first_layer_table(runs)
    log.info(
        f"read {len(jobs)} jobs, {len(runs)} rows, {len(curves)} curve points, "
        f"{len(layers)} layer-1 gradient points"
    )
    return Sweep(runs, curves, swept, list(config.columns), sources, layers)


class MixedClasses(ValueError):
    """Jobs that tell different numbers of classes apart: reported apart, never together."""


def _check_same_classes(config: pd.DataFrame) -> None:
    if "dataset.classes" not in config:
        return
    counts = sorted(set(config["dataset.classes"].fillna(2).astype(int)))  # no field: 2
    if len(counts) > 1:
        raise MixedClasses(
            f"the jobs found tell {', '.join(map(str, counts))} classes apart; report each "
            "dataset.classes on its own (one folder each, or --out per K)"
        )


def _not_started(overrides: list[str]) -> dict[str, Any]:
    error = "the sweep ended before this job started"
    return {
        "status": NEVER_STARTED,
        "error": error,
        "config": {},
        "overrides": overrides,
        "replicates": [],
    }


def judged_jobs(runs: pd.DataFrame) -> pd.DataFrame:
    """The jobs that decide what was swept and held fixed: the complete ones, if any."""
    jobs = runs.drop_duplicates("job")
    complete = jobs[jobs["status"] == COMPLETE]
    return complete if len(complete) else jobs


def _config_table(jobs: list[dict[str, Any]]) -> pd.DataFrame:
    """Every config field of every job in its own column, dotted names (``optimizer.beta``)."""
    configs = [j["config"] for j in jobs]
    config = pd.json_normalize(configs, sep=".")
    # in the order of the config file (json_normalize puts nested fields last)
    order = dict.fromkeys(key for c in configs for key in _dotted_keys(c))
    config = config[[k for k in order if k in config.columns]]
    # a list value (none today) would make the column unhashable for nunique and groupby
    return config.map(lambda v: tuple(v) if isinstance(v, list) else v)


def _dotted_keys(config: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in config.items():
        if isinstance(value, dict) and value:
            yield from _dotted_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _runs_table(jobs: list[dict[str, Any]], config: pd.DataFrame) -> pd.DataFrame:
    meta = pd.DataFrame(
        {
            "job": [j["job"] for j in jobs],
            "status": [j["status"] for j in jobs],
            "error": [j["error"] for j in jobs],
            "overrides": [" ".join(j["overrides"]) for j in jobs],
            "job_dir": [j["job_dir"] for j in jobs],
        }
    )
    replicates = pd.json_normalize(jobs, record_path="replicates", meta=["job"])
    replicates = replicates.rename(columns=RENAMED)
    # held-out results only where some job has them: without, runs.csv is as before
    types = {**REPLICATE_TYPES, **{k: v for k, v in HELD_OUT_TYPES.items() if k in replicates}}
    replicates = replicates.reindex(columns=["job", *types]).astype(types)
    # a job without replicates (failed, unfinished) keeps one row, its replicate columns empty
    runs = pd.concat([meta, config], axis=1).merge(replicates, on="job", how="left")
    first = ["job", "status", *_beside_accuracy(list(types))]  # replicate, final_loss, ...
    last = ["error", "overrides", "job_dir"]
    rest = [c for c in runs.columns if c not in first and c not in last]
    return runs[[*first, *rest, *last]]


def _beside_accuracy(columns: list[str]) -> list[str]:
    """``final_test_loss`` and ``final_test_accuracy`` just after ``final_accuracy``."""
    held_out = [c for c in columns if c in HELD_OUT_TYPES]
    rest = [c for c in columns if c not in HELD_OUT_TYPES]
    at = rest.index("final_accuracy") + 1
    return [*rest[:at], *held_out, *rest[at:]]


def swept_fields(jobs: pd.DataFrame, config_columns: Sequence[str]) -> list[str]:
    """Config columns with more than one distinct value over ``jobs`` (one row per job),
    but those of ``NOT_SWEPT`` (what a job prints, the number of replicates).

    A field of a config group (``dataset.n``, ``optimizer.beta``) counts only if it
    varies within one option of its group: ``dataset=linear,circle`` changes
    ``dataset.n`` from 100 to 200 with the dataset, which is not a sweep of ``n``.
    """
    return [c for c in config_columns if c not in NOT_SWEPT and _varies(jobs, c)]


def _varies(jobs: pd.DataFrame, column: str) -> bool:
    group = column.rpartition(".")[0]
    option = f"{group}.name"
    if not group or column == option or option not in jobs:
        return jobs[column].nunique() > 1
    return bool((jobs.groupby(option)[column].nunique() > 1).any())


def _curves_table(runs: pd.DataFrame, swept: list[str]) -> pd.DataFrame:
    """The loss.csv rows of every complete job, with its swept fields; damaged files left out."""
    complete = runs.loc[runs["status"] == COMPLETE].drop_duplicates("job")
    folders = dict(zip(complete["job"], complete["job_dir"], strict=True))
    tables = {job: read_curves(Path(folder)) for job, folder in folders.items()}
    tables = {job: table for job, table in tables.items() if table is not None}
    if not tables:
        return pd.DataFrame(columns=["job", *csv_tables.LOSS_COLUMNS, *swept])
    curves = pd.concat(tables, names=["job", None])
    columns = [*csv_tables.LOSS_COLUMNS, *(c for c in csv_tables.TEST_COLUMNS if c in curves)]
    curves = curves[columns].astype({c: CURVE_TYPES.get(c, "float64") for c in columns})
    curves = curves.reset_index(level="job").reset_index(drop=True)
    curves = _drop_truncated(curves, runs)
    return curves.merge(complete[["job", *swept]], on="job", how="left")


def _drop_truncated(curves: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Leave out jobs whose loss.csv does not end, for every replicate, at the epoch that
    result.json gives, with its final accuracy: a file cut short somewhere."""
    last = curves.loc[curves.groupby(["job", "replicate"])["epoch"].idxmax()]
    expected = runs.loc[runs["job"].isin(curves["job"]), ["job", "replicate", "epochs_run"]]
    expected = expected.dropna(subset="replicate").astype({"replicate": "int64"})
    both = expected.merge(last, on=["job", "replicate"], how="outer")
    bad = (both["epoch"] != both["epochs_run"]).fillna(True) | both["accuracy"].isna()
    for job, rows in both[bad].groupby("job"):
        problem = rows.iloc[0]
        warn_damaged(
            Path(runs.loc[runs["job"] == job, "job_dir"].iloc[0]),
            f"replicate {problem['replicate']} ends at epoch {problem['epoch']}, "
            f"result.json says {problem['epochs_run']} epochs",
        )
    return curves[~curves["job"].isin(both.loc[bad, "job"])].reset_index(drop=True)
