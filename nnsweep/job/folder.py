"""Holding a job folder: one process at a time, and nothing of another's replaced.

A job locks its folder while it runs (fcntl.flock, released by the kernel however the
process ends) and says in result.json who runs it. Before its final files it checks the
folder is still its own; a complete result there is kept only for the same config and
files that match their checksums. Hydra's record of a job (``.hydra/``) is put back if a
refused process wrote over it.
"""

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from nnsweep import atomic
from nnsweep.job import result_json
from nnsweep.job.result_json import DATA_FILES, RESULT_JSON, JobStatus
from nnsweep.job.schema import FIGURE_FILES, PRESENTATION_FIELDS

log = logging.getLogger(__name__)

REPLACED_DIR = ".replaced"  # an earlier run's files, kept aside by the run that replaced them
LOCK_FILE = ".lock"  # held (fcntl.flock) while a job runs; never renamed nor removed
HOLDER_WAIT = 5.0  # seconds to wait for a lock holder's result.json to say what it trains


class JobDirTaken(RuntimeError):
    """A job folder that holds, or is being written with, a result of another config."""


def whoami() -> dict[str, Any]:
    """What result.json says while the job runs: which process, where, since when."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}


@contextmanager
def job_lock(job_dir: Path, config: dict[str, Any]) -> Iterator[None]:
    """Hold an exclusive lock on ``job_dir`` (fcntl.flock on its lock file, released by the
    kernel however the process ends). If another process holds it for the same config,
    wait for it; for another config, raise JobDirTaken naming that process."""
    fd = os.open(Path(job_dir) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, Path(job_dir), config)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays, for the next process to lock


def _acquire(fd: int, job_dir: Path, config: dict[str, Any]) -> None:
    deadline = time.monotonic() + HOLDER_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        pid, holder = lock_holder(job_dir)
        running = running_record(job_dir)
        if running is not None and pid is not None and running.get("pid") == pid:
            if same_config(running["config"], config):
                log.info(f"{job_dir}: {holder} trains the same config; waiting for it")
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
            raise JobDirTaken(f"{job_dir} is in use by {holder} for another config")
        if time.monotonic() > deadline:
            raise JobDirTaken(f"{job_dir} is in use by {holder}")
        time.sleep(0.05)  # the holder has the lock but has not yet written result.json


def running_record(job_dir: Path) -> dict[str, Any] | None:
    try:
        result = result_json.read_result(job_dir)
    except (OSError, ValueError):
        return None
    return result if result["status"] == JobStatus.RUNNING else None


def still_ours(job_dir: Path) -> bool:
    running = running_record(job_dir)
    return running is not None and running.get("pid") == os.getpid()


def check_still_ours(job_dir: Path) -> None:
    """Checked again just before the final files: the folder still holds this job's own
    running record, so nothing written meanwhile by another process is replaced."""
    if not still_ours(job_dir):
        raise JobDirTaken(
            f"{job_dir}: another process wrote there while this job ran; "
            "this job's result is not written, and the folder keeps the other one"
        )


def same_config(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two resolved configs that compute the same thing: equal but for PRESENTATION_FIELDS."""
    keep = lambda c: {k: v for k, v in c.items() if k not in PRESENTATION_FIELDS}  # noqa: E731
    return keep(a) == keep(b)


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
        _restore_hydra_from(job_dir)
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


def hydra_record(job_dir: Path) -> dict[Path, bytes]:
    """The bytes of Hydra's record of this job (``.hydra/*.yaml``), as this process wrote it."""
    return {p: p.read_bytes() for p in (Path(job_dir) / ".hydra").glob("*.yaml")}


def restore_hydra_record(files: dict[Path, bytes]) -> None:
    """Put back Hydra's record of this job if a refused process wrote its own over it."""
    for path, content in files.items():
        if not path.is_file() or path.read_bytes() != content:
            with atomic.atomic_path(path) as tmp:
                tmp.write_bytes(content)


def _restore_hydra_from(job_dir: Path) -> None:
    """Hydra wrote this refused job's config over the one in the folder: rewrite the
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


def lock_holder(job_dir: Path) -> tuple[int | None, str]:
    """The pid of the process that holds ``job_dir``'s lock, as the kernel lists it
    (/proc/locks), and ``process <pid> on <host>``; where the kernel does not say, the pid
    the lock file names if that process runs, else ``(None, "another process")``."""
    path = Path(job_dir) / LOCK_FILE
    pid = _flock_holder(path)
    if pid is not None:
        return pid, f"process {pid} on {socket.gethostname()}"
    try:
        words = path.read_text().split()
    except (OSError, ValueError):
        words = []
    if len(words) == 2 and words[0].isdigit() and _runs(int(words[0])):
        return int(words[0]), f"process {words[0]} on {words[1]}"
    return None, "another process"


def _flock_holder(path: Path) -> int | None:
    """The pid holding an flock on ``path``, from /proc/locks (``… FLOCK … PID MAJ:MIN:INODE``)."""
    try:
        inode = path.stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
            return int(fields[4])
    return None


def _runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_locked(job_dir: Path) -> bool | None:
    """Whether a process holds ``job_dir``'s lock; None if it has no lock file."""
    try:
        fd = os.open(Path(job_dir) / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def is_interrupted(job_dir: Path, result: dict[str, Any]) -> bool:
    """A ``running`` result whose process is gone: its lock is free, or, without a lock
    file, its pid no longer runs on this host."""
    if result.get("status") != JobStatus.RUNNING:
        return False
    locked = is_locked(job_dir)
    if locked is not None:
        return not locked
    if result.get("host") != socket.gethostname() or not isinstance(result.get("pid"), int):
        return False  # another machine's process: cannot tell from here
    try:
        os.kill(result["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
