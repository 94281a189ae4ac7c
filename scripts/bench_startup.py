"""What a job costs besides training: compiling, starting up, drawing, writing.

Each figure is measured on real commands in fresh processes, as a user runs them:

- the compiled engine's first-ever compilation (an empty numba cache) and its load
  from a warm cache, in a process that does nothing else;
- the CPU time of a whole job that trains 10 epochs (Python, Hydra composing the
  config, imports, training, the three figures, the files), on each engine;
- the same per job in an 8-job sweep under the joblib launcher, whose workers import
  once and run several jobs;
- the wall time of the lab's main run, ``python -m nnsweep`` (XOR to loss 0.001).

    python scripts/bench_startup.py            # about a minute on two cores
    python scripts/bench_startup.py --repeats 5
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = "from nnsweep.engines.compiled import warm_up; warm_up()"


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(cmd: list[str], repeats: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    runs = [timed(cmd, env) for _ in range(repeats)]
    return min(w for w, _ in runs), min(c for _, c in runs)


def compile_times() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = timed([sys.executable, "-c", WARM_UP], env)
        warm = timed([sys.executable, "-c", WARM_UP], env)
    print(f"compiled engine, first-ever compile:  {cold[0]:6.2f} s wall (empty numba cache)")
    print(f"compiled engine, loaded from cache:   {warm[0]:6.2f} s wall (import and load)")


def job_costs(repeats: int, work: Path) -> None:
    job = [sys.executable, "-m", "nnsweep", "epochs=10", "rerun=true", "print_predictions=false"]
    for engine in ("numba", "numpy"):
        wall, cpu = best([*job, f"engine={engine}", f"hydra.run.dir={work / engine}"], repeats)
        print(f"a 10-epoch job, engine={engine}:        {cpu:6.2f} s CPU, {wall:.2f} s wall")
    seeds = ",".join(str(s) for s in range(8))
    sweep = [*job[:3], "-m", *job[3:], f"seed={seeds}", "hydra/launcher=joblib"]
    sweep.append("~hydra.callbacks.report")
    wall, cpu = best([*sweep, f"hydra.sweep.dir={work / 'sweep'}"], 1)
    print(f"per job of an 8-job joblib sweep:     {cpu / 8:6.2f} s CPU ({wall:.1f} s wall in all)")


def main_run(repeats: int, work: Path) -> None:
    cmd = [sys.executable, "-m", "nnsweep", "rerun=true", f"hydra.run.dir={work / 'main'}"]
    wall, cpu = best(cmd, repeats)
    print(f"python -m nnsweep (the lab's run):     {wall:6.2f} s wall, {cpu:.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; best kept")
    args = parser.parse_args()
    compile_times()
    with tempfile.TemporaryDirectory() as work:
        job_costs(args.repeats, Path(work))
        main_run(args.repeats, Path(work))


if __name__ == "__main__":
    main()
