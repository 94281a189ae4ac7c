"""Nothing lost, nothing mixed (issue 9): concurrent runs, killed jobs, a full disk and
damaged files, each on real processes. Fault injection: tests/fault_injection."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from nnsweep.job import result_json
from nnsweep.report import load

pytestmark = pytest.mark.slow

FAULTS = str(Path(__file__).parent / "fault_injection")
HOST = socket.gethostname()
TINY = ("epochs=30", "print_predictions=false", "~hydra.callbacks.report", "figures=[]")


def start(*args: str, cwd: Path, go: Path | None = None, **env: str) -> subprocess.Popen:
    """``python -m nnsweep args`` in the background; with ``go``, its jobs wait, locked and
    running, until that file exists."""
    env = {**os.environ, **env, "PYTHONPATH": FAULTS}
    if go is not None:
        env["NNSWEEP_WAIT_FOR"] = str(go)
    cmd = [sys.executable, "-m", "nnsweep", *args, *TINY]
    return subprocess.Popen(cmd, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> str:
    return proc.communicate(timeout=120)[1]


def wait_until(condition, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc is None or proc.poll() is None, finish(proc)
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def result(job: Path) -> dict:
    return json.loads((job / "result.json").read_text())


def running(job: Path) -> bool:
    try:
        return result(job)["status"] == "running"
    except (OSError, ValueError):
        return False


def assert_whole(job: Path, lr: float) -> None:
    """The job's result, its data and Hydra's record of it are all of the config ``lr``."""
    done = result(job)
    assert done["status"] == "complete" and done["config"]["lr"] == lr
    assert result_json.file_mismatch(job, done) is None
    assert OmegaConf.load(job / ".hydra" / "config.yaml").lr == lr


def test_single_runs_started_together_get_their_own_folders(tmp_path):
    procs = [start(f"lr={lr}", cwd=tmp_path) for lr in (0.5, 0.7)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    jobs = sorted(tmp_path.glob("outputs/runs/*/*"))
    assert len(jobs) == 2
    assert sorted(result(j)["config"]["lr"] for j in jobs) == [0.5, 0.7]
    for job in jobs:
        assert_whole(job, result(job)["config"]["lr"])


def test_a_locked_job_folder_refuses_another_process_naming_it(tmp_path):
    folder, go = tmp_path / "run", tmp_path / "go"
    first = start("lr=0.5", f"hydra.run.dir={folder}", cwd=tmp_path, go=go)
    wait_until(lambda: running(folder), first)
    second = start("lr=0.7", f"hydra.run.dir={folder}", cwd=tmp_path)
    stderr = finish(second)
    assert second.returncode == 1
    assert f"{folder} is in use by process {first.pid} on {HOST} for another config" in stderr
    assert "Traceback" not in stderr
    go.touch()
    assert first.wait(timeout=120) == 0
    assert_whole(folder, 0.5)


def test_two_different_sweeps_into_one_folder_never_mix_their_results(tmp_path):
    sweep, go = tmp_path / "sweep", tmp_path / "go"
    a = start("-m", "seed=0,1", "lr=0.1", f"hydra.sweep.dir={sweep}", cwd=tmp_path, go=go)
    wait_until(lambda: running(sweep / "0"), a)
    b = start("-m", "seed=0,1", "lr=0.4", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    b_err = finish(b)  # job 0 is A's: refused; job 1 is free: B trains it
    go.touch()
    a_err = finish(a)  # job 1 is now B's complete result: refused
    assert (a.returncode, b.returncode) == (1, 1)
    assert f"{sweep / '0'} is in use by process {a.pid} on {HOST} for another config" in b_err
    assert f"{sweep / '1'} holds a complete result of another config" in a_err
    assert_whole(sweep / "0", 0.1)
    assert_whole(sweep / "1", 0.4)


def test_two_identical_sweeps_at_once_train_each_job_once(tmp_path):
    sweep, go = tmp_path / "sweep", tmp_path / "go"
    a = start("-m", "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path, go=go)
    wait_until(lambda: running(sweep / "0"), a)
    b = start("-m", "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    log = sweep / "0" / "nnsweep.log"
    wait_until(lambda: "trains the same config; waiting" in log.read_text(), b)
    go.touch()
    assert (a.wait(timeout=120), b.wait(timeout=120)) == (0, 0)
    logs = "".join((sweep / job / "nnsweep.log").read_text() for job in "01")
    assert logs.count("complete for the same config, skipped") == 2  # once per job
    for job in "01":
        assert_whole(sweep / job, 0.01)


@pytest.mark.parametrize("sweep", [False, True], ids=["run", "sweep"])
def test_hydra_record_half_rewritten_by_another_process_is_put_back_as_written(tmp_path, sweep):
    """Between Hydra writing a job's .hydra/ and the job reading it, another process's Hydra
    may truncate a file; the job puts back its own record, byte for byte, not what it found."""
    out = tmp_path / "out"
    where = ["-m", "seed=0,1", f"hydra.sweep.dir={out}"] if sweep else [f"hydra.run.dir={out}"]
    damage = "+hydra.callbacks.damage._target_=half_written.HalfWrittenHydraRecord"
    proc = start(*where, damage, cwd=tmp_path)
    assert proc.wait(timeout=120) == 0, finish(proc)
    for job in [out / "0", out / "1"] if sweep else [out]:
        written = job / ".hydra-as-written"
        names = sorted(p.name for p in written.iterdir())
        assert names == ["config.yaml", "hydra.yaml", "overrides.yaml"]
        for kept in written.iterdir():
            assert (job / ".hydra" / kept.name).read_bytes() == kept.read_bytes(), kept.name
        assert_whole(job, 0.01)


def test_a_killed_job_is_interrupted_and_the_jobs_after_it_never_started(tmp_path):
    sweep = tmp_path / "sweep"
    proc = start("-m", "seed=0,1,2", f"hydra.sweep.dir={sweep}", cwd=tmp_path, go=tmp_path / "go")
    wait_until(lambda: running(sweep / "0"), proc)
    killed = result(sweep / "0")
    assert (killed["pid"], killed["host"]) == (proc.pid, HOST)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    jobs = load(sweep).jobs.set_index("job")
    assert jobs["status"].to_dict() == {
        "0": "interrupted",
        "1": "never started",
        "2": "never started",
    }
    expected = "seed=2 epochs=30 print_predictions=False figures=[]"  # as Hydra's
    assert jobs.loc["2", "overrides"] == expected

    (sweep / "0" / ".loss.partial-99999.csv").write_text("half")  # as a kill leaves it
    resumed = start("-m", "seed=0,1,2", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert resumed.wait(timeout=120) == 0
    assert not list(sweep.rglob(".*partial*"))
    assert "interrupted (process" in (sweep / "0" / "nnsweep.log").read_text()
    for job in "012":
        assert_whole(sweep / job, 0.01)


def test_a_full_disk_leaves_running_which_the_report_calls_interrupted(tmp_path):
    sweep = tmp_path / "sweep"
    proc = start("-m", "seed=0", f"hydra.sweep.dir={sweep}", cwd=tmp_path, NNSWEEP_DISK_FULL="1")
    stderr = finish(proc)
    assert proc.returncode == 1
    assert "the failure could not be recorded ([Errno 28] No space left on device)" in stderr
    assert result(sweep / "0")["status"] == "running"
    assert not (sweep / "0" / "loss.csv").exists()
    assert not list(sweep.rglob(".*partial*"))  # nothing half-written that looks whole
    assert load(sweep).jobs["status"].tolist() == ["interrupted"]


def complete_sweep(tmp_path: Path) -> Path:
    sweep = tmp_path / "sweep"
    assert start("-m", "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path).wait(120) == 0
    return sweep


def test_a_data_file_that_differs_from_its_checksum_is_damaged_and_run_again(tmp_path):
    sweep = complete_sweep(tmp_path)
    size = result(sweep / "1")["files"]["loss.csv"]["size"]
    (sweep / "1" / "loss.csv").write_text("replicate,epoch,loss,accuracy\n0,1,1,1\n")
    why = f"loss.csv has 38 bytes, result.json says {size}"
    jobs = load(sweep).jobs.set_index("job")
    assert jobs["status"].to_dict() == {"0": "complete", "1": "damaged"}
    assert jobs.loc["1", "error"] == why

    assert start("-m", "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path).wait(120) == 0
    log = (sweep / "1" / "nnsweep.log").read_text()
    assert f"damaged ({why}); the job runs again" in log
    assert load(sweep).jobs["status"].tolist() == ["complete", "complete"]
    assert_whole(sweep / "1", 0.01)


@pytest.mark.parametrize("content", ["[]", '{"status": "complete"}'])
def test_a_result_json_of_the_wrong_shape_is_damaged_and_its_data_kept_until_rerun(
    tmp_path, content
):
    """Whose data files a damaged result.json leaves cannot be told: a resume refuses to
    write over them, naming the file; rerun=true moves them aside and runs the job."""
    sweep = complete_sweep(tmp_path)
    (sweep / "1" / "result.json").write_text(content)
    jobs = load(sweep).jobs.set_index("job")
    assert jobs.loc["1", "status"] == "damaged"
    before = (sweep / "1" / "loss.csv").read_bytes()

    resumed = start("-m", "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    stderr = finish(resumed)
    assert resumed.returncode == 1 and "Traceback" not in stderr
    assert f"{sweep / '1'}: result.json is damaged" in stderr
    assert "nothing was overwritten. Pass rerun=true" in stderr
    assert (sweep / "1" / "loss.csv").read_bytes() == before

    rerun = start("-m", "seed=0,1", "rerun=true", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert rerun.wait(120) == 0, finish(rerun)
    assert_whole(sweep / "1", 0.01)
    [aside] = (sweep / "1" / ".replaced").iterdir()
    assert (aside / "loss.csv").read_bytes() == before
    assert (aside / "result.json").read_text() == content
