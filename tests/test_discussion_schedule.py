"""The discussion's pool (nnsweep.lab.schedule): the longest jobs first, every core for a
job the others cannot keep pace with, and the time left from the jobs done."""

from concurrent.futures import Future
from pathlib import Path

import pytest

from nnsweep.lab import experiments, schedule
from nnsweep.lab.experiments import Job


class Recorder:
    """An executor that starts nothing: it keeps what was submitted."""

    def __init__(self):
        self.submitted = []

    def submit(self, function, *args):
        self.submitted.append(args)
        return Future()


def job(experiment: str, number: int, seconds: float, work: Path) -> Job:
    """A job whose guess is ``seconds`` (its size at the guessed rate)."""
    size = (seconds - schedule.JOB_GUESS) / schedule.SECONDS_PER_PARAMETER_EPOCH
    folder = work / experiment / str(number)
    return Job(
        experiment, number, [f"{experiment}={number}"], folder, f"{experiment}{number}", size
    )


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(schedule, "CORES", 2)


def test_each_config_is_planned_once_and_copied_into_the_later_experiments(tmp_path):
    planned = experiments.plan(["results", "learning_rates"], tmp_path, ["replicates=2"])
    owners = [(j.experiment, j.number) for j in planned]
    assert owners == [("results", 0), ("results", 1)] + [
        ("learning_rates", n) for n in (0, 2, 3, 4, 6, 7)
    ]
    copies = [folder.relative_to(tmp_path) for j in planned for folder, _ in j.copies]
    assert copies == [Path("learning_rates/1"), Path("learning_rates/5")]
    assert "lr=0.01" in planned[0].copies[0][1] and "figures=[]" in planned[0].overrides
    sizes = {j.number: j.size for j in planned if j.experiment == "learning_rates"}
    assert sizes[0] == sizes[2] == 2 * 1_000_000 * 37  # 2-4-4-1: 12 + 20 + 5 parameters


def test_the_longest_guess_goes_first_and_last_runs_timings_beat_the_size(tmp_path):
    jobs = [job("a", 0, 5, tmp_path), job("a", 1, 50, tmp_path), job("b", 0, 20, tmp_path)]
    assert [t.job.number for t in schedule.job_tasks(jobs, {})] == [1, 0, 0]
    timed = schedule.job_tasks(jobs, {"a=0": 99.0})  # the job by its overrides
    assert [(t.experiment, t.guess) for t in timed][0] == ("a", 99.0)


def test_a_job_the_others_cannot_keep_pace_with_trains_on_every_core(tmp_path, two_cores):
    jobs = [job("a", 0, 100, tmp_path), job("a", 1, 30, tmp_path), job("b", 0, 20, tmp_path)]
    pool = schedule.Pool(jobs, tmp_path, tmp_path / "out", lambda line: None)
    executor = Recorder()
    pool._fill(executor)
    (first, overrides), (second, alone) = executor.submitted
    assert first == jobs[0].folder and overrides[-1] == "blas_threads=2"  # 100 > 30 + 20
    assert second == jobs[1].folder and alone == ["a=1"]  # 30 < 100's rest + 20
    assert len(pool.running) == 2 and [t.job for t in pool.queue] == [jobs[2]]


def test_jobs_that_keep_each_other_busy_train_on_one_core_each(tmp_path, two_cores):
    jobs = [job("a", n, seconds, tmp_path) for n, seconds in enumerate([40, 30, 20])]
    pool = schedule.Pool(jobs, tmp_path, tmp_path / "out", lambda line: None)
    pool._fill(Recorder())
    assert [t.threads for t in pool.running.values()] == [1, 1]


def test_the_time_left_is_the_work_over_the_cores_as_the_jobs_done_measure_it(tmp_path, two_cores):
    jobs = [job("a", n, 100, tmp_path) for n in range(4)]
    pool = schedule.Pool(jobs, tmp_path, tmp_path / "out", lambda line: None)
    said = []
    pool.say = said.append
    assert pool.left() == pytest.approx(400 / 2 + schedule.FIGURES_GUESS / 2)
    done = pool.queue.pop(0)
    done.took = 190.0  # twice the guess, less the prior's weight
    pool.done.append(done)
    scale = (190 + schedule.PRIOR) / (100 + schedule.PRIOR)
    assert pool.calibration() == pytest.approx(scale)
    assert pool.left() == pytest.approx((300 * scale + schedule.FIGURES_GUESS) / 2)


def test_an_experiment_says_when_it_starts_and_ends_and_then_draws(tmp_path, two_cores):
    jobs = [job("a", 0, 10, tmp_path), job("b", 0, 5, tmp_path)]
    pool = schedule.Pool(jobs, tmp_path, tmp_path / "out", lambda line: None)
    said = []
    pool.say = said.append
    pool._fill(Recorder())
    assert said[0].startswith("a: started, 1 jobs; about ") and said[1].startswith("b: started")
    future, task = next(iter(pool.running.items()))
    future.set_result((3.0, 4.0))
    pool._finish(pool.running.pop(future), future)
    assert said[2].startswith("a: its 1 jobs done in ") and "(0 jobs reused)" in said[2]
    assert (task.training, task.took) == (3.0, 4.0)
    figures = pool.queue[0]
    assert figures.job is None and figures.experiment == "a"  # drawn next, before b's rest


def test_timings_are_written_beside_the_discussion_and_read_back(tmp_path):
    jobs = [job("a", 0, 10, tmp_path)]
    pool = schedule.Pool(jobs, tmp_path, tmp_path / "out", lambda line: None)
    task = pool.queue.pop(0)
    task.took, task.threads = 6.0, 2
    outcome = schedule.Outcome([task], pool.experiments, 7.0)
    schedule.save_timings(tmp_path / "out", outcome, {"b=0": 1.0})
    timings = schedule.load_timings(tmp_path / "nowhere", tmp_path / "out")
    assert timings == {"a=0": 12.0, "b=0": 1.0}  # core-seconds; earlier entries kept
    assert schedule.load_timings(tmp_path / "nowhere") == {}


def test_a_short_job_alone_at_the_end_is_not_split(tmp_path, two_cores):
    pool = schedule.Pool([job("a", 0, 4, tmp_path)], tmp_path, tmp_path / "out", print)
    pool._fill(Recorder())
    assert [t.threads for t in pool.running.values()] == [1]  # threads cost more than 4 s gain


def test_the_time_left_grows_while_a_job_runs_past_its_guess(tmp_path, two_cores, monkeypatch):
    """A job past its guess does not leave the time left standing still (it said "about
    70 s left" for 20 s of one long job): it is taken to need a share of its time so far."""
    pool = schedule.Pool([job("a", 0, 10, tmp_path)], tmp_path, tmp_path / "out", lambda _: None)
    pool._fill(Recorder())
    task = next(iter(pool.running.values()))
    lefts = []
    for seconds in (5, 40, 80):
        monkeypatch.setattr(schedule.time, "perf_counter", lambda s=seconds: task.started + s)
        lefts.append(pool.left())
    assert lefts[0] < lefts[1] < lefts[2]  # within the guess, then past it and growing
    spent = 80 * task.threads
    assert lefts[2] >= schedule.OVERRUN * spent / task.threads
