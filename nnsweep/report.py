"""Reading sweeps: job folders into two tidy tables, comparison figures and report.md.

:func:`load` takes one sweep folder, several, a single run, or any folder that
holds many of them, and finds every job folder below (one with result.json, or
with Hydra's ``.hydra/config.yaml`` but no result.json: a job that never
finished). It returns a :class:`Sweep` of two pandas DataFrames:

- ``runs``: one row per job and replicate. Every config field is a column with
  a dotted name (``lr``, ``dataset.name``, ``optimizer.beta``); then the
  replicate's ``final_loss``, ``final_accuracy``, ``epochs_run`` (the config's
  ``epochs`` is the cap), ``converged``, ``diverged``, ``seconds`` and
  ``replicate_seed``, the job's ``status`` (complete, failed, unfinished,
  unreadable), ``error``, ``overrides`` and ``job_dir``. A job that did not
  complete has one row, with no replicate.
- ``curves``: long format, one row per recorded epoch: ``job, replicate, epoch,
  loss, accuracy`` and the swept fields.

The swept fields (``Sweep.swept``, also ``runs.attrs["swept"]``) are the config
columns with more than one distinct value. :func:`write_report` writes
``runs.csv``, ``curves.csv``, the comparison figures and ``report.md``.
"""

import logging
import os
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnsweep import __version__, plots, records
from nnsweep.config import PRESENTATION_FIELDS

log = logging.getLogger(__name__)

REPORT_DIR = "report"  # written inside the sweep folder; never read back as a job
COMPLETE, UNFINISHED, UNREADABLE = "complete", "unfinished", "unreadable"
PANEL = "dataset.name"  # a swept dataset gives each figure one panel per dataset
POOLED = ("seed",)  # a swept seed is pooled with the replicates, never a colour of its own
# Never swept fields: what a job prints, and how many replicates (replicate r is the same
# network whatever their number, so jobs with 3 and with 5 replicates pool together).
NOT_SWEPT = (*PRESENTATION_FIELDS, "replicates")
MAX_HEAT_MAP_FIELDS = 3  # heat maps for every pair of up to 3 swept fields (3 pairs)
REPLICATE_TYPES = {
    "replicate": "Int64",
    "final_loss": "float64",
    "final_accuracy": "float64",
    "epochs_run": "Int64",
    "converged": "boolean",
    "diverged": "boolean",
    "seconds": "float64",
    "replicate_seed": "Int64",
}
CURVE_TYPES = {"replicate": "int64", "epoch": "int64", "loss": "float64", "accuracy": "float64"}
MAX_RUNS_IN_MARKDOWN = 200  # report.md lists every replicate up to this; runs.csv always


class NoRunsError(ValueError):
    """A folder with no job folder below it (or that does not exist)."""


@dataclass
class Sweep:
    """The runs and curves of every job found, and which config fields were swept."""

    runs: pd.DataFrame
    curves: pd.DataFrame
    swept: list[str]
    config_columns: list[str]
    sources: list[Path]

    @property
    def jobs(self) -> pd.DataFrame:
        """One row per job: its config, status and error."""
        return self.runs.drop_duplicates("job")

    @cached_property
    def aligned(self) -> pd.DataFrame:
        """The curves on one epoch grid (:func:`aligned_curves`), for every figure."""
        grid = epoch_grid(int(self.curves["epoch"].max()))
        caps = self.jobs.set_index("job")["epochs"] if "epochs" in self.jobs else None
        return aligned_curves(self.curves, grid, caps)

    @property
    def figure_fields(self) -> list[str]:
        """Swept fields that get their own figures: not the dataset (panels), not the seed."""
        return [f for f in self.swept if f != PANEL and f not in POOLED]


# ---------------------------------------------------------------- finding and reading jobs


def find_job_dirs(folder: Path) -> list[Path]:
    """Every job folder at or below ``folder``, in natural order (2 before 10)."""
    found = []
    for root, subdirs, _ in os.walk(folder):
        if records.is_job_dir(Path(root)):
            found.append(Path(root))
            subdirs.clear()  # a job's own subfolders (.hydra) hold no other job
        else:
            subdirs[:] = [d for d in subdirs if not d.startswith(".") and d != REPORT_DIR]
    return sorted(found, key=_natural_key)


def _natural_key(path: Path) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.parts)


def _job_dirs(dirs: Iterable[Path]) -> list[Path]:
    found: dict[Path, Path] = {}  # resolved path -> path as found: a job seen twice counts once
    for folder in dirs:
        if not folder.is_dir():
            raise NoRunsError(f"{folder}: no such folder")
        jobs = find_job_dirs(folder)
        if not jobs:
            raise NoRunsError(
                f"{folder}: no runs found (no folder with {records.RESULT_JSON} "
                f"or {records.HYDRA_CONFIG} at or below it)"
            )
        found.update((j.resolve(), j) for j in jobs if j.resolve() not in found)
    return list(found.values())


def _job_names(job_dirs: list[Path]) -> list[str]:
    """Each job's path relative to the folder all of them share (a lone job: its own name)."""
    root = Path(os.path.commonpath([p.resolve() for p in job_dirs]))
    if len(job_dirs) == 1:
        root = root.parent
    return [p.resolve().relative_to(root).as_posix() for p in job_dirs]


def read_job(job_dir: Path) -> dict[str, Any]:
    """One job's record: status, error, config, overrides, and replicates if complete."""
    try:
        result = records.read_result(job_dir)
    except FileNotFoundError:
        return _from_hydra(job_dir, UNFINISHED, None)
    except ValueError as error:  # invalid JSON (UnicodeDecodeError is a ValueError too)
        path = job_dir / records.RESULT_JSON
        log.warning(f"{path}: unreadable, the job is listed as {UNREADABLE} ({error})")
        return _from_hydra(job_dir, UNREADABLE, f"unreadable {records.RESULT_JSON}: {error}")
    status = result.get("status", UNREADABLE)
    return {
        "status": status,
        "error": result.get("error"),
        "config": result.get("config") or records.read_hydra_config(job_dir),
        "overrides": result.get("overrides", []),
        "replicates": result.get("replicates", []) if status == COMPLETE else [],
    }


def _from_hydra(job_dir: Path, status: str, error: str | None) -> dict[str, Any]:
    return {
        "status": status,
        "error": error,
        "config": records.read_hydra_config(job_dir),
        "overrides": records.read_hydra_overrides(job_dir),
        "replicates": [],
    }


# ---------------------------------------------------------------- the two tables


def load(dirs: Path | str | Iterable[Path | str]) -> Sweep:
    """Read every job at or below ``dirs``; raise NoRunsError if a folder holds none."""
    sources = [Path(dirs)] if isinstance(dirs, (str, Path)) else [Path(d) for d in dirs]
    if not sources:
        raise NoRunsError("no folder given")
    job_dirs = _job_dirs(sources)
    names = _job_names(job_dirs)
    jobs = [
        {"job": n, "job_dir": str(d), **read_job(d)} for n, d in zip(names, job_dirs, strict=True)
    ]
    config = _config_table(jobs)
    runs = _runs_table(jobs, config)
    swept = swept_fields(runs.drop_duplicates("job"), list(config.columns))
    runs.attrs["swept"] = swept
    curves = _curves_table(runs, swept)
    log.info(f"read {len(jobs)} jobs, {len(runs)} rows, {len(curves)} curve points")
    return Sweep(runs, curves, swept, list(config.columns), sources)


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
    replicates = replicates.rename(columns={"seed": "replicate_seed", "epochs": "epochs_run"})
    replicates = replicates.reindex(columns=["job", *REPLICATE_TYPES]).astype(REPLICATE_TYPES)
    # a job without replicates (failed, unfinished) keeps one row, its replicate columns empty
    runs = pd.concat([meta, config], axis=1).merge(replicates, on="job", how="left")
    first = ["job", "status", *REPLICATE_TYPES]  # replicate, final_loss, ...
    rest = [
        c for c in runs.columns if c not in first and c not in ("error", "overrides", "job_dir")
    ]
    return runs[[*first, *rest, "error", "overrides", "job_dir"]]


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
    tables = {job: _read_curves(Path(folder)) for job, folder in folders.items()}
    tables = {job: table for job, table in tables.items() if table is not None}
    if not tables:
        return pd.DataFrame(columns=["job", *records.LOSS_COLUMNS, *swept])
    curves = pd.concat(tables, names=["job", None])[records.LOSS_COLUMNS].astype(CURVE_TYPES)
    curves = curves.reset_index(level="job").reset_index(drop=True)
    curves = _drop_truncated(curves, runs)
    return curves.merge(complete[["job", *swept]], on="job", how="left")


def _read_curves(job_dir: Path) -> pd.DataFrame | None:
    """loss.csv, if it parses to numbers (whole numbers for replicate and epoch)."""
    try:
        table = records.read_loss_csv(job_dir)
        _check_types(table)
    except (OSError, ValueError) as error:  # pandas' parser and empty-data errors are ValueErrors
        _warn_damaged(job_dir, error)
        return None
    return table


def _check_types(table: pd.DataFrame) -> None:
    """Checked, not converted, file by file: one conversion of the concatenation is faster."""
    for column, dtype in CURVE_TYPES.items():
        wanted = "iu" if dtype == "int64" else "iuf"
        if table[column].dtype.kind not in wanted:
            raise ValueError(f"column {column!r} holds {table[column].dtype}, not {dtype} values")


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
        _warn_damaged(
            Path(runs.loc[runs["job"] == job, "job_dir"].iloc[0]),
            f"replicate {problem['replicate']} ends at epoch {problem['epoch']}, "
            f"result.json says {problem['epochs_run']} epochs",
        )
    return curves[~curves["job"].isin(both.loc[bad, "job"])].reset_index(drop=True)


def _warn_damaged(job_dir: Path, why: Any) -> None:
    log.warning(
        f"{job_dir / records.LOSS_CSV}: corrupt or truncated, "
        f"its learning curves are left out ({why})"
    )


# ---------------------------------------------------------------- aggregation


def summary_table(sweep: Sweep) -> pd.DataFrame:
    """One row per setting of the swept fields but the seed (complete jobs): replicates, converged,
    diverged, final loss median [min, max], final accuracy mean [min], epochs median."""
    keys = [f for f in sweep.swept if f not in POOLED]  # seeds pool with the replicates
    done = sweep.runs.loc[sweep.runs["status"] == COMPLETE]
    if not keys:
        done, keys = done.assign(setting="all runs"), ["setting"]
    table = done.groupby(keys, dropna=False, sort=False).agg(
        replicates=("replicate", "count"),
        converged=("converged", "sum"),
        diverged=("diverged", "sum"),
        final_loss_median=("final_loss", "median"),
        final_loss_min=("final_loss", "min"),
        final_loss_max=("final_loss", "max"),
        final_accuracy_mean=("final_accuracy", "mean"),
        final_accuracy_min=("final_accuracy", "min"),
        epochs_median=("epochs_run", "median"),
    )
    return table.reset_index()


def not_complete(sweep: Sweep) -> pd.DataFrame:
    """The jobs that failed or never finished: job, status, first line of the error."""
    jobs = sweep.jobs.loc[sweep.jobs["status"] != COMPLETE, ["job", "status", "error", "overrides"]]
    return jobs.assign(error=jobs["error"].fillna("").str.split("\n").str[0])


def epoch_grid(last_epoch: int, points: int = 200) -> np.ndarray:
    """Log-spaced (the early descent) and evenly spaced (the tail) epochs from 1 to the last."""
    grid = np.concatenate([np.geomspace(1, last_epoch, points), np.linspace(1, last_epoch, points)])
    return np.unique(np.rint(grid).astype(np.int64))


def aligned_curves(
    curves: pd.DataFrame, grid: np.ndarray, caps: pd.Series | None = None
) -> pd.DataFrame:
    """Every (job, replicate) curve at the epochs of ``grid``: ``job, replicate, epoch, loss``.

    loss.csv keeps thinned epochs, and each replicate's last one, so replicates are
    recorded at different epochs. Each grid epoch takes the loss recorded at the last
    epoch at or before it. After a replicate stopped, that is its final loss: a
    converged replicate keeps its parameters, so its loss stays there. A diverged
    replicate's last loss is not finite: it is NaN from then on, and so leaves the
    means. Past a job's epoch cap (``caps``: job -> cap, where jobs of several caps are
    pooled) nothing was measured: NaN too.
    """
    keys = curves[["job", "replicate"]].drop_duplicates()
    at = keys.merge(pd.DataFrame({"epoch": grid}), how="cross").sort_values("epoch")
    recorded = curves[["job", "replicate", "epoch", "loss"]].sort_values("epoch")
    aligned = pd.merge_asof(at, recorded, on="epoch", by=["job", "replicate"])
    measured = np.isfinite(aligned["loss"])
    if caps is not None:
        measured &= aligned["epoch"] <= aligned["job"].map(caps)
    return aligned.assign(loss=aligned["loss"].where(measured))


def curve_bands(sweep: Sweep, field: str | None) -> pd.DataFrame:
    """Per panel, value of ``field`` and grid epoch: mean, min and max of the loss over
    replicates (and every other swept field); columns panel, series, epoch, mean, low, high."""
    if sweep.curves.empty:
        return pd.DataFrame(columns=["panel", "series", "epoch", "mean", "low", "high"])
    aligned = sweep.aligned.merge(_labels(sweep, field), on="job")
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging mean may overflow: inf
        bands = aligned.groupby(["panel", "series", "epoch"], observed=True)["loss"].agg(
            mean="mean", low="min", high="max"
        )
    return bands.reset_index()


def _labels(sweep: Sweep, field: str | None, named: bool = True) -> pd.DataFrame:
    """job, panel (``dataset=xor`` where the dataset was swept) and series (``lr=0.1``, or
    ``0.1`` unless ``named``), as ordered categoricals: numbers in ascending order, names
    in the order the sweep ran them."""
    jobs = sweep.jobs
    panel = _category(jobs, PANEL, with_name=True) if PANEL in sweep.swept else ""
    series = _category(jobs, field, with_name=named) if field else "all runs"
    return pd.DataFrame({"job": jobs["job"], "panel": panel, "series": series})


def ordered_values(values: pd.Series) -> list[Any]:
    """Distinct values: numbers ascending, anything else in the order the sweep ran them."""
    order = values.dropna().unique()  # order of first appearance
    return list(np.sort(order) if pd.api.types.is_numeric_dtype(values) else order)


def _category(jobs: pd.DataFrame, field: str, with_name: bool) -> pd.Categorical:
    values = jobs[field]
    prefix = f"{short_name(field)}=" if with_name else ""
    labels = {v: f"{prefix}{format_value(v)}" for v in ordered_values(values)}
    names = values.map(labels).fillna(f"{prefix}(unset)")
    categories = list(dict.fromkeys([*labels.values(), f"{prefix}(unset)"]))
    return pd.Categorical(names, categories=categories, ordered=True)


def replicate_points(sweep: Sweep, field: str) -> pd.DataFrame:
    """Complete replicates with panel and series labels, for the figures against a value."""
    done = sweep.runs.loc[sweep.runs["status"] == COMPLETE]
    return done.merge(_labels(sweep, field, named=False), on="job")


def heat_table(sweep: Sweep, rows: str, columns: str, value: str) -> dict[str, pd.DataFrame]:
    """Per panel, the median of ``value`` over replicates, ``rows`` by ``columns``."""
    points = sweep.runs.loc[sweep.runs["status"] == COMPLETE]
    points = points.merge(_labels(sweep, None)[["job", "panel"]], on="job")
    points = points.assign(
        **{
            rows: _category(points, rows, with_name=False),
            columns: _category(points, columns, with_name=False),
        }
    )
    tables = {
        str(panel): pd.pivot_table(
            part, values=value, index=rows, columns=columns, aggfunc="median", observed=True
        )
        for panel, part in points.groupby("panel", observed=True)
    }
    for table in tables.values():
        table.index.name, table.columns.name = short_name(rows), short_name(columns)
    return tables


def short_name(field: str) -> str:
    """``optimizer.name`` is shown as ``optimizer``; other fields keep their dotted name."""
    return field.removesuffix(".name")


def format_value(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)


def fixed_settings(sweep: Sweep) -> dict[str, Any]:
    """Config fields with one value over every job (fields of a swept group left out)."""
    swept_groups = {f.rpartition(".")[0] for f in sweep.swept if f.endswith(".name")}
    fixed = {}
    for column in sweep.config_columns:
        group = column.rpartition(".")[0]
        if column in sweep.swept or column in PRESENTATION_FIELDS or group in swept_groups:
            continue
        values = sweep.jobs[column].dropna().unique()
        if len(values) == 1:
            fixed[short_name(column)] = values[0]
    return fixed


def fixed_text(sweep: Sweep, width: int = 110, lead: str = "held fixed") -> str:
    settings = ", ".join(f"{k}={format_value(v)}" for k, v in fixed_settings(sweep).items())
    return textwrap.fill(f"{lead}: {settings or 'nothing'}", width)


# ---------------------------------------------------------------- figures


def write_figures(sweep: Sweep, out_dir: Path) -> list[Path]:
    """Learning curves and values against each swept field; heat maps for each pair."""
    fields = sweep.figure_fields
    written = [_curves_figure(sweep, f, out_dir) for f in fields or [None]]
    summary_fields = fields or ([PANEL] if PANEL in sweep.swept else [])
    written += [_summary_figure(sweep, f, out_dir) for f in summary_fields]
    if len(fields) > MAX_HEAT_MAP_FIELDS:
        log.info(f"{len(fields)} swept fields: no heat maps (drawn for 2 to 3 fields)")
        fields = []
    for i, rows in enumerate(fields):
        for columns in fields[i + 1 :]:
            written += _heat_maps(sweep, rows, columns, out_dir)
    return [p for p in written if p is not None]


def _curves_figure(sweep: Sweep, field: str | None, out_dir: Path) -> Path | None:
    bands = curve_bands(sweep, field)
    if bands.empty:
        return None
    what = f"by {short_name(field)}" if field else "of every run"
    fig = plots.comparison_curves_figure(
        bands,
        title=f"Learning curves {what}\n{_context(sweep, field)}",
        legend_title=f"line: mean, band: min–max\nover {_pooled_over(sweep, field)}",
        diverged=_diverged_counts(sweep, field),
        sequential=field is not None and pd.api.types.is_numeric_dtype(sweep.jobs[field]),
    )
    return plots.save(fig, out_dir / f"curves_{_file_part(field or 'all')}.png")


def _summary_figure(sweep: Sweep, field: str, out_dir: Path) -> Path | None:
    points = replicate_points(sweep, field)
    if points.empty:
        return None
    fig = plots.comparison_summary_figure(
        points,
        xlabel=short_name(field),
        threshold=fixed_settings(sweep).get("loss_threshold"),
        title=f"Final accuracy and epochs by {short_name(field)}\n{_context(sweep, field)}",
    )
    return plots.save(fig, out_dir / f"summary_{_file_part(field)}.png")


def _heat_maps(sweep: Sweep, rows: str, columns: str, out_dir: Path) -> list[Path]:
    written = []
    cap = fixed_settings(sweep).get("epochs")
    quantities = {
        "final_loss": "median final loss",
        "epochs_run": "median epochs run" + (f" (cap {cap})" if cap else ""),
    }
    for value, label in quantities.items():
        tables = heat_table(sweep, rows, columns, value)
        if not tables:
            continue
        pair = f"{short_name(rows)} × {short_name(columns)}"
        spread = sweep.runs[value].where(sweep.runs[value] > 0)
        fig = plots.heatmap_figure(
            tables,
            label=f"{label} over {_pooled_over(sweep, rows, columns)}",
            log=value == "final_loss" or spread.max() > 20 * spread.min(),
            title=f"{label.capitalize()}: {pair}\n{_context(sweep, rows, columns)}",
        )
        name = f"heatmap_{value}_{_file_part(rows)}_{_file_part(columns)}.png"
        written.append(plots.save(fig, out_dir / name))
    return written


def _pooled(sweep: Sweep, shown: Sequence[str | None]) -> list[str]:
    """Swept fields a figure showing ``shown`` pools (the dataset has its panels)."""
    return [short_name(f) for f in sweep.swept if f not in shown and f != PANEL]


def _context(sweep: Sweep, *shown: str | None) -> str:
    """The title's second part: what was held fixed, and swept fields pooled in the figure."""
    text = fixed_text(sweep)
    if _pooled(sweep, shown):
        text += "\npooled over: " + ", ".join(_pooled(sweep, shown))
    return text


def _pooled_over(sweep: Sweep, *shown: str | None) -> str:
    """What a mean or band is taken over: ``3 replicates and every lr, seed``."""
    replicates = sweep.jobs["replicates"] if "replicates" in sweep.jobs else pd.Series([1])
    counts = replicates.dropna().unique()
    what = f"{format_value(counts[0])} replicates" if len(counts) == 1 else "replicates"
    if _pooled(sweep, shown):
        what += " and every " + ", ".join(_pooled(sweep, shown))
    return what


def _diverged_counts(sweep: Sweep, field: str | None) -> pd.DataFrame:
    """Per panel and series: replicates, and how many of them diverged."""
    points = sweep.runs.loc[sweep.runs["status"] == COMPLETE].merge(_labels(sweep, field), on="job")
    return points.groupby(["panel", "series"], observed=True).agg(
        replicates=("replicate", "count"), diverged=("diverged", "sum")
    )


def _file_part(field: str) -> str:
    return re.sub(r"[^\w.-]", "_", short_name(field))


# ---------------------------------------------------------------- writing the report


def write_report(
    dirs: Path | str | Iterable[Path | str], out_dir: Path | str | None = None, figures: bool = True
) -> Path:
    """Load ``dirs`` and write runs.csv, curves.csv, the figures and report.md into
    ``out_dir`` (default: ``<dir>/report``; required when several folders are given).
    Returns the path of report.md."""
    sweep = load(dirs)
    if out_dir is None:
        if len(sweep.sources) > 1:
            raise ValueError("several folders given: say where the report goes (out_dir)")
        out_dir = sweep.sources[0] / REPORT_DIR
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_tables(sweep, out_dir)
    written = write_figures(sweep, out_dir) if figures else []
    path = out_dir / "report.md"
    with records.atomic_path(path) as tmp:
        tmp.write_text(markdown_report(sweep, written))
    log.info(f"report written: {path}")
    return path


def write_tables(sweep: Sweep, out_dir: Path) -> list[Path]:
    paths = []
    for name, table in {"runs.csv": sweep.runs, "curves.csv": sweep.curves}.items():
        with records.atomic_path(out_dir / name) as tmp:
            table.to_csv(tmp, index=False, float_format="%.8g")
        paths.append(out_dir / name)
    return paths


def markdown_report(sweep: Sweep, figures: Sequence[Path]) -> str:
    """report.md: what was read, the summary table, jobs that did not complete, figures."""
    parts = [_md_header(sweep), "## Summary", _md_summary(sweep)]
    failed = not_complete(sweep)
    if not failed.empty:
        parts += ["## Jobs that did not complete", markdown_table(failed)]
    if figures:
        parts += ["## Figures", *(f"![{p.stem}]({p.name})" for p in figures)]
    parts += ["## Every replicate", _md_runs(sweep)]
    return "\n\n".join(parts) + "\n"


def _md_header(sweep: Sweep) -> str:
    counts = sweep.jobs["status"].value_counts()
    status = ", ".join(f"{n} {s}" for s, n in counts.items())
    swept = "; ".join(
        f"`{short_name(f)}` ({', '.join(map(format_value, ordered_values(sweep.jobs[f])))})"
        for f in sweep.swept
    )
    lines = [
        "# nnsweep report",
        f"Read from: {', '.join(f'`{s}`' for s in sweep.sources)} (nnsweep {__version__}).",
        f"{_count(len(sweep.jobs), 'job')} ({status}); "
        f"{_count(sweep.runs['replicate'].count(), 'replicate')}.",
        f"Swept: {swept or 'nothing'}.",
        f"{fixed_text(sweep, width=10_000, lead='Held fixed')}.",
    ]
    return "\n\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _md_summary(sweep: Sweep) -> str:
    return (
        "Per setting of the swept fields, over its complete replicates: final loss median "
        "[min, max], final accuracy mean [min], epochs run median.\n\n"
        + markdown_table(summary_table(sweep))
    )


def _md_runs(sweep: Sweep) -> str:
    text = (
        "`runs.csv`: one row per job and replicate. `curves.csv`: one row per recorded epoch. "
        'Read them with `pd.read_csv("runs.csv")`.'
    )
    if len(sweep.runs) > MAX_RUNS_IN_MARKDOWN:
        return text + f" ({len(sweep.runs)} rows: too many to list here.)"
    columns = ["job", "replicate", *sweep.swept, "final_loss", "final_accuracy", "epochs_run"]
    columns += ["converged", "diverged", "status"]
    return text + "\n\n" + markdown_table(sweep.runs[columns])


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub markdown table; numbers right-aligned, floats to 4 significant digits."""
    numeric = [_is_number(frame[c]) for c in frame.columns]
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
    rows = ["| " + " | ".join(map(_cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")
