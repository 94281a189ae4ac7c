"""The same inputs give the same files as before the layout change: loss.csv and layers.csv
byte for byte, result.json but its times, params.npz array for array (a zip's own
timestamps differ from write to write), for the lab's default run and a 3-job sweep on
each engine. tests/fixtures/before_layout/ was written by main at ac7108c with the
commands below; these tests run them again.

Since then a job keeps more, and only adds: each replicate's confusion matrices in
result.json, and in params.npz the classes, the loss and the data it trained on
(ADDED_REPLICATE_KEYS, ADDED_ARRAYS). Everything the fixtures hold is unchanged."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "before_layout"
SWEEP = [
    "-m",
    "optimizer=gd,momentum,adam",
    "dataset=linear",
    "dataset.test_n=20",
    "replicates=2",
    "epochs=3000",
    "batch_size=32",
]
TIMES = {"seconds"}  # per replicate: the wall time of its training
ADDED_REPLICATE_KEYS = {"confusion", "test_confusion"}  # test_confusion with held-out data
ADDED_ARRAYS = {"classes", "loss", "x_train", "y_train", "x_test", "y_test"}
VARYING = {"environment"}  # the machine's versions and threads


def _run(*args: str) -> None:
    command = [sys.executable, "-m", "nnsweep", *args, "figures=[]", "~hydra.callbacks.report"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def _without_times(result: dict) -> dict:
    result = {k: v for k, v in result.items() if k not in VARYING}
    result["replicates"] = [
        {k: v for k, v in r.items() if k not in TIMES | ADDED_REPLICATE_KEYS}
        for r in result["replicates"]
    ]
    result["overrides"] = sorted(result["overrides"])  # as typed, in any order
    result.pop("files")  # params.npz's checksum covers its zip timestamps; compared below
    return result


def assert_same_job(job: Path, fixture: Path, added: bool = True) -> None:
    """``job``'s files hold the fixture's exactly, and with ``added`` what a job keeps since."""
    for name in ("loss.csv", "layers.csv"):
        assert (job / name).read_bytes() == (fixture / name).read_bytes(), name
    got, want = (json.loads((d / "result.json").read_text()) for d in (job, fixture))
    assert _without_times(got) == _without_times(want)
    for name in ("loss.csv", "layers.csv"):
        assert got["files"][name] == want["files"][name]
    assert all(("confusion" in r) == added for r in got["replicates"])
    with np.load(job / "params.npz") as new, np.load(fixture / "params.npz") as old:
        assert set(new.files) == set(old.files) | (ADDED_ARRAYS if added else set())
        for key in old.files:
            assert new[key].dtype == old[key].dtype, key
            np.testing.assert_array_equal(new[key], old[key], err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_default_run_writes_the_same_files_as_before(tmp_path, engine):
    args = [] if engine == "numba" else ["engine=numpy"]
    _run(*args, f"hydra.run.dir={tmp_path}")
    assert_same_job(tmp_path, FIXTURES / f"default_{engine}")


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_a_three_job_sweep_writes_the_same_files_as_before(tmp_path, engine):
    _run(*SWEEP, f"engine={engine}", f"hydra.sweep.dir={tmp_path}")
    for job in range(3):
        assert_same_job(tmp_path / str(job), FIXTURES / f"sweep_{engine}" / str(job))


def test_the_fixture_check_catches_a_changed_byte(tmp_path):
    """The check itself can fail: one digit changed in a copy of a fixture is caught."""
    fixture = FIXTURES / "default_numba"
    for name in ("loss.csv", "layers.csv", "result.json", "params.npz"):
        (tmp_path / name).write_bytes((fixture / name).read_bytes())
    assert_same_job(tmp_path, fixture, added=False)
    text = (tmp_path / "loss.csv").read_text()
    (tmp_path / "loss.csv").write_text(text.replace("0.", "1.", 1))
    with pytest.raises(AssertionError, match="loss.csv"):
        assert_same_job(tmp_path, fixture, added=False)
