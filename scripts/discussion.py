#!/usr/bin/env python
"""Regenerate the lab report's results and discussion: every experiment of
conf/experiment/, its figures, and discussion.md, which sets each claim of the report
beside nnsweep's measurement (nnsweep.lab).

    python scripts/discussion.py                        # the experiments as conf/ has them
    python scripts/discussion.py --epochs 400 --only results --out outputs/look   # a quick look

Each experiment runs as a Hydra multirun on every core into --work/<name> (emptied
first); a job whose config an earlier experiment of the same run already ran is copied
from it, not trained again. Figures, discussion.md and index.html (the same as a web page,
its figures interactive, plotly.min.js beside it) go to --out, overwritten.
"""

import argparse
import logging
import time
from pathlib import Path

from nnsweep import report
from nnsweep.lab import discussion, discussion_page, experiments

ROOT = Path(__file__).resolve().parent.parent
# 5 replicates cannot decide any paired comparison at 95% (5 of 5 seeds: sign test p =
# 0.0625); 10 decide most of the lab's claims, for about twice the time (4.9 minutes
# against 2.5 on 2 shared cores, measured)
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
    start = time.perf_counter()
    runs, done = {}, {}
    for name in args.only:
        runs[name] = experiments.run(name, args.work, overrides(args), done)
        logging.info(f"{name}: {runs[name]['wall']:.0f} s, {runs[name]['reused']} jobs reused")
    drawing = time.perf_counter()
    sweeps = {name: report.load(args.work / name) for name in args.only}
    figures = {}
    for name, sweep in sweeps.items():
        (args.out / name).mkdir(parents=True, exist_ok=True)
        figures[name] = report.draw_sweep_figures(sweep, args.out / name)
    drawing = time.perf_counter() - drawing
    total = time.perf_counter() - start
    header = timing(runs, drawing, total, sweeps)
    found = discussion.findings(sweeps)
    (args.out / "discussion.md").write_text(discussion.markdown(found, figures, args.out, header))
    discussion_page.write_page(found, sweeps, args.out, header)  # index.html, the same findings
    print(f"discussion written to {args.out / 'discussion.md'}\n{header}")


def timing(runs: dict, drawing: float, total: float, sweeps: dict) -> str:
    """How long it took: training (summed over the jobs run), the sweeps' fixed cost
    (their wall time beyond training shared over both cores), figures, the whole."""
    wall = sum(r["wall"] for r in runs.values())
    training = sum(r["training"] for r in runs.values())
    reused = sum(r["reused"] for r in runs.values())
    fixed = max(wall - training / 2, 0.0)
    return (
        f"Written by `python scripts/discussion.py` in {total / 60:.1f} minutes "
        f"({settings(sweeps)}, each replicate its own seed): training {training:.0f} s summed "
        f"over the jobs, the sweeps' fixed job cost about {fixed:.0f} s (their {wall:.0f} s of "
        f"wall time less training shared over 2 cores), figures {drawing:.0f} s; {reused} jobs "
        "shared by two experiments ran once."
    )


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
