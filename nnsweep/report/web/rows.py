"""The page's runs table and each job's view, from the sweep's tables.

One row per job: its swept fields, status, and the numbers report.md's table of settings
gives (:func:`~nnsweep.report.aggregate.setting_table`, here with the job as the
setting), or one row per replicate: runs.csv's own rows. Each job's folder and figures
are linked by paths relative to the page, never copied: a 1,000-job sweep's page stays
one page.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from nnsweep.job.schema import FIGURE_FILES
from nnsweep.report.aggregate import STATISTIC, setting_table
from nnsweep.report.markdown import HELD_OUT_COLUMNS, SUMMARY_COLUMNS
from nnsweep.report.tables import Sweep
from nnsweep.report.text import short_name

NAMES = SUMMARY_COLUMNS | HELD_OUT_COLUMNS  # report.md's names for setting_table's columns
# per job, the medians over its replicates (its min and max are the replicate rows)
JOB_OUTCOMES = {c: name for c, name in NAMES.items() if not c.endswith(("_min", "_max"))}
# runs.csv's replicate columns shown per replicate
REPLICATE_OUTCOMES = [
    "replicate",
    "final_loss",
    "final_accuracy",
    "final_test_accuracy",
    "epochs_run",
    "converged",
    "diverged",
]
JOB_FIGURES = ("prediction", "learning_curve", "boundary")  # what a job's view shows


def table_data(sweep: Sweep, out_dir: Path) -> dict[str, Any]:
    """Both views of the runs table: ``jobs`` and ``replicates``, each ``columns`` (key,
    label, format) and ``rows`` (lists of values, None where missing); and ``views``,
    each job's name, folder, figures, status, overrides and error."""
    folders = {
        job: _href(Path(folder), out_dir)
        for job, folder in zip(sweep.jobs["job"], sweep.jobs["job_dir"], strict=True)
    }
    return {
        "jobs": _table(_job_rows(sweep), folders),
        "replicates": _table(_replicate_rows(sweep), folders),
        "views": [_view(row, folders[row["job"]]) for _, row in sweep.jobs.iterrows()],
    }


def _job_rows(sweep: Sweep) -> pd.DataFrame:
    """One row per job: its swept fields and status, then setting_table's numbers (empty
    for a job that did not complete)."""
    per_job = setting_table(sweep.done, ["job"]) if len(sweep.done) else pd.DataFrame()
    shown = [c for c in JOB_OUTCOMES if c in per_job]
    jobs = sweep.jobs[["job", *sweep.swept, "status"]]
    if per_job.empty:
        return jobs
    table = jobs.merge(per_job[["job", *shown]], on="job", how="left")
    table = table[["job", *sweep.swept, *shown, "status"]]  # the outcomes first: a phone's view
    return table.rename(columns={c: JOB_OUTCOMES[c] for c in shown})


def _replicate_rows(sweep: Sweep) -> pd.DataFrame:
    outcomes = [c for c in REPLICATE_OUTCOMES if c in sweep.runs]
    return sweep.runs[["job", *sweep.swept, *outcomes, "status"]]


def _table(frame: pd.DataFrame, folders: dict[str, str]) -> dict[str, Any]:
    columns = [
        {"key": c, "label": short_name(c), "format": _format(frame[c], c)} for c in frame.columns
    ]
    columns.append({"key": "folder", "label": "folder", "format": "link"})
    values = frame.astype(object).where(frame.notna(), None)
    rows = [[*map(_plain, row), folders[row[0]]] for row in values.itertuples(index=False)]
    return {"columns": columns, "rows": rows}


def _format(column: pd.Series, name: str) -> str:
    """How the page writes a column: ``int`` with commas, ``g4`` (4 significant digits, as
    report.md), ``bool`` (yes/no) or ``text``; sorted as numbers unless text."""
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if not pd.api.types.is_numeric_dtype(column) or name == "job":
        return "text"
    whole = pd.api.types.is_integer_dtype(column) or name == NAMES[f"epochs_{STATISTIC}"]
    return "int" if whole else "g4"


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python's, a tuple (a list in the config) as text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return str(list(value))
    return value.item() if hasattr(value, "item") else value


def _href(folder: Path, out_dir: Path) -> str:
    """``folder`` relative to the page, as a URL path ending in ``/``."""
    relative = Path(os.path.relpath(folder.absolute(), Path(out_dir).absolute()))
    return "/".join(quote(part) for part in relative.parts) + "/"


def _view(job: pd.Series, folder: str) -> dict[str, Any]:
    """One job's view: the figures its folder holds, linked from the page."""
    figures = [
        [name.replace("_", " "), folder + quote(FIGURE_FILES[name])]
        for name in JOB_FIGURES
        if (Path(job["job_dir"]) / FIGURE_FILES[name]).is_file()
    ]
    error = job["error"] if isinstance(job["error"], str) else ""
    return {
        "job": job["job"],
        "folder": folder,
        "status": job["status"],
        "overrides": job["overrides"],
        "error": error.split("\n")[0],
        "figures": figures,
    }
