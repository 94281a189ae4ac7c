"""The lab's experiments (the files of conf/experiment/) as the jobs their Hydra sweeps
would run, each job config run once.

Several experiments share a setting: the report's main run is in ``results``,
``learning_rates`` (lr 0.01) and ``hidden_units`` (4 units); ``optimizers``' gd is
``activations``' sigmoid. :func:`plan` lists every job of the experiments in the folder
and with the overrides Hydra's sweep gives it (``BasicSweeper.split_arguments``: the
job order and numbers are Hydra's own); a job whose config an earlier experiment has is
not trained again but filled with a copy of that one's files (:func:`fill_copies`). The
jobs themselves train in nnsweep.lab.schedule's pool, each as a sweep's worker trains it
(:func:`train`), so that jobs of every experiment share the cores.
"""

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from nnsweep.job import result_json
from nnsweep.job.compose import compose as compose_checked
from nnsweep.job.preflight import preflight
from nnsweep.job.run import run
from nnsweep.job.schema import CONFIG_DIR, PRESENTATION_FIELDS, register

HYDRA_FILES = (".hydra", "nnsweep.log")  # a job's own record of how Hydra ran it
# the discussion draws each sweep's figures; a job's own cost more than most jobs train
NO_JOB_FIGURES = "figures=[]"


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
    return composed([job_overrides])[0][0]


def composed(job_lists: Sequence[Sequence[str]]) -> list[tuple[str, float]]:
    """Each job's :func:`config_key` and its size in parameter-epochs (replicates x epoch
    cap x parameters: its training time's first guess), composed in one Hydra context (a
    fresh one per job takes twice as long, and the discussion composes about 40 jobs
    before any starts)."""
    register()
    found = []
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        for job_overrides in job_lists:
            cfg = compose("config", overrides=list(job_overrides))
            preflight(cfg)  # a bad value stops the discussion here, before any job starts
            config = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
            kept = {k: v for k, v in config.items() if k not in PRESENTATION_FIELDS}
            key = hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()
            found.append((key, cfg.replicates * cfg.epochs * _parameters(cfg)))
    return found


def _parameters(cfg: DictConfig) -> int:
    """The parameters of the lab's networks: 2 inputs, hidden layers, 1 output."""
    units, layers = cfg.hidden_units, cfg.hidden_layers
    return 3 * units + (layers - 1) * (units + 1) * units + units + 1 if layers else 3


@dataclass
class Job:
    """One job to train: its experiment, its number there (its folder's name, as Hydra
    numbers a sweep's jobs), its overrides, and the later experiments' jobs of the same
    config (folder, overrides), filled with a copy of its files once it is done."""

    experiment: str
    number: int
    overrides: list[str]
    folder: Path
    key: str
    size: float  # parameter-epochs: replicates x epoch cap x parameters
    copies: list[tuple[Path, list[str]]] = field(default_factory=list)


def plan(names_: Sequence[str], work: Path, overrides: Sequence[str]) -> list[Job]:
    """Every job of the experiments ``names_`` (folders ``work/<name>/<n>``), each config
    once: a job whose config an earlier experiment has becomes a copy of that one's."""
    lists = {name: jobs(name, [*overrides, NO_JOB_FIGURES]) for name in names_}
    flat = [(name, n, job) for name, job_list in lists.items() for n, job in enumerate(job_list)]
    owners: dict[str, Job] = {}
    planned = []
    for (name, number, job), (key, size) in zip(flat, composed([j for *_, j in flat]), strict=True):
        folder = work / name / str(number)
        if key in owners:
            owners[key].copies.append((folder, job))
        else:
            owners[key] = Job(name, number, job, folder, key, size)
            planned.append(owners[key])
    return planned


def fill_copies(job: Job) -> None:
    """Copy the job's files into each later experiment's job of the same config, with
    that job's own overrides in its result.json."""
    for target, job_overrides in job.copies:
        shutil.copytree(job.folder, target, ignore=shutil.ignore_patterns(*HYDRA_FILES))
        result = result_json.read_result(target)
        result_json.write_result({**result, "overrides": job_overrides}, target)


def train(job_dir: Path, job_overrides: Sequence[str]) -> float:
    """Train one job into ``job_dir`` as a sweep's worker would (the config composed and
    checked, then nnsweep.job.run); returns its training seconds: its slowest replicate's."""
    cfg = compose_checked(job_overrides)
    run(cfg, job_dir, overrides=list(job_overrides))
    return training_seconds(job_dir)


def training_seconds(job_dir: Path) -> float:
    """A job's training time: its replicates train together, so its slowest replicate's."""
    replicates = result_json.read_result(job_dir)["replicates"]
    return max((float(r["seconds"]) for r in replicates), default=0.0)
