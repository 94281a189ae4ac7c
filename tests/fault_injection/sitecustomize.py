"""Test-only fault injection, loaded by a subprocess whose PYTHONPATH starts here.

With NNSWEEP_FAIL_SEED=<seed>, every job whose config has that seed raises in
training, the way a bug or a numerical error inside a job would.
"""

import os

if "NNSWEEP_FAIL_SEED" in os.environ:
    import nnsweep.run

    _build = nnsweep.run.build

    def _failing_build(cfg):
        if cfg.seed == int(os.environ["NNSWEEP_FAIL_SEED"]):
            raise RuntimeError(f"injected failure for seed {cfg.seed}")
        return _build(cfg)

    nnsweep.run.build = _failing_build
