"""The trained networks, loadable: params.npz round-trips to the job's own results, its
layout reads without nnsweep, and nnsweep-predict prints the outputs."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from nnsweep import load_networks
from nnsweep.data import make_dataset
from nnsweep.job.run import run
from nnsweep.job.schema import CONFIG_DIR, register
from nnsweep.nn.losses import get_loss
from nnsweep.nn.mlp import accuracy

register()
JOB = ["replicates=3", "epochs=3000", "lr=1", "print_predictions=false", "figures=[]"]


@pytest.fixture(scope="module", params=["numba", "numpy"])
def job_dir(request, tmp_path_factory):
    """A finished job of 3 replicates with a leaky_relu of slope 0.02 on the hidden layers."""
    overrides = [*JOB, f"engine={request.param}", "activation=leaky_relu", "activation.alpha=0.02"]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    folder = tmp_path_factory.mktemp(request.param)
    run(cfg, folder)
    return folder


def test_loaded_networks_give_the_jobs_final_loss_and_accuracy_exactly(job_dir):
    result = json.loads((job_dir / "result.json").read_text())
    x, y = make_dataset("xor", np.random.default_rng(0))
    networks = load_networks(job_dir)
    assert [n.replicate for n in networks] == [0, 1, 2]
    assert [n.seed for n in networks] == [r["seed"] for r in result["replicates"]]
    for network, recorded in zip(networks, result["replicates"], strict=True):
        prediction = network.predict(x)[None]  # (1, n, 1), as training measured it
        assert prediction.shape == (1, 21, 1)
        assert get_loss("mse")(prediction, y)[0][0] == recorded["final_loss"]
        assert accuracy(prediction, y)[0] == recorded["final_accuracy"]
        assert not np.array_equal(network.initial, network.params)  # it trained


def test_the_npz_layout_reads_without_nnsweep(job_dir):
    """The README's layout, followed with NumPy alone: a layer is f(a @ W + b)."""
    archive = np.load(job_dir / "params.npz")
    sizes, activations = archive["sizes"].tolist(), archive["activations"].tolist()
    assert sizes == [2, 4, 4, 1] and activations == ["leaky_relu", "leaky_relu", "sigmoid"]
    functions = {
        "leaky_relu": lambda z, alpha: np.where(z > 0, z, alpha * z),
        "sigmoid": lambda z, alpha: 1 / (1 + np.exp(-z)),
    }
    x = np.random.default_rng(5).uniform(size=(7, 2))
    for r, network in enumerate(load_networks(job_dir)):
        row, a, offset = archive["final"][r], x, 0
        for fan_in, fan_out, name, alpha in zip(
            sizes[:-1], sizes[1:], activations, archive["alphas"], strict=True
        ):
            weight = row[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out)
            bias = row[offset + fan_in * fan_out : offset + (fan_in + 1) * fan_out]
            a, offset = functions[name](a @ weight + bias, alpha), offset + (fan_in + 1) * fan_out
        assert offset == len(row)
        np.testing.assert_allclose(network.predict(x), a, rtol=1e-12)
    np.testing.assert_array_equal(archive["alphas"], [0.02, 0.02, 0.0])


def test_params_npz_is_checksummed_with_the_data(job_dir):
    files = json.loads((job_dir / "result.json").read_text())["files"]
    assert set(files) == {"loss.csv", "layers.csv", "params.npz"}


def test_nnsweep_predict_prints_every_replicates_output(job_dir, tmp_path):
    cli = [sys.executable, "-m", "nnsweep.cli.predict", str(job_dir)]
    one = subprocess.run([*cli, "0.1", "0.9"], capture_output=True, text=True, check=True)
    lines = one.stdout.splitlines()
    assert lines[0] == "x1,x2,replicate_0,replicate_1,replicate_2" and len(lines) == 2
    expected = [n.predict([[0.1, 0.9]])[0, 0] for n in load_networks(job_dir)]
    np.testing.assert_allclose([float(v) for v in lines[1].split(",")[2:]], expected, rtol=1e-9)
    points = tmp_path / "points.csv"
    points.write_text("x1,x2\n0,0\n1,0\n0.5,0.5\n")
    many = subprocess.run([*cli, "--csv", str(points)], capture_output=True, text=True)
    assert many.returncode == 0 and len(many.stdout.splitlines()) == 4
    bad = subprocess.run([*cli[:-1], str(tmp_path), "0.1", "0.9"], capture_output=True, text=True)
    assert bad.returncode != 0 and "has no params.npz; give a job's folder" in bad.stderr


def test_nnsweep_predict_at_a_snapshot_epoch_and_a_wrong_one_refused(job_dir):
    cli = [sys.executable, "-m", "nnsweep.cli.predict", str(job_dir), "0.1", "0.9", "--epoch"]
    networks = load_networks(job_dir)
    epoch = int(networks[0].snapshot_epochs[-2])  # the snapshots are far apart by then
    at = subprocess.run([*cli, str(epoch)], capture_output=True, text=True, check=True)
    expected = [n.predict([[0.1, 0.9]], n.at(epoch))[0, 0] for n in networks]
    got = [float(v) for v in at.stdout.splitlines()[1].split(",")[2:]]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got != [n.predict([[0.1, 0.9]])[0, 0] for n in networks]  # not the final outputs
    wrong = subprocess.run([*cli, str(epoch + 1)], capture_output=True, text=True)
    assert wrong.returncode == 1
    assert f"--epoch {epoch + 1}: epoch {epoch + 1} is not a snapshot" in wrong.stderr
