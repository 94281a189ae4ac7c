"""Finding job folders and reading each one: its status, config and replicates, and its
loss.csv when the file is whole.

A job folder holds result.json, or Hydra's ``.hydra/config.yaml`` of an nnsweep config
but no result.json (a job that never finished). The report's own folder and hidden
folders are never searched; links to job folders are followed (a job reused from another
sweep, as scripts/discussion.py does, counts once per folder that names it). A sweep's
jobs that never started are found in its job list, Hydra's ``multirun.yaml``.

A job's status is result.json's (complete, failed, running), or: ``interrupted``, a
running job whose process is gone; ``damaged``, a result.json of the wrong shape or data
files that differ from its checksums; ``unreadable``, not JSON; ``unfinished``, no
result.json; ``never started``, in the job list without a folder.
"""

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from nnsweep.job import csv_tables, hydra_files, result_json
from nnsweep.job import lock as job_lock
from nnsweep.job.result_json import JobStatus

log = logging.getLogger(__name__)

REPORT_DIR = "report"  # written inside the sweep folder; never read back as a job
COMPLETE = JobStatus.COMPLETE.value  # the other statuses a job records: JobStatus
# what the report finds besides them
UNFINISHED, UNREADABLE = "unfinished", "unreadable"
INTERRUPTED, DAMAGED, NEVER_STARTED = "interrupted", "damaged", "never started"
MULTIRUN_YAML = "multirun.yaml"  # Hydra's record of a sweep: its config and overrides
MULTIRUN_RECORDS = "multirun-*.yaml"  # the earlier sweeps' into the same folder (kept by nnsweep)
CURVE_TYPES = {"replicate": "int64", "epoch": "int64", "loss": "float64", "accuracy": "float64"}


class NoRunsError(ValueError):
    """A folder with no job folder below it (or that does not exist)."""


def find_job_dirs(folder: Path) -> list[Path]:
    """Every job folder at or below ``folder``, in natural order (2 before 10). Symbolic
    links are followed (sweeps linked into one folder report together), but each real
    folder is read once: a link back up the tree is not a loop of jobs."""
    found, seen = [], set()
    for root, subdirs, _ in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            subdirs.clear()
            continue
        seen.add(real)
        if hydra_files.is_job_dir(Path(root)):
            found.append(Path(root))
            subdirs.clear()  # a job's own subfolders (.hydra) hold no other job
        else:
            subdirs[:] = [d for d in subdirs if not d.startswith(".") and d != REPORT_DIR]
    return sorted(found, key=_natural_key)


def _natural_key(path: Path) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.parts)


def job_dirs(folders: Iterable[Path]) -> list[Path]:
    """The job folders of every folder given, each once; NoRunsError for a folder without."""
    found: dict[Path, Path] = {}  # real path -> path as found: a job seen twice counts once
    for folder in folders:
        if folder.is_file():
            raise NoRunsError(f"{folder} is a file; give a run or sweep folder")
        if not folder.is_dir():
            raise NoRunsError(f"{folder}: no such folder")
        jobs = find_job_dirs(folder)
        if not jobs:
            raise NoRunsError(
                f"{folder}: no runs found; no nnsweep jobs (no folder with "
                f"{result_json.RESULT_JSON}, or with an nnsweep {hydra_files.HYDRA_CONFIG}, "
                "at or below it)"
            )
        found.update((j.resolve(), j) for j in jobs if j.resolve() not in found)
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
        result = result_json.read_result(job_dir)
    except FileNotFoundError:
        return _from_hydra(job_dir, UNFINISHED, None)
    except result_json.DamagedResult as error:  # JSON, but not of the shape a job writes
        log.warning(f"{error}; the job is listed as {DAMAGED}")
        return _from_hydra(job_dir, DAMAGED, str(error))
    except ValueError as error:  # invalid JSON (UnicodeDecodeError is a ValueError too)
        path = job_dir / result_json.RESULT_JSON
        log.warning(f"{path}: unreadable, the job is listed as {UNREADABLE} ({error})")
        return _from_hydra(job_dir, UNREADABLE, f"unreadable {result_json.RESULT_JSON}: {error}")
    status, error = _status(job_dir, result)
    return {
        "status": status,
        "error": error,
        "config": result["config"],
        "overrides": result.get("overrides", []),
        "replicates": result["replicates"] if status == COMPLETE else [],
    }


def _status(job_dir: Path, result: dict[str, Any]) -> tuple[str, str | None]:
    """result.json's status and error, but ``interrupted`` for a running job whose process
    is gone and ``damaged`` for a complete one whose files differ from their checksums."""
    if job_lock.is_interrupted(job_dir, result):
        return INTERRUPTED, f"process {result.get('pid')} on {result.get('host')} is gone"
    if result["status"] == COMPLETE:
        mismatch = result_json.file_mismatch(job_dir, result)
        if mismatch:
            log.warning(f"{job_dir}: {mismatch}; the job is listed as {DAMAGED}")
            return DAMAGED, mismatch
    return result["status"], result.get("error")


def never_started(sweep_dirs: Iterable[Path]) -> dict[Path, list[str]]:
    """The jobs of each sweep in ``sweep_dirs`` (those with Hydra's multirun.yaml) that have
    no job folder: their would-be folder and overrides, from the sweeps' own job lists
    (every sweep into the folder kept its multirun-<time>.yaml; the latest names a job)."""
    missing = {}
    for sweep in sweep_dirs:
        records = sorted(sweep.glob(MULTIRUN_RECORDS)) + [sweep / MULTIRUN_YAML]
        for record in records:
            for num, overrides in enumerate(_job_list(record)):
                folder = sweep / str(num)
                if not hydra_files.is_job_dir(folder):
                    missing[folder] = overrides
    return missing


def _job_list(path: Path) -> list[list[str]]:
    """Every job's overrides, in job-number order, as Hydra's basic sweeper (and nnsweep's
    checked one) expands them; empty for another sweeper or job folder naming."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    if not path.is_file():
        return []
    try:
        hydra = OmegaConf.load(path).hydra
        if not str(hydra.sweeper._target_).endswith(("CheckedSweeper", "BasicSweeper")):
            return []
        if OmegaConf.to_container(hydra.sweep)["subdir"] != "${hydra.job.num}":
            return []
        params = [f"{k}={v}" for k, v in (hydra.sweeper.get("params") or {}).items()]
        parsed = OverridesParser.create().parse_overrides([*params, *hydra.overrides.task])
        return BasicSweeper.split_arguments(parsed, None)[0]
    except Exception as error:  # noqa: BLE001  (any damage: the list is only a help)
        log.warning(f"{path}: its job list cannot be read ({error}); jobs never started unknown")
        return []


def _from_hydra(job_dir: Path, status: str, error: str | None) -> dict[str, Any]:
    return {
        "status": status,
        "error": error,
        "config": hydra_files.read_hydra_config(job_dir),
        "overrides": hydra_files.read_hydra_overrides(job_dir),
        "replicates": [],
    }


def read_curves(job_dir: Path) -> pd.DataFrame | None:
    """loss.csv, if it parses to numbers (whole numbers for replicate and epoch)."""
    try:
        table = csv_tables.read_loss_csv(job_dir)
        _check_types(table)
    except (OSError, ValueError) as error:  # pandas' parser and empty-data errors are ValueErrors
        warn_damaged(job_dir, error)
        return None
    return table


def _check_types(table: pd.DataFrame) -> None:
    """Checked, not converted, file by file: one conversion of the concatenation is faster."""
    held_out = {c: "float64" for c in csv_tables.TEST_COLUMNS if c in table}
    for column, dtype in {**CURVE_TYPES, **held_out}.items():
        wanted = "iu" if dtype == "int64" else "iuf"
        if table[column].dtype.kind not in wanted:
            raise ValueError(f"column {column!r} holds {table[column].dtype}, not {dtype} values")


def warn_damaged(job_dir: Path, why: Any) -> None:
    log.warning(
        f"{job_dir / csv_tables.LOSS_CSV}: corrupt or truncated, "
        f"its learning curves are left out ({why})"
    )
