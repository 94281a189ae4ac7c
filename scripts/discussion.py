#!/usr/bin/env python
"""Regenerate the lab report's results and discussion: every experiment of
conf/experiment/, its figures, and discussion.md, which sets each claim of the report
beside nnsweep's measurement (nnsweep.lab).

    python scripts/discussion.py                        # the experiments as conf/ has them
    python scripts/discussion.py --epochs 400 --only results --out outputs/look   # a quick look

Every experiment's jobs share one pool of worker processes, one a core, the longest
first, into --work/<name>/<n> (each experiment's folder emptied first); a job whose
config an earlier experiment has is trained once and copied (nnsweep.lab.schedule). A
line says when each experiment starts and ends, with the time left. Figures,
discussion.md and index.html (the same as a web page, its figures interactive,
plotly.min.js beside it) go to --out, overwritten.
"""

import argparse
import logging
import shutil
import sys
import time
from functools import partial
from pathlib import Path

from nnsweep import report
from nnsweep.errors import ConfigError
from nnsweep.lab import discussion, discussion_page, experiments, schedule
from nnsweep.report.text import count

ROOT = Path(__file__).resolve().parent.parent
# 5 replicates cannot decide any paired comparison at 95% (5 of 5 seeds: sign test p =
# 0.0625); 10 decide most of the lab's claims, for about twice the training (3.1 minutes
# in all on 2 quiet cores: docs/speed.md)
REPLICATES = 10


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs" / "discussion",
        help="where the figures and discussion.md go (default docs/discussion)",
    )
    p.add_argument(
        "--work",
        type=Path,
        default=ROOT / "outputs" / "discussion",
        help="where the sweeps run (default outputs/discussion)",
    )
    p.add_argument("--epochs", type=int, help="epoch cap of every job (default: conf/'s)")
    p.add_argument(
        "--replicates",
        type=int,
        default=REPLICATES,
        help=f"replicates per setting (default {REPLICATES}; conf/experiment/ has 5)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        choices=experiments.names(),
        default=experiments.names(),
        metavar="NAME",
        help=f"run only these experiments: {', '.join(experiments.names())}",
    )
    return p.parse_args()  # fmt: skip


def overrides(args: argparse.Namespace) -> list[str]:
    """Only what the command line sets: the rest is each experiment's file and conf/'s."""
    given = {"epochs": args.epochs, "replicates": args.replicates}
    return [f"{field}={value}" for field, value in given.items() if value is not None]


def main() -> None:
    args = arguments()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        discuss(args)
    except (ConfigError, schedule.JobFailed) as error:  # said in one line, as nnsweep does
        sys.exit(f"discussion.py: {error}")


def discuss(args: argparse.Namespace) -> None:
    """Train every job of ``args.only``, then write discussion.md and index.html."""
    start = time.perf_counter()
    say = partial(schedule.say, started=start)
    say(f"starting {schedule.CORES} workers, each loading the training kernels (compiled "
        "first if this machine has none)")  # fmt: skip
    with schedule.workers() as workers:
        say(f"composing the jobs of {count(len(args.only), 'experiment')}")
        jobs = experiments.plan(args.only, args.work, overrides(args))
        for name in args.only:
            shutil.rmtree(args.work / name, ignore_errors=True)
            (args.work / name).mkdir(parents=True)
        say(f"{len(jobs)} jobs to train on {schedule.CORES} cores")
        # the last run's timings order the jobs: this --out's, else the repository's own run's
        timings = schedule.load_timings(args.out, ROOT / "docs" / "discussion")
        outcome = schedule.run(workers, jobs, args.work, args.out, timings, start)
    say("reading the sweeps back and writing the discussion")
    sweeps = {name: report.load(args.work / name) for name in args.only}
    header = timing(outcome, time.perf_counter() - start, sweeps)
    found = discussion.findings(sweeps)
    figures = outcome.figures()
    (args.out / "discussion.md").write_text(discussion.markdown(found, figures, args.out, header))
    discussion_page.write_page(found, sweeps, args.out, header)  # index.html, the same findings
    print(f"discussion written to {args.out / 'discussion.md'}\n{header}")


def timing(outcome: schedule.Outcome, total: float, sweeps: dict) -> str:
    """How long it took: the jobs' training (summed), their workers' time beyond it, the
    figures, and the critical path: the longest job against the whole."""
    jobs = outcome.jobs()
    training = sum(t.training for t in jobs)
    fixed = sum(t.took - t.training for t in jobs)
    drawing = sum(t.took for t in outcome.tasks if t.job is None)
    reused = sum(e.reused for e in outcome.experiments.values())
    longest = outcome.longest()
    return (
        f"Written by `python scripts/discussion.py` in {total / 60:.1f} minutes "
        f"({settings(sweeps)}, each replicate its own seed), {len(jobs)} jobs the longest "
        f"first on {schedule.CORES} cores: training {training:.0f} s summed over the jobs, "
        f"their fixed cost {fixed:.0f} s (composing, files), figures {drawing:.0f} s, drawn "
        f"beside the training; {reused} jobs shared by two experiments ran once. The "
        f"critical path: {critical_path(longest)} of the {total:.0f} s."
    )


def critical_path(task: schedule.Task) -> str:
    """The longest job, and what it took."""
    job = task.job
    assert job is not None
    swept = " ".join(o for o in job.overrides if not o.startswith(("experiment=", "figures=")))
    cores = f" on {task.threads} cores" if task.threads > 1 else ""
    return f"the longest job ({job.experiment}: {swept}) trained {task.training:.0f} s{cores}"


def settings(sweeps: dict) -> str:
    """The replicates, epoch caps and thresholds the sweeps ran with, as their jobs say."""
    runs = [sweep.done for sweep in sweeps.values()]
    jobs = [r.drop_duplicates("job") for r in runs]
    replicates = sorted({int(n) for r in runs for n in r.groupby("job").size()})
    caps = sorted({int(c) for j in jobs for c in j["epochs"]})
    thresholds = sorted({float(t) for j in jobs for t in j["loss_threshold"]})
    return (
        f"{' or '.join(map(str, replicates))} replicates per setting, epoch cap "
        f"{' or '.join(f'{c:,}' for c in caps)}, loss threshold "
        f"{' or '.join(f'{t:g}' for t in thresholds)}"
    )


if __name__ == "__main__":
    main()
