"""What a job costs besides training: compiling, starting up, drawing, writing.

Each figure is measured on real commands in fresh processes, as a user runs them:

- the compiled engine's first-ever compilation (an empty numba cache) and its load
  from a warm cache, in a process that does nothing else;
- the CPU time of a whole job that trains 10 epochs (Python, Hydra composing the
  config, imports, training, the five figures, the files), on each engine;
- beside it, the floor of its figures: the same five drawn as simply as matplotlib draws
  them (``scripts/floor/figures.py``), and the imports any job pays;
- the same per job in an 8-job sweep under the joblib launcher, whose workers import
  once and run several jobs;
- what each job of a sweep on Hydra's default launcher (one process, the jobs one after
  another) adds beyond its training: a 9-job sweep's time less a 1-job sweep's, over the
  8 jobs it adds, less their training (result.json's seconds), in wall and in CPU time;
  and again with ``figures=[]``, whose difference is the figures' share; then the same
  for jobs that train about three seconds each (XOR to an epoch cap of 2,000,000),
  whose figures are drawn behind them while the next job trains
  (``nnsweep/job/figures_behind.py``);
- the wall time of the lab's main run, ``python -m nnsweep`` (XOR to loss 0.001).

    python scripts/bench_startup.py            # about two minutes on two cores
    python scripts/bench_startup.py --repeats 5
"""

import argparse
import json
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


def figures_floor(repeats: int, work: Path) -> None:
    """The least the 10-epoch job's figures cost in matplotlib, drawn as simply as it
    draws (scripts/floor/figures.py), beside the imports any job pays: a fresh process's
    first drawing, and a warm process's (each job of a sweep after the first)."""
    script = ROOT / "scripts" / "floor" / "figures.py"
    cmd = [sys.executable, str(script), str(work / "numba"), "--engine"]
    runs = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        whole = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        runs.append({**json.loads(done.stdout), "whole": whole})
    least = {key: min(run[key] for run in runs) for key in ("imports", "engine", "whole")}
    first = min(run["rounds"][0] for run in runs)
    warm = min(min(run["rounds"][1:]) for run in runs)
    print(
        f"the same figures drawn as simply as matplotlib draws them: {first:.2f} s CPU in a "
        f"fresh process, {warm:.2f} s warm; importing numpy, matplotlib, hydra and "
        f"omegaconf {least['imports']:.2f} s CPU, then numba and the engine's cache "
        f"{least['engine']:.2f} s"
    )
    print(
        f"  so a process that does only those and draws them once (no config, training "
        f"or files): {min(run['whole'] - sum(run['rounds'][1:]) for run in runs):.2f} s CPU"
    )


TEN_EPOCHS = ("epochs=10",)
TRAINED = ("epochs=2000000", "loss_threshold=0", "log_every=100000")  # about 3 s a job


def sweep_cost(
    jobs: int, figures: bool, work: Path, training: tuple[str, ...] = TEN_EPOCHS
) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, training seconds of its jobs) of a sweep of ``jobs``
    jobs on Hydra's default launcher, the report callback off: 10-epoch jobs, or as
    ``training`` sets them."""
    folder = work / f"sweep-{jobs}-{figures}-{len(training)}"
    seeds = ",".join(str(s) for s in range(jobs))
    cmd = [sys.executable, "-m", "nnsweep", "-m", *training, "rerun=true"]
    cmd += ["print_predictions=false", f"seed={seeds}", "~hydra.callbacks.report"]
    cmd += [] if figures else ["figures=[]"]
    wall, cpu = timed([*cmd, f"hydra.sweep.dir={folder}"])
    results = [json.loads((folder / str(n) / "result.json").read_text()) for n in range(jobs)]
    training = sum(r["seconds"] for result in results for r in result["replicates"])
    return wall, cpu, training


def sweep_per_job(repeats: int, work: Path) -> None:
    """A sweep's per-job cost beyond training on the default launcher: the difference of a
    9-job and a 1-job sweep (best of ``repeats`` each), so that the imports and the
    engine's load, paid once per sweep, are not counted. In wall time and in CPU time:
    boundary.gif, drawn in a second process beside the other figures, costs CPU but no
    wall time of its own."""
    per_job = {}
    for figures in (True, False):
        runs = {n: [sweep_cost(n, figures, work) for _ in range(repeats)] for n in (1, 9)}
        per_job[figures] = [
            (
                min(run[kind] - run[2] for run in runs[9])
                - min(run[kind] - run[2] for run in runs[1])
            )
            / 8
            for kind in (0, 1)
        ]
    for kind, name in enumerate(("wall", "CPU")):
        share = per_job[True][kind] - per_job[False][kind]
        print(
            f"a sweep's per-job cost beyond training: {per_job[True][kind]:6.2f} s {name} "
            f"(default launcher, default figures; figures {share:.2f} s of it, "
            f"figures=[] {per_job[False][kind]:.2f} s)"
        )


def trained_sweep_per_job(repeats: int, work: Path) -> None:
    """The same for jobs that train long enough to hide their figures: a 7-job sweep's
    wall time less a 1-job sweep's, over the 6 jobs it adds, less their training."""
    runs = {n: [sweep_cost(n, True, work, TRAINED) for _ in range(repeats)] for n in (1, 7)}
    wall = (min(run[0] - run[2] for run in runs[7]) - min(run[0] - run[2] for run in runs[1])) / 6
    training = (runs[7][0][2] - runs[1][0][2]) / 6
    print(
        f"the same for jobs that train {training:.1f} s each: {wall:6.2f} s wall "
        "(the figures drawn behind each job while the next trains)"
    )


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
        figures_floor(args.repeats, Path(work))
        sweep_per_job(args.repeats, Path(work))
        trained_sweep_per_job(args.repeats, Path(work))
        main_run(args.repeats, Path(work))


if __name__ == "__main__":
    main()
