"""Test-only fault injection, loaded by a subprocess whose PYTHONPATH starts here.

- NNSWEEP_FAIL_SEED=<seed>: every job whose config has that seed raises in training, the
  way a bug or a numerical error inside a job would.
- NNSWEEP_WAIT_FOR=<path>: every job waits, once its folder is locked and says running,
  until that path exists: a test can start a second process while the first one trains.
- NNSWEEP_DISK_FULL=1: once a job says running, every file write fails with ENOSPC, as on
  a full disk.
"""

import errno
import os
import time
from contextlib import contextmanager
from pathlib import Path

if {"NNSWEEP_FAIL_SEED", "NNSWEEP_WAIT_FOR", "NNSWEEP_DISK_FULL"} & set(os.environ):
    import nnsweep.atomic
    import nnsweep.job.csv_tables
    import nnsweep.job.params_npz
    import nnsweep.job.result_json
    import nnsweep.job.run

    WRITERS = (nnsweep.job.csv_tables, nnsweep.job.params_npz, nnsweep.job.result_json)

    _build = nnsweep.job.run.build
    _atomic_path = nnsweep.atomic.atomic_path

    def _faulty_build(cfg):
        if cfg.seed == int(os.environ.get("NNSWEEP_FAIL_SEED", -1)):
            raise RuntimeError(f"injected failure for seed {cfg.seed}")
        go = Path(os.environ.get("NNSWEEP_WAIT_FOR", "/"))
        while not go.exists():
            time.sleep(0.05)
        if "NNSWEEP_DISK_FULL" in os.environ:
            for module in WRITERS:  # each imported atomic_path by name
                module.atomic_path = _full_disk
        return _build(cfg)

    @contextmanager
    def _full_disk(path):
        with _atomic_path(path) as tmp:
            tmp.write_text("the first bytes")  # then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        yield tmp  # never reached

    nnsweep.job.run.build = _faulty_build
