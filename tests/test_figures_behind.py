"""A sweep's job figures drawn behind it, by a forked process while the next job trains
(nnsweep.job.figures_behind): the folder stays locked until they are drawn, their
failures reach result.json, and nothing waits for them longer than it must."""

import fcntl
import json
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hydra import compose, initialize_config_dir

from nnsweep.figures import learning_curve
from nnsweep.job import figures, figures_behind, lock
from nnsweep.job.preflight import estimate_bytes
from nnsweep.job.run import run
from nnsweep.job.schema import CONFIG_DIR, register

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="figures are forked on Linux")

JOB = ("epochs=20", "print_predictions=false", "figures=[prediction,learning_curve]")


def compose_config(*overrides: str):
    register()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=[*JOB, *overrides])


@pytest.fixture
def behind(monkeypatch):
    """A sweep's job after its first: covered by the next job's training (whatever this
    machine's speed), in a process that has drawn before."""
    monkeypatch.setattr(figures_behind, "covered", lambda *times: True)
    monkeypatch.setattr(figures_behind, "_warm", True)
    yield
    figures_behind.finish()


def record_drawer(monkeypatch, delay: float = 0.0, exit_code: int | None = None) -> None:
    """Each job's figures write which process drew them into ``drawn_by``, after
    ``delay`` seconds; with ``exit_code`` that process dies instead of drawing."""
    draw_figures = figures.draw_figures

    def drawing(cfg, e, history, tables, job_dir, names=None):
        time.sleep(delay)
        if exit_code is not None:
            os._exit(exit_code)
        (Path(job_dir) / "drawn_by").write_text(str(os.getpid()))
        return draw_figures(cfg, e, history, tables, job_dir, names)

    monkeypatch.setattr(figures, "draw_figures", drawing)


def test_a_covered_job_returns_while_a_forked_process_draws_holding_its_folder(
    tmp_path, monkeypatch, behind
):
    record_drawer(monkeypatch, delay=1.5)
    run(compose_config(), tmp_path, behind=True)
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "complete"
    assert lock.is_locked(tmp_path)  # by the drawing process: no other process writes there yet
    named = lambda: (tmp_path / lock.LOCK_FILE).read_text().split()[0]  # noqa: E731
    deadline = time.monotonic() + 5
    while named() == str(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert named() != str(os.getpid())  # the lock file names the drawing process
    assert not (tmp_path / "prediction.png").exists()
    figures_behind.finish()
    assert not lock.is_locked(tmp_path)
    assert int((tmp_path / "drawn_by").read_text()) != os.getpid()
    assert (tmp_path / "prediction.png").is_file() and (tmp_path / "learning_curve.png").is_file()


def test_the_next_job_waits_for_the_last_figures_before_drawing_its_own(
    tmp_path, monkeypatch, behind
):
    record_drawer(monkeypatch, delay=1.0)
    run(compose_config(), tmp_path / "0", behind=True)
    run(compose_config("seed=1"), tmp_path / "1", behind=True)
    assert (tmp_path / "0" / "learning_curve.png").is_file()  # one drawing process at a time
    assert not (tmp_path / "1" / "learning_curve.png").exists()


@pytest.mark.parametrize(
    ("sweep", "covered", "warm"),
    [(False, True, True), (True, False, True), (True, True, False)],
    ids=["a single run", "a job too short to hide them", "a sweep's first drawing"],
)
def test_figures_are_drawn_here_unless_a_warm_sweep_process_is_covered(
    tmp_path, monkeypatch, sweep, covered, warm
):
    record_drawer(monkeypatch)
    monkeypatch.setattr(figures_behind, "covered", lambda *times: covered)
    monkeypatch.setattr(figures_behind, "_warm", warm)
    run(compose_config(), tmp_path, behind=sweep)
    assert int((tmp_path / "drawn_by").read_text()) == os.getpid()
    assert (tmp_path / "learning_curve.png").is_file()
    assert figures_behind._warm  # and the next covered job's figures go behind


def test_a_job_whose_arrays_leave_no_memory_for_the_next_beside_them_draws_here(
    tmp_path, monkeypatch, behind
):
    record_drawer(monkeypatch)
    arrays = estimate_bytes(compose_config())
    monkeypatch.setattr(figures_behind, "available_memory", lambda: 2 * arrays - 1)
    run(compose_config(), tmp_path, behind=True)
    assert int((tmp_path / "drawn_by").read_text()) == os.getpid()
    monkeypatch.setattr(figures_behind, "available_memory", lambda: 2 * arrays)
    run(compose_config("seed=1"), tmp_path / "1", behind=True)
    figures_behind.finish()
    assert int((tmp_path / "1" / "drawn_by").read_text()) != os.getpid()


def test_a_figure_that_fails_behind_is_recorded_in_result_json_by_the_drawing_process(
    tmp_path, monkeypatch, behind
):
    def broken(*args):
        raise OverflowError("drawn behind")

    monkeypatch.setattr(learning_curve, "learning_curve_figure", broken)
    run(compose_config(), tmp_path, behind=True)
    figures_behind.finish()
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["status"] == "complete"
    assert result["figures_failed"] == {"learning_curve.png": "OverflowError: drawn behind"}


def test_a_drawing_process_that_dies_is_reported_and_costs_no_data(
    tmp_path, monkeypatch, behind, caplog
):
    record_drawer(monkeypatch, exit_code=9)
    run(compose_config(), tmp_path, behind=True)
    figures_behind.finish()
    assert f"{tmp_path}: the process drawing its figures exited with code 9" in caplog.text
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "complete"
    assert (tmp_path / "loss.csv").is_file() and not (tmp_path / "prediction.png").exists()


def test_a_job_in_the_folder_still_being_drawn_waits_for_the_drawing_not_the_lock(
    tmp_path, monkeypatch, behind
):
    monkeypatch.setattr(lock, "HOLDER_WAIT", 0.2)  # a refusal, were the lock waited for
    record_drawer(monkeypatch, delay=1.0)
    run(compose_config(), tmp_path, behind=True)
    run(compose_config("rerun=true"), tmp_path, behind=False)
    assert (tmp_path / "learning_curve.png").is_file()


def test_a_drawing_process_that_cannot_start_leaves_the_figures_drawn_here(
    tmp_path, monkeypatch, behind, caplog
):
    class NoProcess(multiprocessing.get_context("fork").Process):
        def start(self):
            raise OSError(11, "Resource temporarily unavailable")

    fork = SimpleNamespace(get_context=lambda method: SimpleNamespace(Process=NoProcess))
    monkeypatch.setattr(figures_behind, "multiprocessing", fork)
    record_drawer(monkeypatch)
    run(compose_config(), tmp_path, behind=True)
    assert int((tmp_path / "drawn_by").read_text()) == os.getpid()
    assert (tmp_path / "learning_curve.png").is_file()
    assert f"{tmp_path}: figures drawn here, as no process could start" in caplog.text


def test_another_process_running_the_same_complete_job_waits_for_its_figures(tmp_path, monkeypatch):
    """A second sweep (another process) reaching a folder whose figures are still drawn
    waits for them and finds the job complete; another config is still refused."""
    monkeypatch.setattr(lock, "HOLDER_WAIT", 0.2)
    run(compose_config("figures=[]"), tmp_path)
    config = json.loads((tmp_path / "result.json").read_text())["config"]
    drawing = os.open(tmp_path / lock.LOCK_FILE, os.O_RDWR)
    fcntl.flock(drawing, fcntl.LOCK_EX)  # another open file: as another process holds it
    with (
        pytest.raises(lock.JobDirTaken, match="is in use by"),
        lock.job_lock(tmp_path, {**config, "lr": config["lr"] * 2}),
    ):
        pass
    threading.Timer(0.5, os.close, [drawing]).start()
    began = time.monotonic()
    with lock.job_lock(tmp_path, config):
        assert time.monotonic() - began >= 0.4  # held until the drawing let go


def test_figures_go_behind_where_the_next_training_hides_half_of_them_or_more(monkeypatch):
    # drawn here on two cores they cost a job half their time; behind, what is not hidden
    monkeypatch.setattr(figures_behind, "cpu_count", lambda: 2)
    assert figures_behind.covered(training=1.0, drawing=2.0)
    assert not figures_behind.covered(training=0.9, drawing=2.0)
    assert not figures_behind.covered(training=1.0, drawing=0.0)  # figures=[]
    assert not figures_behind.covered(training=1.0, drawing=2.0, threads=2)  # no core to spare
    monkeypatch.setattr(figures_behind, "cpu_count", lambda: 1)
    assert not figures_behind.covered(training=1.0, drawing=2.0)
