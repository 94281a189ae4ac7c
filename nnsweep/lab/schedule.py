"""The discussion's jobs as one pool over every core, saying what it does as it goes.

Every experiment's jobs (nnsweep.lab.experiments.plan) share one pool of worker
processes, one a core, the longest first (the longest-processing-time rule), so no core
waits for an experiment's slowest job while another experiment could run: the wall time
is then about the training over the cores, or the longest job where it is longer. A job
the rest cannot keep the other cores busy beside trains its replicates on every core
(``blas_threads``: the compiled engine's threads; the same numbers, each replicate from
its own seed). An experiment's figures are drawn in the pool as soon as its jobs are
done, while the others train.

How long a job takes is guessed from the last run's timings (``timings.json`` beside
the discussion it wrote: each job by its overrides), else from its size (replicates x
epoch cap x parameters, which ranks the small networks' long jobs too low), and
corrected by the jobs done so far: that guess orders the jobs and gives the time left. A line
says when each experiment starts and ends; a progress bar runs on a terminal, plain
lines every few seconds elsewhere.
"""

import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnsweep.job.preflight import cpu_count
from nnsweep.lab.experiments import Job, fill_copies, train

CORES = cpu_count()
TICK = 0.5  # seconds between looks at the pool (the bar's refresh)
QUIET = 5.0  # off a terminal, a line at least this often
TIMINGS = "timings.json"  # beside discussion.md: each job's core-seconds in the run
# a first guess before any timing: 19 µs a network-epoch of 2-16-16-1 (337 parameters),
# measured; jobs that converge early take less, which the jobs done then correct
SECONDS_PER_PARAMETER_EPOCH = 19e-6 / 337
JOB_GUESS = 1.0  # and a job's cost beyond training (composing, its files), before any timing
SPLIT_AT_LEAST = 5.0  # core-seconds: a shorter job is not worth starting threads for
PRIOR = 10.0  # core-seconds of guessing that the first jobs' measures are weighed against
FIGURES_GUESS = 3.0  # seconds to draw one experiment's figures, before any timing
OVERRUN = 0.25  # a task past its guess: the share of its time so far it is taken to need yet


class JobFailed(RuntimeError):
    """A job or an experiment's figures failed in a worker: what, and the worker's error."""


@dataclass
class Task:
    """A job to train, or (job None) an experiment's figures to draw."""

    experiment: str
    key: str  # its timings.json entry: the job's overrides, or "figures <experiment>"
    guess: float  # core-seconds
    job: Job | None = None
    threads: int = 1
    started: float = 0.0
    took: float = 0.0  # seconds in its worker
    training: float = 0.0  # the job's training seconds (its slowest replicate)
    figures: list[Path] = field(default_factory=list)


@dataclass
class Experiment:
    """An experiment's jobs: those it trains and those copied from an earlier one's."""

    name: str
    waiting: set[str] = field(default_factory=set)  # keys of the jobs not done yet
    jobs: int = 0
    reused: int = 0  # jobs copied from an earlier experiment's
    started: float = 0.0
    ended: float = 0.0


@dataclass
class Outcome:
    """What the pool did: every task, each experiment, and the wall time."""

    tasks: list[Task]
    experiments: dict[str, Experiment]
    wall: float

    def jobs(self) -> list[Task]:
        return [t for t in self.tasks if t.job is not None]

    def figures(self) -> dict[str, list[Path]]:
        return {t.experiment: t.figures for t in self.tasks if t.job is None}

    def longest(self) -> Task:
        """The critical path: the job that trained longest."""
        return max(self.jobs(), key=lambda t: t.training)


def _train_task(folder: Path, overrides: list[str]) -> tuple[float, float]:
    began = time.perf_counter()
    training = train(folder, overrides)
    return training, time.perf_counter() - began


def _draw_task(folder: Path, out: Path) -> tuple[list[Path], float]:
    from nnsweep import report

    began = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    figures = report.draw_sweep_figures(report.load(folder), out)
    return figures, time.perf_counter() - began


def load_timings(*folders: Path) -> dict[str, float]:
    """The core-seconds per task key of the first folder's timings.json that reads, or none."""
    for folder in folders:
        try:
            found = json.loads((folder / TIMINGS).read_text())
            return {str(k): float(v) for k, v in found.items()}
        except (OSError, ValueError, AttributeError):
            continue
    return {}


def save_timings(out: Path, outcome: Outcome, earlier: dict[str, float]) -> None:
    measured = {t.key: round(t.took * t.threads, 3) for t in outcome.tasks}
    out.mkdir(parents=True, exist_ok=True)
    (out / TIMINGS).write_text(json.dumps({**earlier, **measured}, indent=1, sort_keys=True))


def job_tasks(jobs: list[Job], timings: dict[str, float]) -> list[Task]:
    """A task per job, the longest guessed first."""
    tasks = []
    for job in jobs:
        key = " ".join(job.overrides)
        tasks.append(Task(job.experiment, key, timings.get(key, guess(job)), job))
    return sorted(tasks, key=lambda t: -t.guess)


def guess(job: Job) -> float:
    """A job's core-seconds, guessed from its size alone."""
    return JOB_GUESS + job.size * SECONDS_PER_PARAMETER_EPOCH


def experiments_of(jobs: list[Job]) -> dict[str, Experiment]:
    """Each experiment (in the jobs' order) with the keys of the jobs it waits for."""
    found: dict[str, Experiment] = {}
    for job in jobs:
        for folder in [job.folder, *(f for f, _ in job.copies)]:
            experiment = found.setdefault(folder.parent.name, Experiment(folder.parent.name))
            experiment.waiting.add(job.key)
            experiment.jobs += 1
            experiment.reused += folder != job.folder
    return found


class Pool:
    """The pool's state as it runs; :meth:`run` drives it."""

    def __init__(
        self,
        jobs: list[Job],
        work: Path,
        out: Path,
        say: Callable[[str], None],
        timings: dict[str, float] | None = None,
    ):
        self.work, self.out, self.say = work, out, say
        self.timings = timings or {}
        self.queue = job_tasks(jobs, self.timings)
        self.experiments = experiments_of(jobs)
        self.done: list[Task] = []
        self.running: dict[Future, Task] = {}
        self.start = time.perf_counter()

    def run(self, executor: ProcessPoolExecutor, progress: Any) -> Outcome:
        last_said = time.perf_counter()
        while self.queue or self.running:
            self._fill(executor)
            finished, _ = wait(self.running, timeout=TICK, return_when=FIRST_COMPLETED)
            for future in finished:
                self._finish(self.running.pop(future), future)
                last_said = time.perf_counter()
            progress(self)
            if time.perf_counter() - last_said > QUIET and progress is plain:
                self.say(self.status())
                last_said = time.perf_counter()
        outcome = Outcome(self.done, self.experiments, time.perf_counter() - self.start)
        save_timings(self.out, outcome, self.timings)
        return outcome

    def _fill(self, executor: ProcessPoolExecutor) -> None:
        """Start the next tasks while a core is free; a job the others cannot keep pace
        with gets every core."""
        while self.queue and len(self.running) < CORES:
            task, now = self.queue.pop(0), time.perf_counter()
            if task.job is None:
                folder = self.work / task.experiment
                future = executor.submit(_draw_task, folder, self.out / task.experiment)
            else:
                beside = self._remaining(now) + sum(t.guess for t in self.queue)
                critical = task.guess > max(beside / max(CORES - 1, 1), SPLIT_AT_LEAST)
                task.threads = CORES if critical else 1
                overrides = task.job.overrides + [f"blas_threads={task.threads}"] * (
                    task.threads > 1
                )
                future = executor.submit(_train_task, task.job.folder, overrides)
                self._started(task.experiment, task.job, now)
            task.started = now
            self.running[future] = task

    def _started(self, name: str, job: Job, now: float) -> None:
        for experiment in self.experiments.values():
            if job.key in experiment.waiting and not experiment.started:
                experiment.started = now
                reused = experiment.reused
                shared = f" ({reused} shared with an earlier experiment)" if reused else ""
                self.say(
                    f"{experiment.name}: started, {experiment.jobs} jobs{shared}; "
                    f"{self.left_text()}"
                )

    def _finish(self, task: Task, future: Future) -> None:
        try:
            result, task.took = future.result()
        except Exception as error:
            what = f"job {task.job.number}" if task.job else "the figures"
            raise JobFailed(f"{task.experiment}: {what} failed: {error}") from error
        self.done.append(task)
        if task.job is None:
            task.figures = result
            return
        task.training = result
        fill_copies(task.job)
        for experiment in self.experiments.values():
            experiment.waiting.discard(task.job.key)
            if not experiment.waiting and not experiment.ended:
                self._ended(experiment)

    def _ended(self, experiment: Experiment) -> None:
        """Its jobs are done: its figures go to the front of the queue."""
        experiment.ended = time.perf_counter()
        guess = self._figures_guess(experiment.name)
        self.queue.insert(0, Task(experiment.name, f"figures {experiment.name}", guess))
        took = experiment.ended - experiment.started
        self.say(
            f"{experiment.name}: its {experiment.jobs} jobs done in {took:.0f} s "
            f"({experiment.reused} jobs reused); its figures next; {self.left_text()}"
        )

    def _figures_guess(self, name: str) -> float:
        return self.timings.get(f"figures {name}", FIGURES_GUESS)

    def calibration(self) -> float:
        """Measured over guessed, for the jobs done so far (1 before any, and weighed
        against PRIOR seconds of guesses while few are done)."""
        jobs = [t for t in self.done if t.job is not None]
        measured = sum(t.took * t.threads for t in jobs)
        return (measured + PRIOR) / (sum(t.guess for t in jobs) + PRIOR)

    def _rest(self, task: Task, now: float, scale: float) -> float:
        """Core-seconds ``task`` still needs, as guessed; one already past its guess is
        taken to need a quarter as long again as it has run, so that the time left grows
        while the guess is being proved short, rather than standing still."""
        spent = (now - task.started) * task.threads
        return max(task.guess * scale - spent, OVERRUN * spent)

    def _remaining(self, now: float) -> float:
        """Core-seconds the running tasks still need, as guessed."""
        scale = self.calibration()
        return sum(self._rest(t, now, scale) for t in self.running.values())

    def left(self) -> float:
        """Seconds left, as guessed: the work left over the cores, or the longest running
        task's rest where that is longer."""
        now, scale = time.perf_counter(), self.calibration()
        queued = sum(t.guess for t in self.queue) * scale + sum(
            self._figures_guess(e.name) for e in self.experiments.values() if not e.ended
        )
        longest = max(
            (self._rest(t, now, scale) / t.threads for t in self.running.values()), default=0.0
        )
        return max((queued + self._remaining(now)) / CORES, longest, 0.0)

    def left_text(self) -> str:
        return f"about {duration(self.left())} left"

    def status(self) -> str:
        """One line: jobs done, what runs, the time left."""
        jobs = len(self.queue) + len(self.done) + len(self.running)
        jobs += sum(1 for e in self.experiments.values() if not e.ended)  # figures to come
        now = time.perf_counter()
        running = ", ".join(
            f"{t.experiment}/{t.job.number if t.job else 'figures'} ({now - t.started:.0f} s)"
            for t in self.running.values()
        )
        return f"{len(self.done)}/{jobs} done; running {running or 'nothing'}; {self.left_text()}"


def stamp(line: str, started: float) -> str:
    """The line after the seconds since ``started``, so a log shows when each thing ended."""
    return f"{time.perf_counter() - started:5.0f} s  {line}"


def say(line: str, started: float) -> None:
    print(stamp(line, started), file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def plain(pool: Pool) -> None:
    """Off a terminal, the progress is the lines the pool says (and its QUIET ones)."""


def _warm_up() -> None:
    from nnsweep.engines.compiled import warm_up  # numba: in the workers only

    warm_up()


@contextmanager
def workers() -> Iterator[ProcessPoolExecutor]:
    """The pool's worker processes, one a core, started at once: each loads the training
    kernels (or compiles them, on a machine that has none) while the caller composes the
    jobs. Spawned, not forked: a fork does not carry numba's OpenMP threads over safely."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(CORES, mp_context=context, initializer=_warm_up) as executor:
        for _ in range(CORES):
            executor.submit(int)  # each submit to a busy pool starts another worker
        try:
            yield executor
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise


def run(
    executor: ProcessPoolExecutor,
    jobs: list[Job],
    work: Path,
    out: Path,
    timings: dict[str, float],
    started: float,
) -> Outcome:
    """Train ``jobs`` on ``executor`` (:func:`workers`), each into its folder, copied into
    its later experiments' folders; draw each experiment's figures into ``out/<name>``,
    guessing each task's time from ``timings`` (:func:`load_timings`); say what happens
    on stderr, each line stamped with the seconds since ``started`` (a perf_counter), and
    write this run's timings to ``out/timings.json``."""
    if not sys.stderr.isatty():
        pool = Pool(jobs, work, out, lambda line: say(line, started), timings)
        return pool.run(executor, plain)
    from tqdm import tqdm

    tasks = len(jobs) + len(experiments_of(jobs))  # the jobs, and each experiment's figures
    shown = "{l_bar}{bar}| {n}/{total} tasks [{elapsed}{postfix}]"
    with tqdm(total=tasks, file=sys.stderr, leave=False, bar_format=shown) as bar:
        pool = Pool(jobs, work, out, lambda line: bar.write(stamp(line, started)), timings)

        def progress(pool: Pool) -> None:
            bar.n = len(pool.done)
            bar.set_postfix_str(pool.left_text(), refresh=True)

        return pool.run(executor, progress)
