"""More than two classes: the K-class datasets, softmax and cross-entropy against their
definitions, a two-class softmax against a sigmoid, the confusion matrix, the files and
figures of K-class jobs on both engines, nnsweep-predict, and the one-line refusals.
(The gradients are checked by central differences in test_gradients.py, the engines
against each other in test_engines.py.)"""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from nnsweep import load_networks, read_sweep
from nnsweep.data import make_dataset
from nnsweep.job.run import run
from nnsweep.job.schema import CONFIG_DIR, register
from nnsweep.nn.activations import log_softmax, make_activation, make_output_activation, softmax
from nnsweep.nn.losses import get_loss
from nnsweep.nn.mlp import MLP, accuracy, confusion

register()
K3 = ["dataset=spiral", "dataset.classes=3", "dataset.n=60", "output_activation=softmax",
      "loss=cross_entropy", "hidden_units=8", "optimizer=adam", "lr=0.05", "epochs=400",
      "print_predictions=false"]  # fmt: skip


def compose_config(*overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=list(overrides))


def nnsweep(*args: str, command: str = "nnsweep") -> subprocess.CompletedProcess:
    module = {"nnsweep": "nnsweep", "predict": "nnsweep.cli.predict"}[command]
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


# ---------------------------------------------------------------- data


def old_two_spirals(n: int, noise: float, rng: np.random.Generator):
    """generate_spiral as it was before it took ``classes`` (nnsweep 0.1.0 at 9a77075)."""
    half = n // 2
    t = np.concatenate([np.arange(half) / half, np.arange(n - half) / (n - half)])
    angle = 1.75 * 2 * np.pi * t + np.where(np.arange(n) < half, 0.0, np.pi)
    x = 0.5 + 0.45 * t[:, None] * np.column_stack([np.sin(angle), np.cos(angle)])
    x = x + rng.normal(scale=noise, size=x.shape) if noise > 0 else x
    return x, (np.arange(n) < half).astype(np.int64).reshape(-1, 1)


def old_two_blobs(n: int, noise: float, rng: np.random.Generator):
    label = np.arange(n) < n // 2
    x = np.where(label, 0.7, 0.3)[:, None] + rng.normal(scale=0.08 + noise, size=(n, 2))
    return x, label.astype(np.int64).reshape(-1, 1)


@pytest.mark.parametrize("n", [2, 7, 200, 201])
@pytest.mark.parametrize("noise", [0.0, 0.1])
@pytest.mark.parametrize(
    ("name", "old"), [("spiral", old_two_spirals), ("gaussian", old_two_blobs)]
)
def test_two_classes_are_the_points_and_labels_of_before(name, old, n, noise):
    x, y = make_dataset(name, np.random.default_rng(4), n=n, noise=noise)
    old_x, old_y = old(n, noise, np.random.default_rng(4))
    assert x.tobytes() == old_x.tobytes() and y.tobytes() == old_y.tobytes()


@pytest.mark.parametrize(("name", "classes"), [("spiral", 3), ("spiral", 7), ("gaussian", 5),
                                               ("quadrants", 4)])  # fmt: skip
def test_k_classes_are_labelled_0_to_k_minus_1_in_equal_shares(name, classes):
    x, y = make_dataset(name, np.random.default_rng(0), n=700, classes=classes)
    assert x.shape == (700, 2) and y.shape == (700, 1) and y.dtype == np.int64
    counts = np.bincount(y[:, 0], minlength=classes)
    assert len(counts) == classes
    if name != "quadrants":  # quadrants draws its points at random
        assert counts.max() - counts.min() <= 1
    else:  # one class per quadrant around (0.5, 0.5): (x > 0.5) + 2 (y > 0.5)
        np.testing.assert_array_equal(y[:, 0], (x[:, 0] > 0.5) + 2 * (x[:, 1] > 0.5))


def test_spiral_arms_are_turned_by_a_kth_of_a_turn():
    x, y = make_dataset("spiral", np.random.default_rng(0), n=300, classes=3)
    ends = [x[y[:, 0] == k][-1] - 0.5 for k in range(3)]  # each arm's outer end
    angles = sorted(np.degrees(np.arctan2(e[0], e[1])) % 360 for e in ends)
    np.testing.assert_allclose(np.diff(angles), [120, 120], atol=2)


# ---------------------------------------------------------------- softmax and the losses


def test_softmax_and_log_softmax_never_overflow_and_sum_to_one():
    z = np.array([[1000.0, 0.0, -1000.0], [1e300, 1e300, 0.0], [-5.0, -5.0, -5.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")  # (exp's underflow to 0 is exact enough, and allowed)
        p, log_p = softmax(z), log_softmax(z)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-15)
    assert np.all(np.isfinite(log_p))
    np.testing.assert_allclose(p[2], 1 / 3, rtol=1e-15)
    assert log_p[0, 2] == -2000.0  # exactly: z - max - log(sum), sum = 1 + tiny


def test_cross_entropy_is_minus_the_mean_log_probability_of_the_true_class():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 8, 4))
    labels = rng.integers(0, 4, size=(8, 1))
    value, grad = get_loss("cross_entropy", softmax=True)(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)  # the textbook way
    expected = -np.log(p[:, np.arange(8), labels[:, 0]]).mean(axis=1)
    np.testing.assert_allclose(value, expected, rtol=1e-14)
    onehot = np.eye(4)[labels[:, 0]]
    np.testing.assert_allclose(grad, (p - onehot) / 8, rtol=1e-13, atol=1e-17)


def test_cross_entropy_stays_finite_where_a_probability_underflows_to_zero():
    """The true class 2000 below another: its probability is 0 in floating point, yet the
    loss is the exact 2000 (log-sum-exp), and its gradient finite, -1 / n on it."""
    logits = np.array([[[2000.0, 0.0]]])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        value, grad = get_loss("cross_entropy", softmax=True)(logits, np.array([[1]]))
    assert value[0] == 2000.0
    np.testing.assert_array_equal(grad[0, 0], [1.0, -1.0])


def test_mse_on_a_softmax_is_on_the_one_hot_targets():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(1, 5, 3)), np.array([[0], [2], [1], [1], [0]])
    value, _ = get_loss("mse", softmax=True)(logits, labels)
    p = softmax(logits)
    np.testing.assert_allclose(value, ((p - np.eye(3)[labels[:, 0]]) ** 2).mean(), rtol=1e-14)


def test_a_two_unit_softmax_is_a_sigmoid_of_the_logit_difference():
    z = np.random.default_rng(2).normal(scale=5.0, size=(100, 2))
    sigmoid = make_activation("sigmoid").fn
    np.testing.assert_allclose(softmax(z)[:, 1], sigmoid(z[:, 1] - z[:, 0]), rtol=1e-14)


def test_a_two_class_softmax_decides_and_loses_as_the_sigmoid_it_equals():
    """A 2-4-4-2 softmax whose output weights and biases are (0, w) and (0, b) of a 2-4-4-1
    sigmoid network: its class-1 probability is the sigmoid's output, its decisions are the
    same, and its cross-entropy is the sigmoid's binary cross-entropy."""
    x, y = make_dataset("xor", np.random.default_rng(0))
    sigmoid = make_activation("sigmoid")
    binary = MLP((2, 4, 4, 1), sigmoid, sigmoid)
    params = binary.init([np.random.default_rng(r) for r in range(3)])
    two = MLP((2, 4, 4, 2), sigmoid, make_output_activation("softmax"))
    wide = np.zeros((3, two.n_params))
    layers = list(zip(binary.unpack(params), two.unpack(wide), strict=True))
    for (w, b), (w2, b2) in layers[:-1]:  # the hidden layers, as they are
        w2[:], b2[:] = w, b
    (w, b), (w2, b2) = layers[-1]
    w2[..., 1:], b2[..., 1:] = w, b  # class 1's logit is the sigmoid's; class 0's is 0
    p_binary, p_two = binary.predict(params, x), two.predict(wide, x)
    np.testing.assert_allclose(p_two[..., 1:], p_binary, rtol=1e-13)
    np.testing.assert_array_equal(accuracy(p_two, y), accuracy(p_binary, y))
    np.testing.assert_array_equal(confusion(p_two, y, 2), confusion(p_binary, y, 2))
    ce, _ = get_loss("cross_entropy", softmax=True)(two.forward(wide, x)[-1], y)
    bce, _ = get_loss("bce")(p_binary, y)
    np.testing.assert_allclose(ce, bce, rtol=1e-10)


def test_accuracy_is_the_argmax_and_the_confusion_matrix_counts_true_by_predicted():
    prediction = np.array([[[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]]])
    labels = np.array([[0], [1], [1], [2]])
    assert accuracy(prediction, labels)[0] == 0.5
    expected = [[1, 0, 0], [0, 1, 1], [1, 0, 0]]
    np.testing.assert_array_equal(confusion(prediction, labels, 3)[0], expected)
    one_unit = np.array([[[0.2], [0.9], [0.6]]])  # one output: class 1 above 0.5
    np.testing.assert_array_equal(confusion(one_unit, np.array([[0], [0], [1]]), 2)[0],
                                  [[1, 1], [0, 1]])  # fmt: skip


# ---------------------------------------------------------------- jobs, files, figures


@pytest.fixture(scope="module", params=["numba", "numpy"])
def k3_job(request, tmp_path_factory):
    """A finished 3-class job of 2 replicates with held-out points, every figure drawn."""
    cfg = compose_config(*K3, "replicates=2", "dataset.test_n=30", f"engine={request.param}")
    folder = tmp_path_factory.mktemp(f"k3_{request.param}")
    run(cfg, folder)
    return folder


def test_a_k_class_job_keeps_its_confusion_matrices_and_data(k3_job):
    result = json.loads((k3_job / "result.json").read_text())
    assert result["status"] == "complete"
    x, y = make_dataset("spiral", np.random.default_rng(0), n=60, classes=3)
    for r in result["replicates"]:
        train, test = np.array(r["confusion"]), np.array(r["test_confusion"])
        assert train.shape == (3, 3) and train.sum() == 60 and test.sum() == 30
        np.testing.assert_array_equal(train.sum(axis=1), np.bincount(y[:, 0]))
        assert np.trace(train) / 60 == r["final_accuracy"]
        assert np.trace(test) / 30 == r["final_test_accuracy"]
    with np.load(k3_job / "params.npz") as saved:
        assert int(saved["classes"]) == 3 and str(saved["loss"]) == "cross_entropy"
        np.testing.assert_array_equal(saved["x_train"], x)
        np.testing.assert_array_equal(saved["y_train"], y)
        assert saved["x_test"].shape == (30, 2) and saved["y_test"].shape == (30, 1)


def test_loaded_k_class_networks_give_probabilities_and_the_jobs_final_values(k3_job):
    result = json.loads((k3_job / "result.json").read_text())
    for network, recorded in zip(load_networks(k3_job), result["replicates"], strict=True):
        p = network.predict([[0.5, 0.9], [0.1, 0.2]])
        assert p.shape == (2, 3) and network.classes == 3
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
        np.testing.assert_array_equal(network.predicted_class([[0.5, 0.9]]), p[:1].argmax(1))
        loss, acc = network.evaluate()
        assert loss == pytest.approx(recorded["final_loss"], rel=1e-12)
        assert acc == recorded["final_accuracy"]
        test_loss, test_acc = network.evaluate(held_out=True)
        assert test_loss == pytest.approx(recorded["final_test_loss"], rel=1e-12)
        assert test_acc == recorded["final_test_accuracy"]


def test_a_k_class_job_draws_every_figure_and_its_confusion_matrix(k3_job):
    for name in ("prediction.png", "decision_boundary.png", "confusion.png", "boundary.gif"):
        with Image.open(k3_job / name) as image:
            assert image.size[0] > 300, name
    result = json.loads((k3_job / "result.json").read_text())
    assert "figures_failed" not in result


def test_a_binary_job_keeps_its_data_and_reproduces_its_final_values(tmp_path):
    cfg = compose_config("dataset=linear", "dataset.test_n=10", "epochs=300", "lr=1",
                         "replicates=2", "print_predictions=false")  # fmt: skip
    run(cfg, tmp_path)
    result = json.loads((tmp_path / "result.json").read_text())
    assert not (tmp_path / "confusion.png").exists()  # two classes: no confusion.png
    for network, recorded in zip(load_networks(tmp_path), result["replicates"], strict=True):
        assert network.predict([[0.2, 0.7]]).shape == (1, 1) and network.classes == 2
        loss, acc = network.evaluate()
        assert loss == pytest.approx(recorded["final_loss"], rel=1e-12)
        assert acc == recorded["final_accuracy"]
        assert np.array(recorded["confusion"]).sum() == 100


def test_nnsweep_predict_prints_each_class_probability_and_the_class(k3_job):
    done = nnsweep(str(k3_job), "0.5", "0.9", command="predict")
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.strip().splitlines()
    names = header.split(",")
    assert names[:6] == ["x1", "x2", "replicate_0_p0", "replicate_0_p1", "replicate_0_p2",
                         "replicate_0_class"]  # fmt: skip
    values = dict(zip(names, map(float, row.split(",")), strict=True))
    p = [values[f"replicate_1_p{k}"] for k in range(3)]
    assert sum(p) == pytest.approx(1.0) and values["replicate_1_class"] == int(np.argmax(p))


@pytest.mark.parametrize("classes", [3, 5])
def test_k_class_figures_draw_for_three_and_five_classes(classes, tmp_path):
    cfg = compose_config(*K3, f"dataset.classes={classes}", "dataset=gaussian", "epochs=100",
                         "snapshots=5", "engine=numpy")  # fmt: skip
    run(cfg, tmp_path)
    assert json.loads((tmp_path / "result.json").read_text()).get("figures_failed") is None
    with Image.open(tmp_path / "decision_boundary.png") as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # shaded regions, not a blank axis
    with Image.open(tmp_path / "boundary.gif") as gif:
        assert gif.n_frames >= 2


def test_a_k_class_sweep_reports_like_any_other(tmp_path):
    done = nnsweep("-m", *K3, "epochs=100", "hidden_units=2,8", f"hydra.sweep.dir={tmp_path}",
                   "figures=[]")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    sweep = read_sweep(tmp_path)
    assert sweep.swept == ["hidden_units"] and len(sweep.runs) == 2
    assert (tmp_path / "report" / "report.md").is_file()
    assert sweep.runs["final_accuracy"].between(0, 1).all()


# ---------------------------------------------------------------- bad input, one line each

REFUSED = [
    (["dataset=spiral", "dataset.classes=1"], "dataset.classes=1 is out of range"),
    (["dataset=spiral", "dataset.classes=10001"], "dataset.classes=10001 is out of range"),
    (["dataset=linear", "dataset.classes=3"],
     "dataset.classes=3 cannot be used with dataset=linear"),
    (["dataset.classes=3"], "classes is a field of dataset=spiral, gaussian, quadrants"),
    (["dataset=quadrants", "dataset.classes=3"], "allowed: 2 (XOR-like) or 4"),
    (["dataset=spiral", "dataset.classes=3"],
     "use output_activation=softmax loss=cross_entropy"),
    (["dataset=gaussian", "dataset.classes=4", "output_activation=none"],
     "output_activation='none' cannot tell dataset.classes=4 classes apart"),
    (["loss=cross_entropy"], "loss=cross_entropy cannot be used with output_activation='sigmoid'"),
    (["output_activation=softmax", "loss=bce"], "cannot be used with loss=bce"),
    (["activation=softmax"], "softmax is an output activation only"),
    (["dataset=spiral", "dataset.classes=10000", "dataset.n=1000000", "replicates=100",
      "output_activation=softmax"], "dataset.classes=10000, dataset.n=1000000, "
     "dataset.test_n=0, engine=numba needs about"),
    (["-m", "dataset=spiral", "dataset.classes=3,5", "output_activation=softmax"],
     "the sweep mixes dataset.classes=3,5"),
    (["-m", "dataset=spiral,linear", "dataset.classes=3", "output_activation=softmax"],
     "dataset.classes=3 cannot be used with dataset=linear"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "said"), REFUSED, ids=lambda a: " ".join(a) if isinstance(
    a, list) else "")  # fmt: skip
def test_bad_class_settings_are_one_line_before_anything_runs(args, said, tmp_path):
    out = tmp_path / "out"
    done = nnsweep(*args, f"hydra.run.dir={out}", f"hydra.sweep.dir={out}", "epochs=3")
    assert done.returncode != 0
    assert said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    results = [json.loads(p.read_text()) for p in out.rglob("result.json")] if out.exists() else []
    assert all(r["status"] == "failed" for r in results)  # a run records its refusal
    assert not out.exists() or not any(out.rglob("loss.csv"))


def test_softmax_without_a_hidden_layer_is_multinomial_logistic_regression(tmp_path):
    cfg = compose_config(*K3, "dataset=gaussian", "hidden_layers=0", "epochs=200",
                         "figures=[]")  # fmt: skip
    run(cfg, tmp_path)
    [network] = load_networks(tmp_path)
    assert network.net.sizes == (2, 3) and network.evaluate()[1] > 0.9  # blobs: linear


def test_a_report_over_folders_of_different_k_is_refused(tmp_path):
    for classes in (3, 4):
        cfg = compose_config(*K3, "dataset=gaussian", f"dataset.classes={classes}",
                             "epochs=5", "figures=[]")  # fmt: skip
        run(cfg, tmp_path / f"k{classes}")
    done = subprocess.run([sys.executable, "-m", "nnsweep.cli.report", str(tmp_path / "k3"),
                           str(tmp_path / "k4"), "--out", str(tmp_path / "both")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and "report each dataset.classes on its own" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "both" / "report.md").exists()
