"""A job folder holds one run's files: another config's results, or data files a damaged
result.json cannot vouch for, are never written over (:func:`refusal`); a complete result
for the same config is kept (resume); an earlier run's files are moved aside before a run
replaces them; Hydra's record of a job (``.hydra/``) is put back if a refused process
wrote over it. The lock that keeps one process per folder is :mod:`nnsweep.job.lock`."""

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from nnsweep import atomic
from nnsweep.job import result_json
from nnsweep.job.lock import JobDirTaken, same_config
from nnsweep.job.result_json import DATA_FILES, RESULT_JSON, JobStatus
from nnsweep.job.schema import FIGURE_FILES

log = logging.getLogger(__name__)


REPLACED_DIR = ".replaced"  # an earlier run's files, kept aside by the run that replaced them


def refusal(job_dir: Path, config: dict[str, Any], rerun: bool) -> str | None:
    """Why a job of ``config`` may not write into ``job_dir``, or None: the folder holds a
    complete result of another config, or data files that a damaged result.json cannot
    say whose they are. ``rerun`` replaces either (moving the files aside)."""
    if rerun:
        return None
    try:
        previous = result_json.read_result(job_dir)
    except FileNotFoundError:
        return None
    except ValueError as error:  # invalid JSON, not UTF-8, or JSON of another shape
        data = [name for name in DATA_FILES if (job_dir / name).is_file()]
        if not data:
            return None
        return (
            f"{job_dir}: {RESULT_JSON} is damaged ({error}), so which config wrote its "
            f"{', '.join(data)} cannot be told; nothing was overwritten. Pass rerun=true "
            "to replace them (they are moved aside), or sweep into a new hydra.sweep.dir"
        )
    if previous["status"] == JobStatus.COMPLETE and not same_config(previous["config"], config):
        return (
            f"{job_dir} holds a complete result of another config; sweep into a new "
            "hydra.sweep.dir, or pass rerun=true to replace it"
        )
    return None


def previous_result(job_dir: Path, config: dict[str, Any], rerun: bool) -> dict[str, Any] | None:
    """The complete result already in ``job_dir`` for ``config``, if there is one to keep;
    raise JobDirTaken where :func:`refusal` says the job may not run there. A damaged one
    without data files, or with files that do not match their checksums, is run again,
    saying why."""
    problem = refusal(job_dir, config, rerun)
    if problem is not None:
        restore_hydra_from(job_dir)
        raise JobDirTaken(problem)
    try:
        previous = result_json.read_result(job_dir)
    except FileNotFoundError:
        return None
    except ValueError as error:
        log.warning(f"{error}; damaged, the job runs again")
        return None
    if previous["status"] == JobStatus.RUNNING:
        log.warning(f"{job_dir}: interrupted (process {previous.get('pid')} is gone); runs again")
    if previous["status"] != JobStatus.COMPLETE or rerun:
        return None
    mismatch = result_json.file_mismatch(job_dir, previous)
    if mismatch:
        log.warning(f"{job_dir}: damaged ({mismatch}); the job runs again")
        return None
    return previous


def set_aside(job_dir: Path) -> Path | None:
    """Move an earlier run's result.json, data files and figures into
    ``.replaced/<time>/``, so that the folder only ever holds one run's files and an
    interrupted rerun loses nothing; None when no data file is there to keep."""
    names = [RESULT_JSON, *DATA_FILES, *FIGURE_FILES.values()]
    found = [name for name in names if (job_dir / name).is_file()]
    if not set(found) & set(DATA_FILES):
        return None  # a failed or interrupted run's result.json alone: replaced
    aside = job_dir / REPLACED_DIR / datetime.now().strftime("%Y-%m-%d_%H-%M-%S-%f")
    aside.mkdir(parents=True)
    for name in found:
        os.replace(job_dir / name, aside / name)
    return aside


def hydra_record(job_dir: Path, cfg: DictConfig) -> dict[Path, bytes]:
    """Hydra's record of this job (``.hydra/*.yaml``) as this process's Hydra wrote it,
    rebuilt from memory as Hydra writes it: the files themselves may already hold another
    process's, or be half-written by it. Empty outside a Hydra job for ``job_dir``."""
    if not HydraConfig.initialized():
        return {}
    hydra = HydraConfig.get()
    if hydra.output_subdir is None or Path(hydra.runtime.output_dir) != Path(job_dir).absolute():
        return {}
    subdir = Path(job_dir) / hydra.output_subdir
    return {
        subdir / "config.yaml": OmegaConf.to_yaml(cfg).encode(),
        subdir / "hydra.yaml": OmegaConf.to_yaml(HydraConfig.instance().cfg).encode(),
        subdir / "overrides.yaml": OmegaConf.to_yaml(hydra.overrides.task).encode(),
    }


def restore_hydra_record(files: dict[Path, bytes]) -> None:
    """Put back Hydra's record of this job if a refused process wrote its own over it."""
    for path, content in files.items():
        if not path.is_file() or path.read_bytes() != content:
            with atomic.atomic_path(path) as tmp:
                tmp.write_bytes(content)


def restore_hydra_from(job_dir: Path) -> None:
    """Hydra wrote a refused job's config over the one in the folder: rewrite the
    complete job's config and overrides from its result.json, where it has one (Hydra's
    hydra.yaml cannot be; a sweep's checked sweeper refuses before Hydra writes any)."""
    try:
        result = result_json.read_result(job_dir)
    except (OSError, ValueError):
        return
    hydra = Path(job_dir) / ".hydra"
    if hydra.is_dir():
        restore_hydra_record(
            {
                hydra / "config.yaml": OmegaConf.to_yaml(result["config"]).encode(),
                hydra / "overrides.yaml": OmegaConf.to_yaml(result.get("overrides", [])).encode(),
            }
        )
