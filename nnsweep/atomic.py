"""Writing a file so that a killed process never leaves half of it looking whole:
under a temporary name beside it, renamed on success."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL = ".*.partial-*"  # atomic_path's temporary names


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) that becomes ``path`` on success."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_partials(job_dir: Path) -> list[Path]:
    """Delete temporary files that a killed job left (the lock file is kept: it is held)."""
    stale = list(Path(job_dir).glob(PARTIAL))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
