"""Resumable sweeps and failure isolation, on real sweeps in a subprocess."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

pytestmark = pytest.mark.slow

FAULTS = str(Path(__file__).parent / "fault_injection")
SWEEP = ("-m", "seed=0,1,2", "epochs=300")


def nnsweep(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "nnsweep", *args, "figures=[]"],  # figures: test_figures.py
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def status(job: Path) -> str:
    return json.loads((job / "result.json").read_text())["status"]


def snapshot(job: Path) -> dict[str, bytes]:
    """The job's files but its log and its lock file (which names the last process to lock)."""
    return {
        p.name: p.read_bytes()
        for p in job.iterdir()
        if p.is_file() and p.suffix != ".log" and p.name != ".lock"
    }


def test_a_failing_job_is_recorded_and_the_others_stay_intact(tmp_path):
    sweep = tmp_path / "sweep"
    done = nnsweep(
        *SWEEP,
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
        env={"PYTHONPATH": FAULTS, "NNSWEEP_FAIL_SEED": "1"},
    )
    assert done.returncode != 0  # Hydra's exit code for a sweep with a failed job
    assert [status(sweep / j) for j in "012"] == ["complete", "failed", "complete"]
    failed = json.loads((sweep / "1" / "result.json").read_text())
    assert "injected failure for seed 1" in failed["error"]
    assert not (sweep / "1" / "loss.csv").exists()
    for job in "02":
        assert (sweep / job / "loss.csv").stat().st_size > 0


def test_running_again_skips_complete_jobs_and_runs_the_rest(tmp_path):
    sweep = tmp_path / "sweep"
    assert nnsweep(*SWEEP, f"hydra.sweep.dir={sweep}", cwd=tmp_path).returncode == 0
    kept = snapshot(sweep / "0")
    (sweep / "1" / "result.json").unlink()  # as if job 1 had never finished
    result = json.loads((sweep / "2" / "result.json").read_text())
    (sweep / "2" / "result.json").write_text(json.dumps({**result, "status": "failed"}))

    done = nnsweep(*SWEEP, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert snapshot(sweep / "0") == kept
    assert "skipped" in (sweep / "0" / "nnsweep.log").read_text()
    assert [status(sweep / j) for j in "012"] == ["complete"] * 3
    assert "skipped" not in (sweep / "1" / "nnsweep.log").read_text()


def test_rerun_true_runs_every_job_again(tmp_path):
    sweep = tmp_path / "sweep"
    assert nnsweep(*SWEEP, f"hydra.sweep.dir={sweep}", cwd=tmp_path).returncode == 0
    done = nnsweep(*SWEEP, "rerun=true", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for job in "012":
        assert "skipped" not in (sweep / job / "nnsweep.log").read_text()


def test_another_sweep_into_the_same_folder_does_not_overwrite_it(tmp_path):
    sweep = tmp_path / "sweep"
    assert nnsweep(*SWEEP, f"hydra.sweep.dir={sweep}", cwd=tmp_path).returncode == 0
    kept = snapshot(sweep / "0")
    done = nnsweep(*SWEEP, "lr=0.5", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert done.returncode == 1
    assert f"{sweep / '0'} holds a complete result of another config" in done.stderr
    assert "Traceback" not in done.stderr  # the ERROR line says it all
    assert snapshot(sweep / "0") == kept
    assert OmegaConf.load(sweep / "0" / ".hydra" / "config.yaml").lr == 0.01  # put back


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_sweep_leaves_no_file_that_looks_complete(tmp_path, sig):
    sweep = tmp_path / "sweep"
    args = ["-m", "seed=0,1", "lr=0.001", f"hydra.sweep.dir={sweep}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnsweep", *args], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not (sweep / "0" / "result.json").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.05)
    time.sleep(0.5)  # well inside training: 1,000,000 epochs at lr 0.001
    proc.send_signal(sig)
    stderr = proc.communicate(timeout=60)[1]
    assert proc.returncode == 128 + sig, stderr
    assert status(sweep / "0") == "failed"
    resume = f"python -m nnsweep -m seed=0,1 lr=0.001 hydra.sweep.dir={sweep}"
    assert f"interrupted: job 0 marked failed; resume with: {resume}\n" in stderr
    assert "Traceback" not in stderr
    assert not (sweep / "0" / "loss.csv").exists()
    assert not (sweep / "1").exists()  # the sweep ended: no further job started
    assert not list(sweep.rglob(".*partial*"))


@pytest.mark.parametrize(
    ("sweep", "refusal"),
    [
        ("seed=0,-1", "seed=-1 is out of range; allowed: an integer from 0 to"),
        ("+optimiser=gd,adam", "optimiser='gd' is not a field of nnsweep's config; did you mean"),
    ],
)
def test_a_bad_value_anywhere_in_a_sweep_is_refused_before_the_first_job(tmp_path, sweep, refusal):
    done = nnsweep("-m", sweep, "epochs=30", f"hydra.sweep.dir={tmp_path / 's'}", cwd=tmp_path)
    assert done.returncode == 1
    assert f"bad config: {refusal}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.rglob("result.json"))  # no job ran
