"""nnsweep under Hydra's launcher and sweeper plugins: joblib, submitit, Optuna."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

NO_REPORT = "~hydra.callbacks.report"


def sweep(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    cmd = [sys.executable, "-m", "nnsweep", "-m", *args, NO_REPORT, "figures=[]"]
    cmd.append(f"hydra.sweep.dir={out}")
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


def job_dirs(out: Path) -> list[Path]:
    return sorted(
        (p for p in out.iterdir() if (p / "result.json").is_file()), key=lambda p: int(p.name)
    )


def test_joblib_gives_the_same_files_as_the_default_launcher_with_one_blas_thread(tmp_path):
    args = ("seed=0,1", "lr=0.5,1", "epochs=1500", "replicates=2")
    serial = job_dirs(sweep(tmp_path, "basic", *args))
    parallel = job_dirs(
        sweep(tmp_path, "joblib", *args, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    )
    assert [p.name for p in serial] == [p.name for p in parallel] == ["0", "1", "2", "3"]
    for a, b in zip(serial, parallel, strict=True):
        assert (a / "loss.csv").read_bytes() == (b / "loss.csv").read_bytes()
        result = json.loads((b / "result.json").read_text())
        assert result["status"] == "complete"
        assert result["environment"]["blas_threads"] in (1, None)  # None: no BLAS pool found


def test_submitit_local_runs_a_sweep_end_to_end(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    out = sweep(
        tmp_path, "submitit", "optimizer=gd,adam", "epochs=500", "hydra/launcher=submitit_local"
    )
    jobs = job_dirs(out)
    assert len(jobs) == 2
    assert {json.loads((j / "result.json").read_text())["status"] for j in jobs} == {"complete"}
    assert (out / ".submitit").is_dir()


def test_optuna_search_runs_in_memory_trials(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    out = tmp_path / "search"
    cmd = [
        sys.executable, "-m", "nnsweep", "hparams_search=xor_fastest", "hydra.sweeper.n_trials=3",
        "epochs=1000", "replicates=2", NO_REPORT, f"hydra.sweep.dir={out}",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    best = yaml.safe_load((out / "optimization_results.yaml").read_text())
    assert set(best["best_params"]) == {"lr", "hidden_units"}
    assert 0.01 <= best["best_params"]["lr"] <= 10
    # the objective is epochs to threshold: a trial that missed counts as >= the epoch cap
    results = [json.loads((j / "result.json").read_text()) for j in job_dirs(out)]
    assert len(results) == 3
    scores = [objective(res["replicates"], cap=1000) for res in results]
    assert best["best_value"] == pytest.approx(min(scores))


def objective(replicates: list[dict], cap: int, threshold: float = 0.001) -> float:
    """objective=epochs as the README states it: epochs to the threshold; a miss counts
    as cap * (1 + log10(final loss / threshold)), a diverged replicate as 100 * cap."""
    scores = [
        r["epochs"]
        if r["converged"]
        else 100 * cap
        if r["diverged"]
        else cap * (1 + math.log10(max(r["final_loss"], threshold) / threshold))
        for r in replicates
    ]
    return sum(scores) / len(scores)
