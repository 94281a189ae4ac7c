"""Running the lab's experiments (the files of conf/experiment/) as Hydra multiruns, each
job config run once.

Several experiments share a setting: the report's main run is in ``results``,
``learning_rates`` (lr 0.01) and ``hidden_units`` (4 units); ``optimizers``' gd is
``activations``' sigmoid. Before a sweep starts, every job of it whose config equals a
job already run in this session is filled with a copy of that job's files; the sweep's
resume (a job complete for the same config is skipped) then runs only the new ones. The
job order is Hydra's own (``BasicSweeper.split_arguments``), and a copy put in the wrong
place would make its job fail (a folder holding another config), never pass unseen.
"""

import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from nnsweep.job import result_json
from nnsweep.job.schema import CONFIG_DIR, PRESENTATION_FIELDS, register

HYDRA_FILES = (".hydra", "nnsweep.log")  # a job's own record of how Hydra ran it


LAB_DATASETS = "linear,xor"  # every experiment of the lab report sweeps both its datasets


def names() -> list[str]:
    """The lab report's experiments of conf/experiment/: those on its two datasets (the
    others, such as spirals, go beyond the lab)."""
    files = sorted((Path(CONFIG_DIR) / "experiment").glob("*.yaml"))
    return [p.stem for p in files if _swept(p).get("dataset") == LAB_DATASETS]


def _swept(path: Path) -> dict:
    return dict(OmegaConf.load(path).hydra.sweeper.params)


def jobs(name: str, overrides: Sequence[str]) -> list[list[str]]:
    """The overrides of each job of experiment ``name``, in Hydra's job-number order."""
    params = OmegaConf.load(Path(CONFIG_DIR) / "experiment" / f"{name}.yaml").hydra.sweeper.params
    arguments = [f"{k}={v}" for k, v in params.items()] + [f"experiment={name}", *overrides]
    parsed = OverridesParser.create().parse_overrides(arguments)
    return BasicSweeper.split_arguments(parsed, None)[0]


def config_key(job_overrides: Sequence[str]) -> str:
    """The job's composed config, presentation fields aside (as resuming compares it), hashed."""
    register()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=list(job_overrides))
    config = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    kept = {k: v for k, v in config.items() if k not in PRESENTATION_FIELDS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def reuse(folder: Path, job_list: list[list[str]], done: dict[str, Path]) -> list[int]:
    """Copy into ``folder/<n>`` every job whose config is in ``done`` (key -> job folder);
    add this sweep's jobs to ``done``. Returns the numbers of the jobs copied."""
    copied = []
    for number, job_overrides in enumerate(job_list):
        key, target = config_key(job_overrides), folder / str(number)
        if key in done:
            shutil.copytree(done[key], target, ignore=shutil.ignore_patterns(*HYDRA_FILES))
            result = result_json.read_result(target)
            result_json.write_result({**result, "overrides": job_overrides}, target)
            copied.append(number)
        else:
            done[key] = target
    return copied


def run(name: str, work: Path, overrides: Sequence[str], done: dict[str, Path]) -> dict:
    """Empty ``work/name``, fill the jobs run before, run the sweep on every core, without
    per-job figures (the discussion draws the sweeps'; they cost more than most jobs train).
    Returns its wall time, the jobs reused and the training seconds of the jobs it ran."""
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    copied = reuse(folder, jobs(name, overrides), done)
    cmd = [
        sys.executable, "-m", "nnsweep", f"experiment={name}", *overrides,
        "hydra/launcher=joblib", f"hydra.sweep.dir={folder}", "~hydra.callbacks.report",
        "figures=[]",
    ]  # fmt: skip
    start = time.perf_counter()
    finished = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if finished.returncode != 0:
        raise RuntimeError(f"experiment {name} failed:\n{finished.stderr[-3000:]}")
    return {"wall": wall, "reused": len(copied), "training": training_seconds(folder, copied)}


def training_seconds(folder: Path, skip: Sequence[int]) -> float:
    """The training time of the jobs a sweep ran: per job, its slowest replicate."""
    seconds = 0.0
    for job in folder.iterdir():
        if job.name.isdigit() and int(job.name) not in skip:
            replicates = pd.DataFrame(result_json.read_result(job)["replicates"])
            seconds += float(replicates["seconds"].max())
    return seconds
