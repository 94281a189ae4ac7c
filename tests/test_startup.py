"""A job's fixed cost outside training and drawing (issue 20): Hydra composes each config
once, and what it composes once is what it composed twice before."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Runs nnsweep's command line in a process that counts Hydra's composes; "twice" as the
# first argument puts back Hydra's own composing, to compare with: the loader keeps its
# own methods, so no composed config is handed on.
DRIVER = """
import atexit, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from nnsweep.cli import main

composes = []
compose = ConfigLoaderImpl._load_configuration_impl
def counted(self, *args, **kw):
    composes.append(1)
    return compose(self, *args, **kw)
ConfigLoaderImpl._load_configuration_impl = counted
atexit.register(lambda: print(f"composes={len(composes)}", file=sys.stderr))
def keep_methods(self, name, value):
    if not name.startswith("load_"):
        object.__setattr__(self, name, value)
if sys.argv[1] == "twice":
    ConfigLoaderImpl.__setattr__ = keep_methods
sys.argv = ["nnsweep", *sys.argv[2:]]
main.main()
"""

JOB = ["epochs=10", "figures=[]", "print_predictions=false"]


def composes(folder: Path, how: str, *args: str) -> int:
    key = "hydra.sweep.dir" if "-m" in args or "experiment=optimizers" in args else "hydra.run.dir"
    done = subprocess.run([sys.executable, "-c", DRIVER, how, *args, *JOB, f"{key}={folder}"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stderr.rsplit("composes=", 1)[1])


def hydra_record(folder: Path) -> dict[str, str]:
    """Hydra's files of every job under ``folder``, its path written as FOLDER."""
    files = sorted(folder.rglob(".hydra/*.yaml")) + sorted(folder.glob("multirun.yaml"))
    return {str(p.relative_to(folder)): p.read_text().replace(str(folder), "FOLDER") for p in files}


SWEEP = ["-m", "~hydra.callbacks.report"]
EXPERIMENT = ["experiment=optimizers", "dataset=xor", "optimizer=gd,adam", "replicates=1"]


@pytest.mark.parametrize(
    ("args", "once", "twice"),
    [
        ([], 1, 2),  # a run: get_mode's compose and the run's
        ([*SWEEP, "seed=1,2,3"], 4, 8),  # a sweep: and two per job, the sweeper's, the launcher's
        ([*SWEEP, "seed=1,2", "hydra.sweeper.max_batch_size=1"], 3, 6),  # a batch at a time
        (["hydra.job.chdir=true", "seed=2"], 1, 2),  # a Hydra override beside a field's
        ([*SWEEP, *EXPERIMENT], 3, 6),  # a config that sets hydra.mode=MULTIRUN, with -m
    ],
)
def test_each_config_is_composed_once_as_hydra_composed_it_twice(tmp_path, args, once, twice):
    assert composes(tmp_path / "once", "once", *args) == once
    assert composes(tmp_path / "twice", "twice", *args) == twice
    record = hydra_record(tmp_path / "once")
    assert record and record == hydra_record(tmp_path / "twice")


def test_an_experiment_that_sets_its_mode_still_sweeps(tmp_path):
    """conf/experiment/*.yaml set hydra.mode=MULTIRUN: a run's compose would not be the one
    the sweep needs, and Hydra composes it again."""
    folder = tmp_path / "sweep"
    count = composes(folder, "once", *EXPERIMENT, "~hydra.callbacks.report")
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["0", "1"]
    assert count == 4  # get_mode's, the sweep's, one per job


def test_a_job_that_draws_no_figures_never_imports_matplotlib(tmp_path):
    """figures=[] skips drawing's half second of imports, not only the drawing."""
    cmd = [sys.executable, "-X", "importtime", "-m", "nnsweep", *JOB, f"hydra.run.dir={tmp_path}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "nnsweep.job.figures" in imported  # the run did reach the figures' module
    assert "matplotlib" not in imported


def test_the_figures_floor_draws_each_figure_it_finds_at_its_size(tmp_path):
    """scripts/floor/figures.py (bench_startup.py's floor) draws what a job folder holds,
    by name, at each file's pixel size, and prints the CPU time of each round."""
    from PIL import Image

    job = tmp_path / "job"
    job.mkdir()
    for name, size in {"learning_curve.png": (80, 44), "decision_boundary.png": (60, 48)}.items():
        Image.new("RGB", size).save(job / name)
    frames = [Image.new("RGB", (48, 48), (i, 0, 0)) for i in range(3)]
    frames[0].save(job / "boundary.gif", save_all=True, append_images=frames[1:])
    out = tmp_path / "drawn"
    script = Path(__file__).parent.parent / "scripts" / "floor" / "figures.py"
    cmd = [sys.executable, str(script), str(job), "--rounds", "2", "--keep", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    times = json.loads(done.stdout)
    assert len(times["rounds"]) == 2 and min(times["rounds"]) > 0 and times["imports"] > 0
    drawn = {p.name: Image.open(p) for p in out.iterdir()}
    assert {name: image.size for name, image in drawn.items()} == {
        "learning_curve.png": (80, 44),
        "decision_boundary.png": (60, 48),
        "boundary.gif": (48, 48),
    }
    assert drawn["boundary.gif"].n_frames == 3
