"""scripts/discussion.py end to end on a small budget, and the analysis it relies on."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import discussion  # noqa: E402


def test_the_affine_fit_to_xor_is_the_constant_mean():
    """Identity everywhere is an affine map: its best MSE on the lab's XOR is the constant
    10/21, loss 10/21 * 11/21, accuracy 11/21 (the label-0 share)."""
    loss, accuracy = discussion.best_linear_fit_on_xor()
    assert loss == pytest.approx(10 / 21 * 11 / 21)
    assert accuracy == pytest.approx(11 / 21)


def test_steepest_fall_tells_a_plateau_and_drop_from_a_steady_descent():
    import pandas as pd

    epochs = np.arange(1, 1001)
    steady = 0.25 * np.exp(-epochs / 200)
    plateau = np.where(epochs < 800, 0.25, 0.25 * np.exp(-(epochs - 800) / 5))
    curves = pd.concat(
        [
            pd.DataFrame({"job": "a", "replicate": 0, "epoch": epochs, "loss": steady}),
            pd.DataFrame({"job": "b", "replicate": 0, "epoch": epochs, "loss": plateau}),
        ]
    )
    fall = discussion.steepest_fall(curves)
    assert fall[("b", 0)] > 10 * fall[("a", 0)]


@pytest.mark.slow
def test_discussion_runs_and_writes_its_claims(tmp_path):
    cmd = [
        sys.executable, str(ROOT / "scripts" / "discussion.py"), "--only", "results",
        "--epochs", "400", "--replicates", "2", "--work", str(tmp_path / "work"),
        "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "out" / "discussion.md").read_text()
    assert "## Section 3: linear and XOR" in text and "| linear | 0/2 |" in text
    assert (tmp_path / "out" / "results" / "curves_all.png").is_file()
    assert "discussion written to" in done.stdout
