"""What training records besides the loss, on both engines: snapshots of the parameters at
log-spaced epochs, each layer's gradient norm and mean |f'(z)|, held-out loss and
accuracy; and the files, figures and networks a job makes of them."""

import json

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from nnsweep import load_networks
from nnsweep.data import make_dataset
from nnsweep.engines.compiled import train as train_numba
from nnsweep.engines.history import Recording, TrainSettings, evaluate
from nnsweep.engines.numpy_loop import train as train_numpy
from nnsweep.engines.schedule import recorded_epochs, snapshot_epochs
from nnsweep.errors import ConfigError
from nnsweep.job.build import build
from nnsweep.job.figures import frames
from nnsweep.job.run import run
from nnsweep.job.schema import CONFIG_DIR, register
from nnsweep.nn.activations import make_activation
from nnsweep.nn.losses import get_loss
from nnsweep.nn.mlp import MLP
from nnsweep.nn.optimizers import make_optimizer

register()
ENGINES = {"numba": train_numba, "numpy": train_numpy}
Array = np.ndarray


def compose_config(*overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=list(overrides))


# ---------------------------------------------------------------- the snapshot epochs


@pytest.mark.parametrize("epochs", [40, 41, 100, 2000, 1_000_000, 10**9])
@pytest.mark.parametrize("count", [1, 2, 5, 40])
def test_snapshot_epochs_are_distinct_log_spaced_first_and_last_included(epochs, count):
    chosen = snapshot_epochs(epochs, count)
    assert len(chosen) == min(count, epochs)
    assert chosen[-1] == epochs and (count == 1 or chosen[0] == 1)
    assert np.all(np.diff(chosen) >= 1)
    if count > 2 and epochs >= 100 * count:  # room to space them: ratios about even
        ratios = chosen[1:] / chosen[:-1]
        even = (epochs / chosen[count // 2]) ** (1 / (count - 1 - count // 2))
        assert np.allclose(ratios[count // 2 :], even, rtol=0.05)


def test_no_snapshots_when_none_are_asked_for():
    assert len(snapshot_epochs(1000, 0)) == 0


# ---------------------------------------------------------------- both engines


@pytest.fixture(scope="module")
def xor():
    return make_dataset("xor", np.random.default_rng(0))


def lab_net(hidden: str = "sigmoid") -> MLP:
    return MLP((2, 4, 4, 1), make_activation(hidden), make_activation("sigmoid"))


def train(engine: str, net: MLP, data, epochs: int, recording: Recording, seeds=(0, 1, 2)):
    """The replicates ``seeds`` trained by gd at lr 2 (they stop at different epochs)."""
    rngs = [np.random.default_rng(s) for s in seeds]
    settings = TrainSettings(epochs=epochs, loss_threshold=0.02)
    opt, loss = make_optimizer("gd", 2.0), get_loss("mse")
    return ENGINES[engine](net, net.init(rngs), opt, loss, *data, settings, rngs, None, recording)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_snapshot_is_the_parameters_a_run_capped_there_ends_with(engine, xor):
    net, epochs = lab_net(), 3000
    recording = Recording(snapshots=snapshot_epochs(epochs, 12))
    history = train(engine, net, xor, epochs, recording)
    assert len(set(history.epochs_run.tolist())) == 3 and history.converged.any()
    np.testing.assert_array_equal(history.snapshots[-1], history.params)  # the last: final
    for k, epoch in enumerate(history.snapshot_epochs.tolist()):
        capped = train(engine, net, xor, epoch, Recording())
        np.testing.assert_array_equal(history.snapshots[k], capped.params, err_msg=str(epoch))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_snapshot_at_or_after_a_replicates_stop_holds_its_final_parameters(engine, xor):
    net, epochs = lab_net(), 1500
    stops = train(engine, net, xor, epochs, Recording()).epochs_run
    assert len(set(stops.tolist())) == 3  # two converge at different epochs, one runs to the cap
    chosen = np.unique(stops)  # a snapshot at each stop epoch exactly
    history = train(engine, net, xor, epochs, Recording(snapshots=chosen))
    np.testing.assert_array_equal(history.epochs_run, stops)
    for k, epoch in enumerate(chosen.tolist()):
        for r in np.flatnonzero(stops <= epoch):
            np.testing.assert_array_equal(history.snapshots[k, r], history.params[r])


H = 1e-6  # central-difference step


def layer_statistics_by_differences(net: MLP, params: Array, x: Array, y: Array) -> Array:
    """(L, 2) for one network (params (1, P)), without the backward pass: per layer the norm
    of the loss's central differences in each of its weights, and the mean over units and
    samples of |f'(z)|, f' by central differences at the pre-activations z worked out here."""
    loss_fn = get_loss("mse")
    rows, a = [], x
    for slot, f in zip(net.slots, net.activations, strict=True):
        differences = []
        for p in range(slot.weight.start, slot.weight.stop):
            up, down = params.copy(), params.copy()
            up[0, p] += H
            down[0, p] -= H
            change = loss_fn(net.predict(up, x), y)[0] - loss_fn(net.predict(down, x), y)[0]
            differences.append(change[0] / (2 * H))
        weight = params[0, slot.weight].reshape(slot.fan_in, slot.fan_out)
        z = a @ weight + params[0, slot.bias]  # (n, fan_out)
        slope = (f.fn(z + H) - f.fn(z - H)) / (2 * H)
        rows.append((np.linalg.norm(differences), np.abs(slope).mean()))
        a = f.fn(z)
    return np.array(rows)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_layer_statistics_are_the_gradient_norms_and_slopes_by_central_differences(
    engine, hidden, xor
):
    """At epoch e the record is of the parameters entering it: the initial ones at epoch 1,
    and the end-of-epoch snapshot of e - 1 after it. Each layer's weight-gradient norm and
    mean |f'(z)| are measured here by central differences, not by the backward pass."""
    net, epochs = lab_net(hidden), 60
    chosen = np.array([1, 5, 20, 59])
    recording = Recording(epochs={1, 2, 6, 21, 60}, snapshots=chosen)
    history = train(engine, net, xor, epochs, recording, seeds=(4,))
    entering = {1: net.init([np.random.default_rng(4)])} | {
        int(e) + 1: history.snapshots[k] for k, e in enumerate(chosen)
    }
    for epoch, params in entering.items():
        expected = layer_statistics_by_differences(net, params, *xor)
        np.testing.assert_allclose(history.layers[epoch][0], expected, rtol=1e-6, err_msg=epoch)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_layers_at_each_replicates_last_epoch_are_those_of_its_final_parameters(engine, xor):
    """Recorded where a replicate stopped, whether its stop epoch is a recorded one or not;
    at the cap, the recorded row of the parameters entering the cap's epoch."""
    net, epochs = lab_net(), 1500
    history = train(engine, net, xor, epochs, Recording(epochs={1, 1000, epochs}))
    assert history.converged.any() and not history.converged.all()  # and one at the cap
    assert not np.isin(history.epochs_run, [1, 1000]).any()
    for r in np.flatnonzero(history.converged):
        outputs = net.forward(history.params[r : r + 1], xor[0])
        _, grad = get_loss("mse")(outputs[-1], xor[1])
        expected = net.layer_statistics(history.params[r : r + 1], outputs, grad)[0]
        np.testing.assert_allclose(history.final_layers[r], expected, rtol=1e-12)
    for r in np.flatnonzero(~history.converged):
        np.testing.assert_array_equal(history.final_layers[r], history.layers[epochs][r])


@pytest.mark.parametrize("engine", ENGINES)
def test_held_out_metrics_are_the_recorded_parameters_on_the_held_out_points(engine, xor):
    net, epochs = lab_net(), 200
    x_test, y_test = make_dataset("quadrants", np.random.default_rng(3), n=30)
    chosen = np.array([99, 199])
    recording = Recording({1, 100, 200}, chosen, x_test, y_test)
    history = train(engine, net, xor, epochs, recording)
    loss, accuracy = evaluate(net, history.snapshots[0], get_loss("mse"), x_test, y_test)
    np.testing.assert_allclose(history.test[100], np.stack([loss, accuracy], -1), rtol=1e-12)
    final = evaluate(net, history.params, get_loss("mse"), x_test, y_test)
    np.testing.assert_allclose(history.final_test, np.stack(final, -1), rtol=1e-12)


# ---------------------------------------------------------------- held-out data in a job


def test_the_held_out_points_come_from_the_seed_alone_and_leave_training_as_it_was():
    base = build(compose_config("dataset=linear", "replicates=2"))
    held = build(compose_config("dataset=linear", "dataset.test_n=40", "replicates=2"))
    more = build(compose_config("dataset=linear", "dataset.test_n=40", "replicates=5"))
    assert held.x_test.shape == (40, 2) and held.y_test.shape == (40, 1)
    np.testing.assert_array_equal(held.x_test, more.x_test)  # not moved by the replicates
    np.testing.assert_array_equal(held.x, base.x)  # the training set and replicates as before
    np.testing.assert_array_equal(held.params, base.params)
    assert base.x_test is None
    other = build(compose_config("dataset=linear", "dataset.test_n=40", "seed=1"))
    assert not np.array_equal(other.x_test, held.x_test)
    assert not np.isin(held.x_test, held.x).any()  # new points, not the training ones


def test_held_out_points_of_the_fixed_xor_set_are_refused_with_the_reason():
    with pytest.raises(ConfigError) as refused:
        build(compose_config("dataset.test_n=10"))
    assert str(refused.value) == (
        "dataset.test_n=10 cannot be used with dataset=xor: its points are fixed (the lab's "
        "21), so there are no more to hold out; allowed: 0"
    )


@pytest.fixture(scope="module")
def held_out_job(tmp_path_factory):
    overrides = ["dataset=linear", "dataset.test_n=50", "replicates=2", "epochs=300", "lr=1"]
    folder = tmp_path_factory.mktemp("held_out") / "job"  # its parent holds this job alone
    run(compose_config(*overrides, "figures=[prediction,learning_curve]"), folder)
    return folder


def test_a_job_with_held_out_data_records_it_in_every_file(held_out_job):
    table = pd.read_csv(held_out_job / "loss.csv")
    assert list(table.columns) == [
        "replicate", "epoch", "loss", "accuracy", "test_loss", "test_accuracy"
    ]  # fmt: skip
    assert table[["test_loss", "test_accuracy"]].notna().all(axis=None)
    result = json.loads((held_out_job / "result.json").read_text())
    for replicate in result["replicates"]:
        last = table[table.replicate == replicate["replicate"]].iloc[-1]
        assert 0 <= replicate["final_test_accuracy"] <= 1
        assert replicate["final_test_loss"] == pytest.approx(last.test_loss, rel=1e-2)
    from nnsweep import report

    runs = report.load(held_out_job.parent).runs
    assert {"final_test_loss", "final_test_accuracy"} <= set(runs.columns)


# ---------------------------------------------------------------- a job's files


@pytest.fixture(scope="module")
def capped_job(tmp_path_factory):
    """Two replicates that run to the cap, 12 snapshots, every figure."""
    folder = tmp_path_factory.mktemp("capped")
    cfg = compose_config("replicates=2", "epochs=800", "snapshots=12", "print_predictions=false")
    run(cfg, folder)
    return folder


def test_the_boundary_gif_has_the_initial_frame_and_one_per_snapshot_and_stays_small(capped_job):
    gif = capped_job / "boundary.gif"
    assert gif.stat().st_size < 2_000_000
    with Image.open(gif) as image:
        assert image.n_frames == 1 + 12  # the initial parameters, then each snapshot's


@pytest.mark.parametrize(
    "overrides",
    [
        ("epochs=300", "replicates=2"),  # to the cap
        ("optimizer=adam", "lr=0.05", "epochs=3000"),  # converged
        ("activation=none", "output_activation=none", "lr=5", "epochs=50"),  # diverged
    ],
    ids=["capped", "converged", "diverged"],
)
def test_each_frame_shows_the_loss_loss_csv_has_at_its_epoch_and_no_frame_twice(overrides):
    cfg = compose_config(*overrides, "snapshots=20")
    e = build(cfg)
    history = e.run()
    shown = frames(e, history, 0)
    assert shown[0].epoch == 0 and shown[0].note == "initial"
    for frame in shown[:-1]:  # after epoch k: loss.csv's loss at k + 1, the epoch they enter
        assert frame.loss == pytest.approx(history.loss[frame.epoch, 0], rel=1e-12, nan_ok=True)
    capped = not (history.converged[0] or history.diverged[0])
    assert shown[-1].epoch == history.epochs_run[0] - (0 if capped else 1)
    np.testing.assert_array_equal(shown[-1].params, history.params[0])
    for before, after in zip(shown, shown[1:], strict=False):
        assert before.epoch < after.epoch
        assert not np.array_equal(before.params, after.params)


def test_loaded_networks_carry_their_snapshots(capped_job):
    archive = np.load(capped_job / "params.npz")
    assert archive["snapshots"].shape == (12, 2, 37)
    np.testing.assert_array_equal(archive["snapshot_epochs"], snapshot_epochs(800, 12))
    for network in load_networks(capped_job):
        assert network.epochs_run == 800
        np.testing.assert_array_equal(network.at(800), network.params)
        np.testing.assert_array_equal(network.at(0), network.initial)
        assert network.predict(np.zeros((3, 2)), network.at(1)).shape == (3, 1)
        assert network.predict([0.2, 0.9]) == network.predict([[0.2, 0.9]])  # one point
        assert 799 not in network.snapshot_epochs
        with pytest.raises(
            ValueError, match="epoch 799 is not a snapshot; the snapshot epochs: 0, 1,"
        ):
            network.at(799)


def test_a_folder_without_params_npz_is_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="params.npz does not exist: give a job's folder"):
        load_networks(tmp_path)


def test_layers_csv_ends_where_loss_csv_does(tmp_path):
    overrides = ["dataset=linear", "lr=1", "epochs=100000", "replicates=3", "figures=[]"]
    run(compose_config(*overrides, "loss_threshold=0.01"), tmp_path)
    losses, layers = (pd.read_csv(tmp_path / name) for name in ("loss.csv", "layers.csv"))
    last = losses.groupby("replicate")["epoch"].max()
    assert not last.isin(recorded_epochs(100000)).all()  # a stop between recorded epochs
    rows = layers.groupby(["replicate", "epoch"]).size()
    assert (rows == 3).all()  # every layer
    assert rows.index.tolist() == list(losses.set_index(["replicate", "epoch"]).index)


def test_layers_csv_has_every_layer_at_every_recorded_epoch(capped_job):
    table = pd.read_csv(capped_job / "layers.csv")
    assert list(table.columns) == [
        "replicate", "epoch", "layer", "grad_norm", "mean_abs_derivative"
    ]  # fmt: skip
    assert len(table) == 2 * len(recorded_epochs(800)) * 3
    assert set(table.layer) == {1, 2, 3}
    sigmoid = table.mean_abs_derivative
    assert (sigmoid > 0).all() and (sigmoid <= 0.25).all()  # sigmoid's slope is at most 1/4


def test_snapshots_0_and_figures_empty_keep_only_the_data(tmp_path):
    run(compose_config("epochs=50", "snapshots=0", "figures=[]"), tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert written == ["layers.csv", "loss.csv", "params.npz", "result.json"]
    assert np.load(tmp_path / "params.npz")["snapshots"].shape == (0, 1, 37)


def test_without_snapshots_boundary_gif_is_skipped_and_said_not_failed(tmp_path, caplog):
    with caplog.at_level("INFO", logger="nnsweep.job"):
        run(compose_config("epochs=50", "snapshots=0", "figures=[boundary]"), tmp_path)
    assert not (tmp_path / "boundary.gif").exists()
    assert "figures_failed" not in json.loads((tmp_path / "result.json").read_text())
    assert "boundary.gif not drawn: snapshots=0 kept no parameters to animate" in caplog.text


def test_the_held_out_accuracy_is_said_where_the_run_ends(held_out_job, caplog):
    with caplog.at_level("INFO", logger="nnsweep.job"):
        run(
            compose_config(
                "dataset=linear",
                "dataset.test_n=50",
                "epochs=300",
                "lr=1",
                "figures=[]",
                "print_predictions=false",
            ),
            held_out_job.parent / "one",
        )
    result = json.loads((held_out_job.parent / "one" / "result.json").read_text())
    accuracy = result["replicates"][0]["final_test_accuracy"]
    assert "held-out: loss=" in caplog.text
    assert f"; held-out accuracy {accuracy:.2%}" in caplog.text


def test_a_figure_named_twice_is_refused_with_the_names_allowed():
    with pytest.raises(ConfigError) as refused:
        build(compose_config("figures=[prediction,boundary,prediction]"))
    assert str(refused.value) == (
        "figures=['prediction', 'boundary', 'prediction'] names prediction twice; allowed: "
        "each of prediction, learning_curve, decision_boundary, gradients, boundary, "
        "confusion at most once"
    )
