"""Behaviour from the command line: real `python -m nnsweep` runs in a subprocess."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

FIGURES = ("prediction.png", "learning_curve.png", "decision_boundary.png", "gradients.png")
GIF = b"GIF89a"


def nnsweep(*args: str, cwd: Path, command: tuple[str, ...] = (sys.executable, "-m", "nnsweep")):
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def assert_complete_job(job: Path, replicates: int = 1, figures: bool = True) -> dict:
    result = json.loads((job / "result.json").read_text())
    assert result["status"] == "complete"
    assert len(result["replicates"]) == replicates
    curves = pd.read_csv(job / "loss.csv")
    assert list(curves.columns) == ["replicate", "epoch", "loss", "accuracy"]
    assert sorted(curves["replicate"].unique()) == list(range(replicates))
    for row in result["replicates"]:
        rows = curves[curves["replicate"] == row["replicate"]]
        assert rows["epoch"].iloc[0] == 1 and rows["epoch"].iloc[-1] == row["epochs"]
        assert rows["epoch"].is_monotonic_increasing
    for name in FIGURES if figures else ():
        assert (job / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert not figures or (job / "boundary.gif").read_bytes()[:6] == GIF
    return result


def test_sweep_writes_every_jobs_files(tmp_path):
    sweep = tmp_path / "sweep"
    done = nnsweep(
        "-m",
        "optimizer=gd,momentum,adagrad",
        "epochs=2000",
        "figures=[]",  # drawn in the single run below
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name != "report")
    assert [p.name for p in jobs] == ["0", "1", "2"]
    assert (sweep / "report" / "report.md").is_file()  # the report callback, on by default
    names = [assert_complete_job(job, figures=False)["config"]["optimizer"]["name"] for job in jobs]
    assert names == ["gd", "momentum", "adagrad"]
    assert "Epoch 100 loss : " in (jobs[0] / "nnsweep.log").read_text()


def test_single_run_prints_the_labs_lines_and_goes_under_outputs_runs(tmp_path):
    done = nnsweep("dataset=linear", "lr=1", "epochs=3000", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Epoch 100 loss : " in done.stderr and "Prediction 20: " in done.stderr
    assert "Prediction 21: " not in done.stderr and "accuracy=" in done.stderr
    (job,) = (tmp_path / "outputs" / "runs").glob("*/*")
    assert "Prediction 99: " in (job / "nnsweep.log").read_text()
    assert_complete_job(job)


def test_console_script_and_replicates(tmp_path):
    script = shutil.which("nnsweep", path=str(Path(sys.executable).parent))
    assert script, "the console script `nnsweep` is installed beside the interpreter"
    args = ("activation=leaky_relu", "activation.alpha=0.01", "replicates=3", "epochs=500")
    args += ("figures=[]",)
    done = nnsweep(*args, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, command=(script,))
    assert done.returncode == 0, done.stderr
    result = assert_complete_job(tmp_path / "run", replicates=3, figures=False)
    assert result["config"]["activation"] == {"name": "leaky_relu", "alpha": 0.01}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("dataset=moons", "dataset"),
        ("lrr=0.1", "lrr"),
        ("lr=0", "lr"),
        ("lr=-1", "lr"),
        ("lr=nan", "lr"),
        ("lr=abc", "lr"),
        ("hidden_units=0", "hidden_units"),
        ("epochs=0", "epochs"),
        ("replicates=0", "replicates"),
    ],
)
def test_bad_input_exits_non_zero_naming_the_field_and_writes_no_valid_result(
    tmp_path, override, field
):
    done = nnsweep(override, f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert done.returncode != 0
    assert field in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run" / "loss.csv").exists()
    result_file = tmp_path / "run" / "result.json"
    assert not result_file.exists() or json.loads(result_file.read_text())["status"] == "failed"


def test_a_bad_value_in_a_sweep_stops_it_before_any_job_runs(tmp_path):
    sweep = tmp_path / "sweep"
    done = nnsweep("-m", "lr=0.1,0", "epochs=10", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert done.returncode != 0
    assert "lr=0.0 is out of range" in done.stderr
    assert not list(sweep.glob("*/result.json"))


def test_same_config_and_seed_give_byte_identical_loss_csv(tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        done = nnsweep(
            "replicates=2", "epochs=1500", "lr=0.5", f"hydra.run.dir={run}", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
    assert (runs[0] / "loss.csv").read_bytes() == (runs[1] / "loss.csv").read_bytes()
