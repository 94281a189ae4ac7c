"""Finding job folders and reading each one: its status, config and replicates, and its
loss.csv when the file is whole.

A job folder holds result.json, or Hydra's ``.hydra/config.yaml`` but no result.json (a
job that never finished). The report's own folder and hidden folders are never searched;
links to job folders are followed (a job reused from another sweep, as
scripts/discussion.py does, counts once per folder that names it).
"""

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from nnsweep import records

log = logging.getLogger(__name__)

REPORT_DIR = "report"  # written inside the sweep folder; never read back as a job
COMPLETE, UNFINISHED, UNREADABLE = "complete", "unfinished", "unreadable"
CURVE_TYPES = {"replicate": "int64", "epoch": "int64", "loss": "float64", "accuracy": "float64"}


class NoRunsError(ValueError):
    """A folder with no job folder below it (or that does not exist)."""


def find_job_dirs(folder: Path) -> list[Path]:
    """Every job folder at or below ``folder``, in natural order (2 before 10)."""
    found = []
    for root, subdirs, _ in os.walk(folder, followlinks=True):
        if records.is_job_dir(Path(root)):
            found.append(Path(root))
            subdirs.clear()  # a job's own subfolders (.hydra) hold no other job
        else:
            subdirs[:] = [d for d in subdirs if not d.startswith(".") and d != REPORT_DIR]
    return sorted(found, key=_natural_key)


def _natural_key(path: Path) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.parts)


def job_dirs(folders: Iterable[Path]) -> list[Path]:
    """The job folders of every folder given, each once; NoRunsError for a folder without."""
    found: dict[Path, Path] = {}  # absolute path -> path as found: a job seen twice counts once
    for folder in folders:
        if not folder.is_dir():
            raise NoRunsError(f"{folder}: no such folder")
        jobs = find_job_dirs(folder)
        if not jobs:
            raise NoRunsError(
                f"{folder}: no runs found (no folder with {records.RESULT_JSON} "
                f"or {records.HYDRA_CONFIG} at or below it)"
            )
        found.update((j.absolute(), j) for j in jobs if j.absolute() not in found)
    return list(found.values())


def job_names(dirs: list[Path]) -> list[str]:
    """Each job's path relative to the folder all of them share (a lone job: its own name)."""
    absolute = [p.absolute() for p in dirs]
    root = Path(os.path.commonpath(absolute))
    if len(dirs) == 1:
        root = root.parent
    return [p.relative_to(root).as_posix() for p in absolute]


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


def read_curves(job_dir: Path) -> pd.DataFrame | None:
    """loss.csv, if it parses to numbers (whole numbers for replicate and epoch)."""
    try:
        table = records.read_loss_csv(job_dir)
        _check_types(table)
    except (OSError, ValueError) as error:  # pandas' parser and empty-data errors are ValueErrors
        warn_damaged(job_dir, error)
        return None
    return table


def _check_types(table: pd.DataFrame) -> None:
    """Checked, not converted, file by file: one conversion of the concatenation is faster."""
    for column, dtype in CURVE_TYPES.items():
        wanted = "iu" if dtype == "int64" else "iuf"
        if table[column].dtype.kind not in wanted:
            raise ValueError(f"column {column!r} holds {table[column].dtype}, not {dtype} values")


def warn_damaged(job_dir: Path, why: Any) -> None:
    log.warning(
        f"{job_dir / records.LOSS_CSV}: corrupt or truncated, "
        f"its learning curves are left out ({why})"
    )
