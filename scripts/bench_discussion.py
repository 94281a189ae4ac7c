"""What the discussion's training would cost at the C floor: the least time any schedule
of ``scripts/discussion.py`` can take on this machine, measured, not guessed.

It reads the jobs a discussion run trained (``--work``, outputs/discussion by default;
run ``python scripts/discussion.py`` first) and prices every network-epoch they trained:

- a job the C loop can train (gd, full batch, MSE on a sigmoid output, two hidden layers
  of sigmoid, tanh or relu: ``scripts/floor/``) at the C loop's microseconds per epoch
  for its network and data, and at the compiled kernel's (``compiled.train`` alone), both
  measured here, in this run, as ``scripts/bench.py`` measures them;
- every other job (other optimizers and activations) at what its training took in the
  run (the longest of its replicates' ``seconds`` in result.json).

A config that several experiments share is trained once, and counted once. The sum over
the cores is the least wall time of the discussion's training, with no start-up, files
or figures, and no core ever idle.

    python scripts/bench_discussion.py                    # about a minute
    python scripts/bench_discussion.py --work outputs/discussion --repeats 5
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np
from bench import (
    ACTIVATION_MACRO,
    FloorCase,
    best_seconds,
    build_floor,
    engine_run,
    floor_us,
    initial_params,
)

from nnsweep.data import make_dataset
from nnsweep.job import result_json
from nnsweep.job.result_json import JobStatus
from nnsweep.report.jobs import find_job_dirs

ROOT = Path(__file__).resolve().parent.parent
MEASURE_SECONDS = 0.3  # each timed run of a network lasts about this long
UNTRAINED = ("name", "test_n")  # dataset fields that do not change an epoch's work


class Network(NamedTuple):
    """What the cost of an epoch depends on: the data and the network's shape."""

    dataset: str
    data: tuple  # the dataset's own parameters, as (name, value) pairs
    hidden: int
    activation: str


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--work", type=Path, default=ROOT / "outputs" / "discussion",
                   help="the discussion's job folders (default outputs/discussion)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=3, help="timed runs; the best counts")
    p.add_argument("--cores", type=int, default=os.cpu_count(), help="cores to share it over")
    return p.parse_args()


def trained_jobs(work: Path) -> list[dict]:
    """Each complete job's result.json under ``work``, one per distinct config."""
    found = {}
    for job_dir in find_job_dirs(work):
        result = result_json.read_result(job_dir)
        if result["status"] == JobStatus.COMPLETE:
            found.setdefault(json.dumps(result["config"], sort_keys=True), result)
    return list(found.values())


def floor_network(config: dict) -> Network | None:
    """The network the C loop trains as this job does, or None if it cannot."""
    if (
        config["optimizer"]["name"] != "gd"
        or config["batch_size"] is not None
        or config["loss"]["name"] != "mse"
        or config["output_activation"] != "sigmoid"
        or config["hidden_layers"] != 2
        or config["activation"]["name"] not in ACTIVATION_MACRO
    ):
        return None
    data = tuple(sorted((k, v) for k, v in config["dataset"].items() if k not in UNTRAINED))
    name = config["dataset"]["name"]
    return Network(name, data, config["hidden_units"], config["activation"]["name"])


def per_epoch_us(network: Network, folder: Path, repeats: int) -> tuple[float, float]:
    """(C loop, compiled kernel) microseconds per epoch of ``network``, one replicate."""
    sizes = (2, network.hidden, network.hidden, 1)
    case = FloorCase("", network.dataset, sizes, network.activation, dict(network.data))
    x, y = make_dataset(network.dataset, np.random.default_rng(0), **case.data)
    params = initial_params(case)
    probe = 2000
    guess = best_seconds(engine_run(case, x, y, params, probe), 1) / probe
    epochs = max(int(MEASURE_SECONDS / guess), probe)
    kernel = best_seconds(engine_run(case, x, y, params, epochs), repeats) / epochs * 1e6
    floor, _loss = floor_us(build_floor(case, folder), x, y, params, epochs, repeats)
    return floor, kernel


def main() -> None:
    args = arguments()
    jobs = trained_jobs(args.work)
    if not jobs:
        sys.exit(f"{args.work}: no complete job; run python scripts/discussion.py first")
    if shutil.which("gcc") is None:
        sys.exit("gcc not found: the C loop cannot be built")
    epochs: dict[Network, int] = defaultdict(int)
    others = {"jobs": 0, "seconds": 0.0}
    for result in jobs:
        network = floor_network(result["config"])
        if network is None:
            others["jobs"] += 1
            others["seconds"] += max(r["seconds"] for r in result["replicates"])
        else:
            epochs[network] += sum(r["epochs"] for r in result["replicates"])
    print(f"{args.work}: {len(jobs)} distinct jobs; per epoch of one network, best of "
          f"{args.repeats}; the C loop and the kernel timed here")  # fmt: skip
    header = ("network", "epochs", "floor us", "kernel us", "floor s", "kernel s")
    print("{:<34} {:>12} {:>9} {:>9} {:>8} {:>8}".format(*header))
    totals = np.zeros(2)
    with tempfile.TemporaryDirectory() as folder:
        for network, count in sorted(epochs.items(), key=lambda item: -item[1] * item[0].hidden):
            floor, kernel = per_epoch_us(network, Path(folder), args.repeats)
            seconds = np.array([floor, kernel]) * count * 1e-6
            totals += seconds
            label = f"{network.dataset} 2-{network.hidden}-{network.hidden}-1 {network.activation}"
            print(f"{label:<34} {count:>12,} {floor:>9.2f} {kernel:>9.2f} "
                  f"{seconds[0]:>8.1f} {seconds[1]:>8.1f}")  # fmt: skip
    print(f"{'the C loop can train these':<34} {sum(epochs.values()):>12,} "
          f"{'':>9} {'':>9} {totals[0]:>8.1f} {totals[1]:>8.1f}")  # fmt: skip
    print(f"the other {others['jobs']} jobs: {others['seconds']:.1f} s as they trained")
    least = (totals[0] + others["seconds"]) / args.cores
    print(f"at the C floor: {totals[0] + others['seconds']:.1f} s of training, at least "
          f"{least:.1f} s on {args.cores} cores; at the kernel's speed "
          f"{(totals[1] + others['seconds']) / args.cores:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
