"""Inputs an adversary would try: each ends in one clear line, never a traceback, and
never costs or mixes data (issue "nothing lost, round two")."""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from synthetic import config, write_job

from nnsweep.cli.predict import main as predict_main
from nnsweep.cli.report import main as report_main
from nnsweep.job import result_json
from nnsweep.job.build import build
from nnsweep.job.compose import compose
from nnsweep.job.figures import frames
from nnsweep.job.lock import JobDirTaken, job_lock
from nnsweep.job.params_npz import UnreadableNetworks, load_networks, saved_history
from nnsweep.job.run import run
from nnsweep.report.tables import load

FAULTS = Path(__file__).parent / "fault_injection"  # a subprocess's test-only hooks


def nnsweep(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nnsweep", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("final_loss", "abc", 'final_loss is "abc", not a number or null'),
        ("epochs", None, "epochs is null, not an integer"),
        ("converged", "yes", 'converged is "yes", not true or false'),
    ],
)
def test_a_result_json_with_wrong_types_is_listed_damaged_and_the_report_goes_on(
    tmp_path, caplog, key, value, said
):
    sweep = tmp_path / "sweep"
    write_job(sweep / "0", config(lr=0.1), [500])
    write_job(sweep / "1", config(lr=1.0), [300])
    path = sweep / "1" / "result.json"
    result = json.loads(path.read_text())
    result["replicates"][0][key] = value
    path.write_text(json.dumps(result))
    assert report_main([str(sweep), "--no-figures"]) == 0
    runs = load(sweep).runs
    assert runs.set_index("job").loc["1", "status"] == "damaged"
    assert said in runs.set_index("job").loc["1", "error"]
    assert runs.set_index("job").loc["0", "status"] == "complete"
    assert (sweep / "report" / "report.md").is_file()


def test_a_symlink_loop_counts_each_job_once(tmp_path, caplog):
    sweep = tmp_path / "sweep"
    write_job(sweep / "0", config(lr=0.1), [500])
    write_job(sweep / "1", config(lr=1.0), [300])
    os.symlink(".", sweep / "self")
    os.symlink("..", sweep / "0" / "up")
    assert len(load(sweep).jobs) == 2


@pytest.mark.slow
def test_resuming_with_the_other_engine_refuses_and_keeps_the_first_engines_files(tmp_path):
    """The engines part on chaotic runs: a folder's results say which engine made them."""
    args = ["epochs=300", "figures=[]", f"hydra.run.dir={tmp_path}"]
    assert nnsweep(*args).returncode == 0
    before = (tmp_path / "loss.csv").read_bytes()
    again = nnsweep(*args, "engine=numpy")
    assert again.returncode == 1
    assert "holds a complete result of another config" in again.stderr
    assert (tmp_path / "loss.csv").read_bytes() == before
    assert json.loads((tmp_path / "result.json").read_text())["config"]["engine"] == "numba"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real job of two replicates, trained once for the tests that damage copies of it."""
    job = tmp_path_factory.mktemp("trained") / "job"
    done = nnsweep(
        "epochs=200", "replicates=2", "snapshots=3", "figures=[]", f"hydra.run.dir={job}"
    )
    assert done.returncode == 0, done.stderr
    return job


@pytest.fixture
def job(trained, tmp_path):
    copy = tmp_path / "job"
    shutil.copytree(trained, copy)
    return copy


def predict_error(*argv: str) -> str:
    """nnsweep-predict's one line for ``argv``; a traceback fails the test."""
    with pytest.raises(SystemExit) as stop:
        predict_main(list(argv))
    assert isinstance(stop.value.code, str), stop.value.code  # a message, not a bare code
    return stop.value.code


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("x1,x2\n0.1,0.2,0.3\n", "line 2: '0.1,0.2,0.3' is not two finite numbers"),
        ("x1,x2\na,b\n", "line 2: 'a,b' is not two finite numbers"),
        ("x1,x2\n0.1,0.2\n0.3\n", "line 3: '0.3' is not two finite numbers"),
        ("", "no points"),
        ("x1,x2\n", "no points"),
        ("x1;x2\n0.1;0.2\n", "line 1, 'x1;x2', is not a header of two columns, x1,x2"),
        ("x1,x2\n0.1;0.2\n", "line 2: '0.1;0.2' is not two finite numbers"),
        ("0.1,0.2\n0.3,0.4\n", "line 1 is a point; the first line must be a header, x1,x2"),
        ("x1,x2\nnan,0.2\n", "line 2: 'nan,0.2' is not two finite numbers"),
        ("x1;x2\n0.1,0.2\n", "line 1, 'x1;x2', is not a header of two columns, x1,x2"),
        ("x1,x2\n0.1,inf\n", "line 2: '0.1,inf' is not two finite numbers"),
    ],
)
def test_a_bad_points_file_is_one_line_naming_the_file_and_line(job, tmp_path, content, said):
    points = tmp_path / "points.csv"
    points.write_text(content)
    assert said in predict_error(str(job), "--csv", str(points))


def test_a_missing_points_file_or_a_folder_is_one_line(job, tmp_path):
    assert "No such file or directory" in predict_error(str(job), "--csv", str(tmp_path / "no"))
    assert "is a folder; give a CSV file" in predict_error(str(job), "--csv", str(tmp_path))


@pytest.mark.parametrize("point", [["nan", "0.2"], ["0.1", "inf"], ["--", "-inf", "0"]])
def test_a_point_that_is_not_finite_is_refused(job, point):
    assert "is not two finite numbers" in predict_error(str(job), *point)


def vouch_for(job: Path) -> None:
    """result.json's checksums rewritten for the files as they are now: damage that the
    checksum alone would not catch."""
    path = job / "result.json"
    result = json.loads(path.read_text())
    result["files"] = result_json.file_records(job)
    path.write_text(json.dumps(result))


def rewrite_params(job: Path, **changes) -> None:
    with np.load(job / "params.npz") as archive:
        saved = {key: archive[key] for key in archive.files}
    saved.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del saved[key]
    np.savez(job / "params.npz", **saved)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda j: (j / "params.npz").write_bytes((j / "params.npz").read_bytes()[:500]),
         "not a NumPy archive nnsweep wrote"),
        (lambda j: (j / "params.npz").write_bytes(b"garbage" * 50), "not a NumPy archive"),
        (lambda j: (j / "params.npz").write_bytes(b""), "not a NumPy archive"),
        (lambda j: rewrite_params(j, final=np.zeros((2, 5))), "final has shape (2, 5), not (2, 37"),
        (lambda j: rewrite_params(j, seeds=np.array([1, 2], dtype=object)), "not a NumPy archive"),
        (lambda j: rewrite_params(j, snapshots=None), "no snapshots"),
        (lambda j: rewrite_params(j, activations=np.array(["sigmoid", "swish", "sigmoid"])),
         "unknown activation 'swish'"),
    ],
)  # fmt: skip
def test_a_damaged_params_npz_is_one_line_naming_the_file(job, damage, said):
    damage(job)
    assert "not this job's networks" in predict_error(str(job), "0.1", "0.2")  # checksum first
    vouch_for(job)
    error = predict_error(str(job), "0.1", "0.2")
    assert said in error and "params.npz" in error
    with pytest.raises(UnreadableNetworks, match=said.replace("(", r"\(").replace(")", r"\)")):
        load_networks(job)


def test_networks_of_another_run_left_beside_a_result_json_are_refused(job):
    result = json.loads((job / "result.json").read_text())
    (job / "result.json").write_text(json.dumps({**result, "status": "failed", "error": "x"}))
    assert "the job is failed, not complete" in predict_error(str(job), "0.1", "0.2")


@pytest.mark.slow
def test_a_damaged_result_json_never_lets_another_config_overwrite_its_data(tmp_path):
    """The issue's case: lr=0.1's files stay when a sweep with lr=0.5 reaches its folder."""
    sweep = tmp_path / "S"
    tiny = ["figures=[]", "epochs=2000", "replicates=2", f"hydra.sweep.dir={sweep}"]
    assert nnsweep("-m", "lr=0.1,1", *tiny).returncode == 0
    kept = {name: (sweep / "0" / name).read_bytes() for name in ("loss.csv", "params.npz")}
    damaged = sweep / "0" / "result.json"
    damaged.write_bytes(damaged.read_bytes()[:300])
    again = nnsweep("-m", "lr=0.5,1", *tiny)
    assert again.returncode != 0 and "Traceback" not in again.stderr
    assert f"{sweep / '0'}: result.json is damaged" in again.stderr
    assert {name: (sweep / "0" / name).read_bytes() for name in kept} == kept


@pytest.mark.slow
def test_an_interrupted_rerun_leaves_one_configs_files_and_predict_refuses(tmp_path):
    """The issue's case: a rerun stopped while training leaves no earlier files beside its
    result.json (they are moved aside, whole), and nnsweep-predict serves nothing."""
    args = ["figures=[]", "epochs=300", f"hydra.run.dir={tmp_path}"]
    assert nnsweep("lr=0.1", *args).returncode == 0
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    env = {**os.environ, "PYTHONPATH": str(FAULTS), "NNSWEEP_WAIT_FOR": str(tmp_path / "never")}
    command = [sys.executable, "-m", "nnsweep", "lr=0.2", "rerun=true", *args]
    rerun = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while '"running"' not in (tmp_path / "result.json").read_text():
        assert time.monotonic() < deadline and rerun.poll() is None
        time.sleep(0.05)
    rerun.send_signal(signal.SIGTERM)
    assert rerun.wait(60) != 0
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "failed"
    assert not any((tmp_path / name).exists() for name in ("loss.csv", "params.npz"))
    [aside] = (tmp_path / ".replaced").iterdir()
    assert all((aside / name).read_bytes() == data for name, data in first.items()
               if name in ("loss.csv", "layers.csv", "params.npz", "result.json"))  # fmt: skip
    assert "has no params.npz" in predict_error(str(tmp_path), "0.1", "0.2")


@pytest.mark.slow
def test_a_refused_sweep_keeps_the_folders_record_and_the_unstarted_jobs(tmp_path):
    """The issue's case: a sweep stopped in job 1 of 3, then a mistaken sweep into its
    folder. The mistake is refused before any job runs, multirun.yaml is the first
    sweep's still, and the report still knows job 2 never started."""
    sweep = tmp_path / "S"
    tiny = ["figures=[]", "epochs=200", f"hydra.sweep.dir={sweep}"]
    assert nnsweep("-m", "seed=0,1,2", *tiny).returncode == 0
    shutil.rmtree(sweep / "2")  # never started
    stopped = json.loads((sweep / "1" / "result.json").read_text())
    stopped = {"status": "running", "pid": 2**22 + 1, "host": "gone", **stopped}
    (sweep / "1" / "result.json").write_text(json.dumps({**stopped, "status": "running"}))
    record = (sweep / "multirun.yaml").read_bytes()
    statuses = load(sweep).jobs["status"].tolist()
    assert statuses == ["complete", "interrupted", "never started"]

    mistake = nnsweep("-m", "lr=0.5", *tiny)
    assert mistake.returncode == 1 and "Traceback" not in mistake.stderr
    assert f"refused: {sweep / '0'} holds a complete result of another config" in mistake.stderr
    assert (sweep / "multirun.yaml").read_bytes() == record
    assert not list(sweep.glob("multirun-*.yaml"))
    assert load(sweep).jobs["status"].tolist() == statuses


@pytest.mark.slow
def test_a_sweep_refused_at_once_leaves_no_folder(tmp_path):
    sweep = tmp_path / "S"
    refused = nnsweep("-m", "lr=0.1,-1", "figures=[]", f"hydra.sweep.dir={sweep}")
    assert refused.returncode == 1 and "lr=-1.0 is out of range" in refused.stderr
    assert not sweep.exists()


@pytest.mark.slow
def test_a_second_sweep_into_a_folder_keeps_the_firsts_record(tmp_path):
    sweep = tmp_path / "S"
    tiny = ["figures=[]", "epochs=200", f"hydra.sweep.dir={sweep}"]
    assert nnsweep("-m", "seed=0,1", *tiny).returncode == 0
    first = (sweep / "multirun.yaml").read_bytes()
    assert nnsweep("-m", "seed=0,1", *tiny).returncode == 0  # a resume: one record
    assert not list(sweep.glob("multirun-*.yaml"))
    assert nnsweep("-m", "seed=0,1,2", *tiny).returncode == 0
    [kept] = sweep.glob("multirun-*.yaml")
    assert kept.read_bytes() == first and (sweep / "multirun.yaml").read_bytes() != first
    assert load(sweep).jobs["status"].tolist() == ["complete"] * 3


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["optimiser=adam"], "optimiser is not a field of nnsweep's config; "
         "did you mean optimizer?"),
        (["-m", "lr=0.1", "0.01"], "'0.01' is not field=value; a sweep's values are joined by "
         "commas, without spaces: python -m nnsweep -m lr=0.1,0.01"),
        (["dataset.nn=3"], "dataset.nn is not a field of any dataset; did you mean dataset.n?"),
    ],
)  # fmt: skip
def test_a_misspelt_field_or_a_spaced_sweep_is_one_line_before_hydra(tmp_path, args, said):
    done = nnsweep(*args, f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 1
    assert done.stderr.strip() == said
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_hundred_point_run_prints_the_labs_21_predictions_and_logs_all(tmp_path):
    done = nnsweep("dataset=linear", "epochs=50", "figures=[]", f"hydra.run.dir={tmp_path}")
    shown = [line for line in done.stderr.splitlines() if "Prediction " in line]
    assert len(shown) == 21 and shown[-1].endswith(tuple("0123456789"))
    assert "... 79 more predictions in nnsweep.log" in done.stderr
    assert (tmp_path / "nnsweep.log").read_text().count("Prediction ") == 100


@pytest.mark.slow
def test_the_processs_own_memory_limit_is_honoured_in_one_line(tmp_path):
    """Under ``ulimit -v`` a job that would not fit is refused before it allocates, not
    ended by a MemoryError."""

    def limit_address_space():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, resource.RLIM_INFINITY))

    command = [sys.executable, "-m", "nnsweep", "replicates=1000", "epochs=200000",
               "figures=[]", f"hydra.run.dir={tmp_path}"]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, preexec_fn=limit_address_space
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "of memory available" in done.stderr and "MemoryError" not in done.stderr


def test_the_lock_message_names_the_process_that_holds_the_lock_not_a_stale_pid(tmp_path):
    (tmp_path / ".lock").write_text("999999 gone-host\n")  # left by a process long gone
    hold = (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(tmp_path / ".lock")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(JobDirTaken) as taken, job_lock(tmp_path, {"lr": 0.1}):
            pass
        assert f"in use by process {holder.pid} on {socket.gethostname()}" in str(taken.value)
        assert "999999" not in str(taken.value)
    finally:
        holder.kill()


@pytest.mark.slow
def test_a_resumed_sweep_says_which_jobs_it_skipped(tmp_path):
    tiny = ["figures=[]", "epochs=100", f"hydra.sweep.dir={tmp_path}"]
    assert nnsweep("-m", "seed=0,1", *tiny).returncode == 0
    resumed = nnsweep("-m", "seed=0,1,2", *tiny)
    skipped = [line for line in resumed.stderr.splitlines() if "skipped" in line]
    assert len(skipped) == 2 and "job 0 (1/3) seed=0" in skipped[0]
    assert "complete for the same config, skipped (rerun=true runs it again)" in skipped[1]


@pytest.fixture
def small_disk(tmp_path):
    """A 60 kB file system of the test's own (tmpfs; needs root, as CI runs)."""
    mounted = tmp_path / "disk"
    mounted.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=60k", "tmpfs", str(mounted)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    yield mounted
    subprocess.run(["umount", str(mounted)], check=True)


@pytest.mark.slow
def test_files_that_will_not_fit_on_the_disk_are_refused_before_training(small_disk):
    done = nnsweep("epochs=20000", "figures=[]", f"hydra.run.dir={small_disk / 'run'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "replicates=1, epochs=20000 would write about" in done.stderr
    assert f"MB free in {small_disk / 'run'}" in done.stderr


@pytest.mark.slow
def test_a_disk_that_fills_while_writing_is_one_line_with_the_command_that_resumes(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(FAULTS), "NNSWEEP_DISK_FULL": "1"}
    command = [sys.executable, "-m", "nnsweep", "epochs=300", "figures=[]",
               f"hydra.run.dir={tmp_path}"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "No space left on device: the run" in done.stderr
    assert "run it again with: python -m nnsweep epochs=300" in done.stderr


@pytest.mark.slow
def test_a_read_only_output_folder_is_one_line_before_hydra(small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    done = nnsweep("epochs=100", f"hydra.run.dir={small_disk / 'run'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"hydra.run.dir={small_disk / 'run'}: {small_disk} cannot be written; choose another folder"
    )


def test_a_diverged_job_is_complete_not_damaged(tmp_path):
    """Its final loss and accuracy are null (not finite): result.json's own shape."""
    write_job(tmp_path / "0", config(lr=0.1), [500])
    path = tmp_path / "0" / "result.json"
    result = json.loads(path.read_text())
    result["replicates"][0] |= {"final_loss": None, "final_accuracy": None, "diverged": True}
    path.write_text(json.dumps(result))
    assert result_json.shape_problem(result) is None
    assert load(tmp_path).jobs["status"].tolist() == ["complete"]


def _parallel_sweep(sweep: Path) -> subprocess.Popen:
    """A joblib sweep of 4 long jobs, in a process group of its own (as a terminal's), once
    its first two jobs are training."""
    command = [sys.executable, "-m", "nnsweep", "-m", "seed=0,1,2,3", "dataset=linear",
               "lr=0.0001", "epochs=50000000", "figures=[]", "hydra/launcher=joblib",
               f"hydra.sweep.dir={sweep}"]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not all((sweep / job / "result.json").is_file() for job in "01"):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    return proc


def _stopped(proc: subprocess.Popen) -> str:
    try:
        return proc.communicate(timeout=90)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["ctrl-c", "killed worker"])
def test_a_stopped_parallel_sweep_prints_one_resume_line_and_true_statuses(tmp_path, stop):
    sweep = tmp_path / "S"
    proc = _parallel_sweep(sweep)
    if stop == "ctrl-c":  # a terminal sends SIGINT to the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        workers = subprocess.run(["pgrep", "-g", str(proc.pid), "-f", "LokyProcess"],
                                 capture_output=True, text=True).stdout.split()  # fmt: skip
        os.kill(int(workers[0]), signal.SIGKILL)
    stderr = _stopped(proc)
    assert proc.returncode == (130 if stop == "ctrl-c" else 1)
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if "resume with" in line]
    assert "resume with: python -m nnsweep -m seed=0,1,2,3" in line
    assert line.endswith(f"hydra.sweep.dir={sweep}") and "2 never started" in line
    statuses = [json.loads((sweep / job / "result.json").read_text())["status"] for job in "01"]
    assert "running" not in statuses and "complete" not in statuses


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["log_every=0"], "log_every=0 is out of range; allowed: an integer from 1 to"),
        (["replicates=100000", "hidden_units=100000"], "of memory available"),
    ],
)
def test_a_single_run_checks_fields_and_memory_before_the_disk(tmp_path, args, said):
    done = nnsweep(*args, "figures=[]", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert said in done.stderr and "would write" not in done.stderr


def test_a_bad_field_on_a_complete_folder_touches_none_of_it(tmp_path):
    args = ["epochs=10", "figures=[]", f"hydra.run.dir={tmp_path}"]
    assert nnsweep(*args).returncode == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    for rerun in ("false", "true"):
        refused = nnsweep(*args, "log_every=0", f"rerun={rerun}")
        assert refused.returncode == 1 and "log_every=0 is out of range" in refused.stderr
        assert "skipped" not in refused.stderr and "moved" not in refused.stderr
    assert not (tmp_path / ".replaced").exists()
    assert OmegaConf.load(tmp_path / ".hydra" / "config.yaml").log_every == 100
    assert "log_every=0" not in (tmp_path / ".hydra" / "overrides.yaml").read_text()
    kept = {name: (tmp_path / name).read_bytes() for name in before if name != "nnsweep.log"}
    assert kept == {name: data for name, data in before.items() if name != "nnsweep.log"}


@pytest.mark.slow
def test_a_resume_draws_the_figures_a_job_lacks_without_training_it_again(tmp_path):
    """Figures asked for on a resume, or lost to a kill while drawing, are drawn from the
    job's files, and it says so."""
    args = ["epochs=300", "snapshots=4", f"hydra.run.dir={tmp_path}"]
    assert nnsweep(*args, "figures=[]").returncode == 0
    data = {name: (tmp_path / name).read_bytes() for name in ("loss.csv", "params.npz")}
    resumed = nnsweep(*args, "figures=[prediction,learning_curve,boundary]")
    assert resumed.returncode == 0, resumed.stderr
    assert "drawing prediction.png, learning_curve.png, boundary.gif from its files" in (
        resumed.stderr
    )
    for name in ("prediction.png", "learning_curve.png", "boundary.gif"):
        assert (tmp_path / name).stat().st_size > 0
    assert {name: (tmp_path / name).read_bytes() for name in data} == data  # not trained again
    (tmp_path / "learning_curve.png").unlink()  # lost to a kill while drawing
    again = nnsweep(*args, "figures=[prediction,learning_curve,boundary]")
    assert "drawing learning_curve.png from its files" in again.stderr


@pytest.mark.parametrize(
    "overrides", [["epochs=300"], ["optimizer=adam", "lr=0.05", "epochs=3000"]]
)
def test_every_frame_of_boundary_gif_is_the_snapshot_predict_gives_at_its_epoch(
    tmp_path, overrides, capsys
):
    """One numbering: a frame titled "after epoch k" holds what ``--epoch k`` predicts with."""
    cfg = compose([*overrides, "snapshots=8", "figures=[]"])
    run(cfg, tmp_path)
    result = json.loads((tmp_path / "result.json").read_text())
    shown = frames(build(cfg), saved_history(tmp_path, result), 0)
    [network] = load_networks(tmp_path)
    for frame in shown[:-1]:
        np.testing.assert_array_equal(network.at(frame.epoch), frame.params)
    expected = network.predict([[0.1, 0.9]], shown[-2].params)[0, 0]
    epoch = ["--epoch", str(shown[-2].epoch)]
    for argv in ([str(tmp_path), "0.1", "0.9", *epoch], [str(tmp_path), *epoch, "0.1", "0.9"]):
        predict_main(argv)  # the point before the option or after it
        assert capsys.readouterr().out.splitlines()[1] == f"0.1,0.9,{expected:.10g}"


def test_ctrl_c_inside_a_c_callback_prints_no_ignored_traceback(capsys, monkeypatch):
    """The CI run that found it: Ctrl-C while a worker's numba wrote its cache, which
    Python reports as an ignored exception, as it does one raised in ``__del__``."""
    from nnsweep.cli.main import _stop_is_no_error

    class RaisesWhenDeleted:
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    monkeypatch.setattr(sys, "unraisablehook", _stop_is_no_error)
    RaisesWhenDeleted(KeyboardInterrupt())
    assert capsys.readouterr().err == ""
    RaisesWhenDeleted(ValueError("kept"))
    assert "ValueError: kept" in capsys.readouterr().err
