"""The public API (nnsweep/__init__.py) and the layers its modules keep."""

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nnsweep

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(set(nnsweep.__all__) - {"__version__"}))
def test_each_public_name_imports_and_says_what_it_is(name):
    value = getattr(nnsweep, name)
    if isinstance(value, dict):  # a registry: each entry says what it is
        assert value and all(inspect.getdoc(entry) for entry in value.values()), name
    else:
        assert inspect.getdoc(value), name
    assert name in dir(nnsweep)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'trian'"):
        nnsweep.trian  # noqa: B018


def test_import_nnsweep_loads_neither_numpy_nor_hydra():
    code = "import sys, nnsweep; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "numpy" not in loaded.stdout and "hydra" not in loaded.stdout, loaded.stdout


def test_compose_build_and_train_give_the_runs_numbers():
    """The API trains what a job trains: the default run, capped, on both engines alike."""
    cfg = nnsweep.compose(["epochs=300", "replicates=2"])
    e = nnsweep.build(cfg)
    args = (e.net, e.params, e.optimizer, "mse", e.x, e.y, e.settings, e.rngs)
    numpy = nnsweep.train(*args, engine="numpy")
    numba = nnsweep.train(*args)
    assert list(numpy.epochs_run) == [300, 300]
    assert abs(numpy.final_loss - numba.final_loss).max() < 1e-12


def test_compose_refuses_what_a_job_refuses():
    with pytest.raises(ValueError, match=r"lr=-1.0 is out of range; allowed: a finite number > 0"):
        nnsweep.compose(["lr=-1"])


def _lint_imports(package_root: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint)],
        cwd=package_root,
        env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def test_the_layers_contract_fails_on_an_import_that_points_up(tmp_path):
    for folder in ("nnsweep", "hydra_plugins"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    kept = _lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    mlp = tmp_path / "nnsweep" / "nn" / "mlp.py"
    mlp.write_text(mlp.read_text() + "\nfrom nnsweep.report import tables  # points up\n")
    broken = _lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "nnsweep.nn.mlp -> nnsweep.report.tables" in broken.stdout
