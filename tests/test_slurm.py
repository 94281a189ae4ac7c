"""nnsweep on a real single-node SLURM cluster (tests/cluster/slurm.py), through
``hydra/launcher=slurm``: every job a SLURM job, the same files as the default launcher,
the report once at the end, a cancelled or failing job reported and resumable, two sweeps
at once apart, and a job too large for the memory asked of SLURM refused before anything
is queued.

The cluster is started once (all these tests run in one pytest-xdist worker: the
``slurm`` group) and stopped at the end, pass or fail. Its fixtures are the session's,
not the module's: xdist may run other modules' tests between these in that worker, and a
module's fixtures would then be stopped and started again each time. Where it cannot start
(not root, no apt-get) the tests that need it are skipped with the reason; in CI
(``CI=true``) they fail instead.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cluster import slurm

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("slurm")]

FAULTS = str(Path(__file__).parent / "fault_injection")  # NNSWEEP_WAIT_FOR, NNSWEEP_FAIL_SEED
ON_SLURM = ("hydra/launcher=slurm", "figures=[]")
NO_REPORT = "~hydra.callbacks.report"
SWEEP_TIMEOUT = 180  # seconds: far more than any of these sweeps takes


def start_cluster(accounting: bool) -> Iterator[slurm.Cluster]:
    root = Path(tempfile.mkdtemp(prefix="nnsweep-slurm-"))
    try:
        cluster = slurm.up(root, accounting=accounting)
    except slurm.Unavailable as why:
        shutil.rmtree(root, ignore_errors=True)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the SLURM cluster: {why}")
        pytest.skip(f"no SLURM cluster here: {why}")
    try:
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster() -> Iterator[slurm.Cluster]:
    """The cluster with accounting (slurmdbd on MariaDB), as real clusters run."""
    yield from start_cluster(accounting=True)


@pytest.fixture(scope="session")
def bare_cluster() -> Iterator[slurm.Cluster]:
    """A cluster without accounting: sacct fails there."""
    yield from start_cluster(accounting=False)


def nnsweep(cluster: slurm.Cluster, folder: Path, *args: str, **env: str) -> subprocess.Popen:
    """``python -m nnsweep -m ARGS`` into ``folder``, started on the cluster, not waited for."""
    command = [sys.executable, "-m", "nnsweep", "-m", *args, f"hydra.sweep.dir={folder}"]
    return subprocess.Popen(
        command,
        cwd=folder.parent,
        env={**os.environ, **cluster.env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(sweep: subprocess.Popen) -> tuple[int, str]:
    """The sweep's exit code and console; a sweep still waiting after SWEEP_TIMEOUT hangs:
    it is killed and the test fails."""
    try:
        out, err = sweep.communicate(timeout=SWEEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        sweep.kill()
        out, err = sweep.communicate()
        pytest.fail(f"the sweep still waited after {SWEEP_TIMEOUT} s: {out}{err}")
    return sweep.returncode, out + err


def result(job_dir: Path) -> dict:
    return json.loads((job_dir / "result.json").read_text())


def job_logs(folder: Path) -> list[Path]:
    """The sweep's .submitit/ folders of its array's jobs (``12_0``, ``12_1``, ...)."""
    return [p for p in (folder / ".submitit").iterdir() if re.fullmatch(r"\d+_\d+", p.name)]


def without_times(record: dict) -> dict:
    """result.json but its times and where it ran (the SLURM job's id)."""
    kept = {k: v for k, v in record.items() if k != "environment"}
    kept["replicates"] = [
        {k: v for k, v in r.items() if k != "seconds"} for r in kept["replicates"]
    ]
    kept["environment"] = {
        k: v for k, v in record["environment"].items() if not k.startswith("slurm")
    }
    return kept


# --- the sweeps that need no timing, started at once (the cluster queues them) ----------

SWEEP = ("seed=0,1", "lr=0.5,1", "epochs=1500", "replicates=2", "figures=[]")
TWO_AT_ONCE = {"a": ("0", "1"), "b": ("5", "6")}


@pytest.fixture(scope="session")
def sweeps(cluster, tmp_path_factory) -> dict[str, tuple[Path, int, str]]:
    """Each sweep's folder, exit code and console: the 4-job SLURM sweep (its report
    without figures) and the default launcher's; a 3-job sweep whose job 1 raises; and two
    sweeps submitted at once. All run together, as a shared cluster would run them."""
    root = tmp_path_factory.mktemp("sweeps")
    report = "hydra.callbacks.report.figures=false"
    started = {
        "slurm": nnsweep(cluster, root / "slurm", *SWEEP, report, "hydra/launcher=slurm"),
        "basic": nnsweep(cluster, root / "basic", *SWEEP, NO_REPORT),
        "failing": nnsweep(
            cluster, root / "failing", "seed=0,1,2", "epochs=1000", *ON_SLURM,
            PYTHONPATH=FAULTS, NNSWEEP_FAIL_SEED="1",
        ),
    }  # fmt: skip
    for name, seeds in TWO_AT_ONCE.items():
        args = (f"seed={','.join(seeds)}", "epochs=1000", *ON_SLURM)
        started[name] = nnsweep(cluster, root / name, *args)
    return {name: (root / name, *finish(sweep)) for name, sweep in started.items()}


@pytest.fixture(scope="session")
def both_sweeps(sweeps) -> dict:
    for name in ("slurm", "basic"):
        _, code, said = sweeps[name]
        assert code == 0, said
    return {"slurm": sweeps["slurm"][0], "basic": sweeps["basic"][0], "said": sweeps["slurm"][2]}


def test_every_job_runs_as_a_slurm_job_with_the_default_launchers_files(cluster, both_sweeps):
    slurm_jobs = [both_sweeps["slurm"] / str(n) for n in range(4)]
    basic_jobs = [both_sweeps["basic"] / str(n) for n in range(4)]
    ids = [result(job)["environment"].get("slurm_array_task") for job in slurm_jobs]
    assert all(ids) and len(set(ids)) == 4, ids
    for job in slurm_jobs:  # each its own SLURM job id, as SLURM_JOB_ID gave it
        assert result(job)["environment"]["slurm_job_id"].isdigit()
    array, expected = ids[0].split("_")[0], sorted(f"{i}|COMPLETED" for i in ids)
    sacct = ("sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", array)
    for _ in range(50):  # the accounting hears of a job's end a moment after it ends
        if sorted(listed := cluster.run(*sacct).stdout.split()) == expected:
            break
        time.sleep(0.2)
    assert sorted(listed) == expected
    assert not any("slurm" in key for key in result(basic_jobs[0])["environment"])
    for on_slurm, basic in zip(slurm_jobs, basic_jobs, strict=True):
        for name in ("loss.csv", "layers.csv"):
            assert (on_slurm / name).read_bytes() == (basic / name).read_bytes()
        assert without_times(result(on_slurm)) == without_times(result(basic))


def test_the_report_is_written_once_after_the_last_job_ends(both_sweeps):
    folder, said = both_sweeps["slurm"], both_sweeps["said"]
    assert said.count("report: ") == 1, said
    last_job = max((folder / str(n) / "result.json").stat().st_mtime_ns for n in range(4))
    report = folder / "report"
    assert min(p.stat().st_mtime_ns for p in report.iterdir()) > last_job
    runs = (report / "runs.csv").read_text().splitlines()
    assert len(runs) == 1 + 4 * 2  # a row per job and replicate


# --- 3: scancel ------------------------------------------------------------------------


def cancel_job_1(cluster: slurm.Cluster, folder: Path) -> tuple[int, str, float]:
    """A 2-job sweep whose jobs wait once running; job 1 is cancelled with scancel, then
    job 0 goes on. Returns the exit code, the console and the seconds the sweep took
    after the scancel."""
    go = folder.parent / f"{folder.name}-go"
    sweep = nnsweep(
        cluster, folder, "seed=0,1", "epochs=2000", *ON_SLURM,
        PYTHONPATH=FAULTS, NNSWEEP_WAIT_FOR=str(go),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _says_running(folder / "1"):
        assert sweep.poll() is None and time.monotonic() < deadline, "job 1 never ran"
        time.sleep(0.2)
    [job_1] = [p.name for p in job_logs(folder) if p.name.endswith("_1")]
    cluster.run("scancel", job_1)
    cancelled = time.monotonic()
    go.touch()
    code, said = finish(sweep)
    return code, said, time.monotonic() - cancelled


def _says_running(job_dir: Path) -> bool:
    try:
        return result(job_dir)["status"] == "running"
    except (OSError, ValueError):
        return False


def resume(cluster: slurm.Cluster, said: str) -> tuple[int, str]:
    """The command the sweep's last line gives to resume it, run as given."""
    [command] = re.findall(r"resume with: (.+)", said)
    args = shlex.split(command)
    assert args[:3] == ["python", "-m", "nnsweep"]
    done = subprocess.run(
        [sys.executable, *args[1:]],
        env={**os.environ, **cluster.env},
        capture_output=True,
        text=True,
        timeout=SWEEP_TIMEOUT,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="session")
def cancelled(cluster, bare_cluster, tmp_path_factory) -> dict[str, tuple[Path, int, str, float]]:
    """cancel_job_1 on the cluster with accounting and on the one without, at once."""
    root = tmp_path_factory.mktemp("cancelled")
    clusters = {"accounting": cluster, "none": bare_cluster}
    with ThreadPoolExecutor(len(clusters)) as pool:
        runs = {k: pool.submit(cancel_job_1, c, root / k) for k, c in clusters.items()}
        return {k: (root / k, *run.result()) for k, run in runs.items()}


def test_a_cancelled_job_is_never_complete_the_sweep_ends_and_a_resume_reruns_it(
    cluster, cancelled
):
    folder, code, said, seconds = cancelled["accounting"]
    assert code == 1, said
    assert seconds < 60, f"the sweep took {seconds:.0f} s to end after the scancel"
    assert re.search(r"job 1 seed=1.*ended CANCELLED", said), said
    assert result(folder / "1")["status"] == "failed"
    assert "SIGTERM" in result(folder / "1")["error"]
    assert not (folder / "1" / "loss.csv").exists()
    assert result(folder / "0")["status"] == "complete"
    kept = (folder / "0" / "result.json").read_bytes()

    code, said = resume(cluster, said)
    assert code == 0, said
    assert result(folder / "1")["status"] == "complete"
    assert (folder / "0" / "result.json").read_bytes() == kept  # job 0 skipped, not rerun
    assert "skipped" in (folder / "0" / "nnsweep.log").read_text()
    assert "skipped" not in (folder / "1" / "nnsweep.log").read_text()


def test_without_accounting_a_cancelled_job_still_ends_the_sweep_in_one_line(
    bare_cluster, cancelled
):
    assert bare_cluster.run("sacct", check=False).returncode != 0  # no accounting here
    folder, code, said, seconds = cancelled["none"]
    assert code == 1, said
    assert seconds < 60, f"the sweep took {seconds:.0f} s to end after the scancel"
    assert re.search(r"job 1 seed=1.*ended CANCELLED", said), said
    assert result(folder / "1")["status"] == "failed"
    assert result(folder / "0")["status"] == "complete"
    assert said.count("sacct fails on this cluster") == 1, said
    assert said.count("accounting storage is disabled") == 1, said  # sacct's words, once


def test_ctrl_c_stops_the_sweep_and_its_slurm_jobs_each_marked_failed(cluster, tmp_path):
    folder = tmp_path / "sweep"
    sweep = nnsweep(
        cluster, folder, "seed=0,1", "epochs=1000", *ON_SLURM,
        PYTHONPATH=FAULTS, NNSWEEP_WAIT_FOR=str(tmp_path / "never"),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (_says_running(folder / "0") and _says_running(folder / "1")):
        assert sweep.poll() is None and time.monotonic() < deadline, "the jobs never ran"
        time.sleep(0.2)
    sweep.send_signal(signal.SIGINT)
    code, said = finish(sweep)
    assert code == 130, said
    assert "interrupted: 2 marked failed; resume with: python -m nnsweep" in said, said
    assert [result(folder / j)["status"] for j in "01"] == ["failed", "failed"]
    [array] = {p.name.split("_")[0] for p in job_logs(folder)}
    left = cluster.run("squeue", "-h", "-j", array, "--states=pending,running", check=False)
    assert not left.stdout.strip(), left.stdout  # nothing of the sweep's left on SLURM


def test_submitits_sacct_warnings_are_said_once(bare_cluster, monkeypatch, capfd):
    """hydra/launcher=submitit_slurm calls sacct at every look: the checked sweeper puts a
    filter on submitit's logger that says it once."""
    pytest.importorskip("submitit")
    from submitit.slurm.slurm import SlurmInfoWatcher

    from hydra_plugins.nnsweep_sweeper.slurm_launcher import quiet_sacct

    monkeypatch.setenv("SLURM_CONF", bare_cluster.env["SLURM_CONF"])
    quiet_sacct()
    watcher = SlurmInfoWatcher()
    watcher.register_job("1")
    for _ in range(3):
        watcher.update()  # sacct fails each time, and submitit warns each time
    out, err = capfd.readouterr()
    assert watcher.num_calls == 3
    assert "Bypassing sacct error" not in out + err
    assert (out + err).count("sacct fails on this cluster (no accounting?)") == 1


# --- 4: a job that fails inside --------------------------------------------------------


def test_a_job_that_fails_inside_is_reported_with_its_error_and_the_others_stand(sweeps):
    folder, code, said = sweeps["failing"]
    assert code == 1, said
    assert re.search(r"job 1 seed=1.*RuntimeError: injected failure for seed 1", said), said
    assert "1 of 3 jobs did not complete; the others' results stand" in said
    assert "Traceback" not in said
    assert "injected failure for seed 1" in result(folder / "1")["error"]
    for job in ("0", "2"):
        assert result(folder / job)["status"] == "complete"
        assert (folder / job / "loss.csv").stat().st_size > 0
    script = shutil.which("nnsweep-report", path=str(Path(sys.executable).parent))
    assert script, "the console script nnsweep-report is installed beside the interpreter"
    report = subprocess.run([script, str(folder)], capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    table = (folder / "report" / "report.md").read_text()
    assert re.search(r"\| 1 \| failed \| RuntimeError: injected failure for seed 1", table)


# --- 5: two sweeps at once -------------------------------------------------------------


def test_two_sweeps_submitted_at_once_into_different_folders_do_not_mix(sweeps):
    arrays = {}
    for name, wanted in TWO_AT_ONCE.items():
        folder, code, said = sweeps[name]
        assert code == 0, f"{name}: {said}"
        jobs = sorted(p for p in folder.iterdir() if p.name.isdigit())
        assert [result(j)["config"]["seed"] for j in jobs] == [int(s) for s in wanted]
        tasks = {result(j)["environment"]["slurm_array_task"] for j in jobs}
        arrays[name] = {t.split("_")[0] for t in tasks}
        assert len(arrays[name]) == 1  # one array per sweep
        logs = {p.name for p in job_logs(folder)}
        assert logs == tasks  # its own jobs' logs, only
    assert arrays["a"] != arrays["b"]


# --- 6: the memory asked of SLURM --------------------------------------------------------


def test_a_job_too_large_for_mem_gb_is_refused_before_anything_is_queued(cluster, tmp_path):
    folder = tmp_path / "sweep"
    queued_before = _jobs_known(cluster)
    # job 1's loss history alone is about 1 GB: with the job's own process, more than 1 GB
    sweep = nnsweep(cluster, folder, "epochs=1000,60000000", *ON_SLURM, "hydra.launcher.mem_gb=1")
    code, said = finish(sweep)
    assert code == 1, said
    refused = [line for line in said.splitlines() if "refused" in line]
    assert len(refused) == 1 and "Traceback" not in said, said
    assert "epochs=60000000" in said and "hydra.launcher.mem_gb=1 asks of SLURM" in said
    assert "allowed: hydra.launcher.mem_gb=2 or more" in said
    assert not folder.exists()  # nothing written, nothing queued
    assert _jobs_known(cluster) == queued_before


def test_a_partition_sbatch_refuses_is_one_line_without_a_traceback(cluster, tmp_path):
    sweep = nnsweep(
        cluster, tmp_path / "sweep", "lr=0.5,1", *ON_SLURM, "hydra.launcher.partition=nope"
    )
    code, said = finish(sweep)
    assert code == 1, said
    assert "SLURM refused the jobs: sbatch: error: invalid partition specified: nope" in said
    assert "Traceback" not in said


def _jobs_known(cluster: slurm.Cluster) -> list[str]:
    """Every job the controller knows of, ended ones too."""
    listed = cluster.run("squeue", "-h", "--states=all", "-o", "%i").stdout
    return sorted(listed.split())


# --- the launcher's own arithmetic, no cluster needed ----------------------------------


def test_the_memory_asked_is_read_from_mem_gb_or_mem_per_cpu():
    from omegaconf import OmegaConf

    from hydra_plugins.nnsweep_sweeper.slurm_launcher import asked_bytes

    assert asked_bytes(OmegaConf.create({"mem_gb": 2}))[0] == 2 * 2**30
    per_cpu = OmegaConf.create({"mem_gb": None, "mem_per_cpu": "1500M", "cpus_per_task": 2})
    assert asked_bytes(per_cpu)[0] == 3000 * 2**20
    assert asked_bytes(OmegaConf.create({"mem_gb": None, "mem_per_cpu": None})) is None


def test_the_time_limit_grows_with_the_epoch_cap():
    from hydra_plugins.nnsweep_sweeper.slurm_launcher import MIN_MINUTES, time_limit
    from nnsweep import compose

    small = compose(["epochs=1000"])
    large = compose(["epochs=100000000", "dataset=linear"])
    larger = compose(["epochs=200000000", "dataset=linear"])
    assert time_limit([small]) == MIN_MINUTES
    assert time_limit([small, large]) == time_limit([large]) > MIN_MINUTES  # the slowest's
    assert time_limit([larger]) > 1.9 * time_limit([large])
