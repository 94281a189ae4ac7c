"""A sweep's job figures drawn behind it: by a forked process, while the next job trains.

On Hydra's default launcher a sweep's jobs run one after another in one process, and
training uses one core. A job that trains at least half as long as its figures take to
draw (:func:`covered`) leaves them to a forked process and returns; the next job trains
on one core while they are drawn on the other. A shorter job draws its own figures and
waits (on two cores at once where one is free, as a single run does): for it the
drawing would not be hidden, only queued.

The forked process inherits the job folder's lock (an flock, held until the last
process holding it ends), so the folder stays locked until the figures are drawn, and it
writes their failures to result.json itself. At most one such process runs: the next
job's figures, the sweep's report and this process's exit wait for it first.
"""

import atexit
import logging
import multiprocessing
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from omegaconf import DictConfig

from nnsweep.engines.history import History
from nnsweep.job import figures, lock
from nnsweep.job.preflight import available_memory, cpu_count, estimate_bytes

log = logging.getLogger(__name__)


class Behind(NamedTuple):
    """The forked process drawing a job's figures, and the job's folder."""

    process: multiprocessing.process.BaseProcess
    job_dir: Path


_behind: Behind | None = None  # the figures this process left to a forked one, while drawn
_warm = False  # this process has drawn figures itself: a fork inherits matplotlib loaded


def covered(training: float, drawing: float, threads: int = 1) -> bool:
    """Whether figures that take ``drawing`` seconds in one process are better drawn behind
    a job that trained ``training`` seconds on ``threads`` threads (blas_threads), on the
    guess that the next job trains as long: drawn here on two cores they cost the job
    about half their time; behind, only what the next job's training leaves of them. No
    figures, or no core left over by training: nothing to gain."""
    return drawing > 0 and training >= drawing / 2 and threads < cpu_count()


def worth_it(cfg: DictConfig, history: History) -> bool:
    """Whether a sweep's job that trained as ``history`` says is better off leaving its
    figures behind: :func:`covered`, and memory for the next job beside this one's arrays,
    which stay until its figures are drawn (else the next job could be refused for it)."""
    if not covered(max(history.seconds), figures.drawing_seconds(cfg, history), cfg.blas_threads):
        return False  # most short jobs: no need to read the memory
    available = available_memory()
    return available is None or 2 * estimate_bytes(cfg) <= available


def draw(draw_figures: Callable[[], None], job_dir: Path, covered: bool) -> None:
    """Call ``draw_figures`` (a job's figures and their note in result.json) here and
    wait; or, where ``covered`` and this process has drawn before (so the fork inherits
    matplotlib imported and its fonts loaded, not paying them for every job), in a forked
    process, and return at once. The figures left behind earlier are waited for first."""
    global _behind, _warm
    finish()
    if not (covered and _warm and sys.platform == "linux"):
        draw_figures()
        _warm = True
        return
    sys.stdout.flush()  # else the child writes the parent's buffered output a second time
    sys.stderr.flush()
    context = multiprocessing.get_context("fork")  # shares the job's arrays for free
    process = context.Process(target=_draw_here, args=(draw_figures, job_dir), name="FiguresBehind")
    try:
        process.start()
    except OSError as error:  # no process to be had (memory, a process limit): draw here
        log.warning(f"{job_dir}: figures drawn here, as no process could start ({error})")
        draw_figures()
        return
    _behind = Behind(process, job_dir)


def _draw_here(draw_figures: Callable[[], None], job_dir: Path) -> None:
    """The forked process: Ctrl-C at the terminal reaches it too, but the sweep's process
    handles the stop and waits for the drawing, which ends in a second or two; SIGTERM
    ends it at once (its files are written whole or not at all)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    lock.name_holder(job_dir)  # the lock's holder now, should the sweep's process end
    draw_figures()


def finish(job_dir: Path | None = None) -> None:
    """Wait for the figures left to a forked process, if any (only if they are
    ``job_dir``'s, where one is given), and say so if that process died: the job's data
    are complete, and running the job again draws the figures it lacks."""
    global _behind
    if _behind is None or (job_dir is not None and Path(job_dir) != _behind.job_dir):
        return
    behind = _behind
    behind.process.join()  # interrupted (Ctrl-C), it is still waited for at exit
    _behind = None
    if behind.process.exitcode:
        log.warning(
            f"{behind.job_dir}: the process drawing its figures exited with code "
            f"{behind.process.exitcode}; the job's data are complete, and running it "
            "again draws the figures it lacks"
        )


atexit.register(finish)  # the sweep's last figures, however it ends; a failure said
