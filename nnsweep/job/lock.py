"""Holding a job folder: one process at a time (fcntl.flock on its lock file, released by
the kernel however the process ends), who holds it, and whether a running job's process
is gone."""

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nnsweep.job import result_json
from nnsweep.job.result_json import JobStatus
from nnsweep.job.schema import PRESENTATION_FIELDS

log = logging.getLogger(__name__)

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
        name_holder(job_dir)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays, for the next process to lock


def name_holder(job_dir: Path) -> None:
    """Write this process's pid and host into the lock file: what the lock message names
    where the kernel does not, or names a process gone (a forked one holds the lock on)."""
    line = f"{os.getpid()} {socket.gethostname()}\n".encode()
    fd = os.open(Path(job_dir) / LOCK_FILE, os.O_WRONLY)
    try:  # written over, then cut to length: a reader never finds it empty
        os.write(fd, line)
        os.ftruncate(fd, len(line))
    finally:
        os.close(fd)


def _acquire(fd: int, job_dir: Path, config: dict[str, Any]) -> None:
    deadline = time.monotonic() + HOLDER_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        pid, holder = lock_holder(job_dir)
        record = _record(job_dir)
        if record is not None and record["status"] == JobStatus.COMPLETE:
            if same_config(record["config"], config):  # its figures are being drawn behind
                log.info(f"{job_dir}: the same config is complete, its figures being drawn")
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
        elif record is not None and pid is not None and record.get("pid") == pid:
            if same_config(record["config"], config):
                log.info(f"{job_dir}: {holder} trains the same config; waiting for it")
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
            raise JobDirTaken(f"{job_dir} is in use by {holder} for another config")
        if time.monotonic() > deadline:
            raise JobDirTaken(f"{job_dir} is in use by {holder}")
        time.sleep(0.05)  # the holder has the lock but has not yet written result.json


def _record(job_dir: Path) -> dict[str, Any] | None:
    try:
        return result_json.read_result(job_dir)
    except (OSError, ValueError):
        return None


def running_record(job_dir: Path) -> dict[str, Any] | None:
    result = _record(job_dir)
    return result if result is not None and result["status"] == JobStatus.RUNNING else None


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


def lock_holder(job_dir: Path) -> tuple[int | None, str]:
    """The pid of the process that holds ``job_dir``'s lock, as the kernel lists it
    (/proc/locks), and ``process <pid> on <host>``; where the kernel does not say, the pid
    the lock file names if that process runs (the kernel lists the process that took the
    lock, which may be gone while a process it forked holds it), else ``(None, "another
    process")``."""
    path = Path(job_dir) / LOCK_FILE
    pid = _flock_holder(path)
    if pid is not None and _runs(pid):
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
