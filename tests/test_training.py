"""The training loop: the report's results, replicate batching, divergence, and History,
each on both engines: the NumPy reference (nnsweep.engines.numpy_loop) and the compiled one
(nnsweep.engines.compiled)."""

import warnings

import numpy as np
import pytest

from nnsweep.data import make_dataset
from nnsweep.engines.compiled import train as train_compiled
from nnsweep.engines.history import Recording, TrainSettings
from nnsweep.engines.numpy_loop import format_epoch_line, train
from nnsweep.nn.activations import make_activation
from nnsweep.nn.losses import get_loss
from nnsweep.nn.mlp import MLP, accuracy
from nnsweep.nn.optimizers import make_optimizer

ENGINES = {"numpy": train, "numba": train_compiled}


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    return ENGINES[request.param]


def generators(seeds):
    return [np.random.default_rng(s) for s in seeds]


def train_replicates(net, x, y, seeds, optimizer, settings, loss="mse", engine=train, **kwargs):
    """Initialise replicate r from generator seeds[r], which then shuffles its minibatches
    (as nnsweep.job.build does), and train them all in one pass."""
    rngs = generators(seeds)
    params = net.init(rngs)
    return engine(net, params, optimizer, get_loss(loss), x, y, settings, rngs, **kwargs)


# ---------------------------------------------------------------- the report's results


@pytest.mark.parametrize("dataset", ["linear", "xor"])
def test_the_reports_network_learns_both_datasets(dataset, lab_net, request, engine):
    # 2-4-4-1, sigmoid everywhere, mse, gd; lr 1.0 rather than the report's 0.01 to stay short
    x, y = request.getfixturevalue(dataset)
    settings = TrainSettings(epochs=50_000, loss_threshold=0.001)
    history = train_replicates(
        lab_net, x, y, [0, 1], make_optimizer("gd", 1.0), settings, engine=engine
    )
    assert history.converged.all() and not history.diverged.any()
    assert np.all(history.epochs_run < settings.epochs)
    assert np.all(history.final_loss < 0.001)
    np.testing.assert_array_equal(history.final_accuracy, 1.0)
    predictions = lab_net.predict(history.params, x)
    np.testing.assert_array_equal(accuracy(predictions, y), 1.0)


# ---------------------------------------------------------------- batching


def assert_same_as_alone(net, x, y, seeds, optimizer, settings, engine):
    together = train_replicates(net, x, y, seeds, optimizer, settings, engine=engine)
    for r, seed in enumerate(seeds):
        alone = train_replicates(net, x, y, [seed], optimizer, settings, engine=engine)
        epochs = alone.epochs_run[0]
        assert together.epochs_run[r] == epochs
        assert together.converged[r] == alone.converged[0]
        assert together.diverged[r] == alone.diverged[0]
        np.testing.assert_allclose(together.params[r], alone.params[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(together.loss[:epochs, r], alone.loss[:, 0], rtol=1e-12)
        assert np.isnan(together.loss[epochs:, r]).all()
        np.testing.assert_allclose(together.final_loss[r], alone.final_loss[0], rtol=1e-12)
        assert together.final_accuracy[r] == alone.final_accuracy[0]
    return together


# (optimizer, lr, epochs): each stops its three replicates at three different epochs; adam's
# third replicate runs to the epoch cap while the other two have converged.
FULL_BATCH = [("gd", 1.0, 4000), ("momentum", 0.5, 1000), ("adam", 0.5, 300)]
MINIBATCH = [("gd", 1.0, 1500), ("momentum", 0.3, 600), ("adam", 0.5, 200)]


@pytest.mark.parametrize(("name", "lr", "epochs"), FULL_BATCH)
def test_replicates_in_one_pass_equal_separate_runs_full_batch(
    name, lr, epochs, xor, lab_net, engine
):
    x, y = xor
    settings = TrainSettings(epochs=epochs, loss_threshold=0.02)
    together = assert_same_as_alone(
        lab_net, x, y, [3, 4, 5], make_optimizer(name, lr), settings, engine
    )
    # the case that matters: replicates stopped at different epochs, optimizer state and all
    assert len(set(together.epochs_run.tolist())) == 3
    assert together.converged.sum() >= 2


@pytest.mark.parametrize(("name", "lr", "epochs"), MINIBATCH)
def test_replicates_in_one_pass_equal_separate_runs_minibatch(
    name, lr, epochs, xor, lab_net, engine
):
    x, y = xor
    settings = TrainSettings(epochs=epochs, loss_threshold=0.02, batch_size=8)  # 8 + 8 + 5
    together = assert_same_as_alone(
        lab_net, x, y, [3, 4, 5], make_optimizer(name, lr), settings, engine
    )
    assert len(set(together.epochs_run.tolist())) == 3
    assert together.converged.sum() >= 2


def test_minibatches_are_shuffled_by_each_replicates_own_generator(xor, lab_net, engine):
    x, y = xor
    settings = TrainSettings(epochs=20, loss_threshold=0.0, batch_size=5)
    rngs = generators([9, 9])
    params = lab_net.init(generators([1, 1]))  # two identical networks
    optimizer = make_optimizer("gd", 0.5)
    same = engine(lab_net, params, optimizer, get_loss("mse"), x, y, settings, rngs)
    np.testing.assert_array_equal(same.params[0], same.params[1])
    other = engine(lab_net, params, optimizer, get_loss("mse"), x, y, settings, generators([9, 10]))
    np.testing.assert_array_equal(other.params[0], same.params[0])
    assert not np.allclose(other.params[1], other.params[0])
    # and minibatch steps differ from full-batch ones
    full = engine(lab_net, params, optimizer, get_loss("mse"), x, y, TrainSettings(20, 0.0), rngs)
    assert not np.allclose(full.params[0], same.params[0])


def test_train_leaves_the_initial_parameters_alone(xor, lab_net, engine):
    x, y = xor
    params = lab_net.init(generators([0, 1]))
    saved = params.copy()
    engine(
        lab_net, params, make_optimizer("adam", 0.1), get_loss("mse"), x, y, TrainSettings(50, 0.0)
    )
    np.testing.assert_array_equal(params, saved)


# ---------------------------------------------------------------- divergence


def test_divergence_is_marked_without_raising_or_warning(linear, engine):
    x, y = linear
    identity = make_activation("none")
    net = MLP((2, 4, 4, 1), identity, identity)
    settings = TrainSettings(epochs=1000, loss_threshold=0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy would fail here
        history = train_replicates(
            net, x, y, [0, 1, 2], make_optimizer("gd", 100.0), settings, engine=engine
        )
    assert history.diverged.all() and not history.converged.any()
    assert np.isnan(history.final_accuracy).all()  # a NaN network's accuracy means nothing
    assert np.all(history.epochs_run < settings.epochs)
    for r, epochs in enumerate(history.epochs_run):
        column = history.loss[:, r]
        assert np.isfinite(column[: epochs - 1]).all()
        assert not np.isfinite(column[epochs - 1])  # the epoch it stopped at
        assert np.isnan(column[epochs:]).all()
    assert not np.isfinite(history.final_loss).any()


# ---------------------------------------------------------------- History


@pytest.fixture(scope="module", params=sorted(ENGINES))
def staggered(request):
    """Three replicates of the lab's network on the linear set that converge at different
    epochs, with accuracy and the on_log calls recorded; trained once per engine."""
    x, y = make_dataset("linear", np.random.default_rng(0), n=100)
    sigmoid = make_activation("sigmoid")
    net = MLP((2, 4, 4, 1), sigmoid, sigmoid)
    settings = TrainSettings(epochs=20_000, loss_threshold=0.01, log_every=50)
    calls = []
    history = train_replicates(
        net,
        x,
        y,
        [0, 1, 2],
        make_optimizer("gd", 1.0),
        settings,
        on_log=lambda epoch, loss: calls.append((epoch, loss.copy())),
        recording=Recording(epochs={1, 10, 100, 1000, 10_000, 30_000}),
        engine=ENGINES[request.param],
    )
    assert history.converged.all()
    assert len(set(history.epochs_run.tolist())) == 3
    return history, calls, settings, ENGINES[request.param]


def test_history_loss_has_a_row_per_epoch_and_nan_after_a_replicate_stops(staggered):
    history, _, _, _ = staggered
    assert history.loss.shape == (history.epochs_run.max(), 3)
    for r, epochs in enumerate(history.epochs_run):
        assert np.isfinite(history.loss[:epochs, r]).all()
        assert np.isnan(history.loss[epochs:, r]).all()
        assert history.loss[epochs - 1, r] < 0.01 <= np.min(history.loss[: epochs - 1, r])
    for field in ("epochs_run", "converged", "diverged", "seconds", "final_loss"):
        assert getattr(history, field).shape == (3,)


def test_history_final_loss_is_the_loss_of_the_final_params(staggered, linear, lab_net):
    history, _, _, _ = staggered
    x, y = linear
    prediction = lab_net.predict(history.params, x)
    loss, _ = get_loss("mse")(prediction, y)
    np.testing.assert_allclose(history.final_loss, loss, rtol=1e-12)
    np.testing.assert_array_equal(history.final_accuracy, accuracy(prediction, y))
    # a converged replicate keeps the parameters whose loss stopped it
    last = history.loss[history.epochs_run - 1, np.arange(3)]
    np.testing.assert_allclose(history.final_loss, last, rtol=1e-12)


def test_first_loss_row_is_the_loss_of_the_initial_params(linear, lab_net, engine):
    x, y = linear
    params = lab_net.init(generators([0, 1]))
    history = engine(
        lab_net, params, make_optimizer("gd", 1.0), get_loss("mse"), x, y, TrainSettings(3, 0.0)
    )
    expected, _ = get_loss("mse")(lab_net.predict(params, x), y)
    np.testing.assert_allclose(history.loss[0], expected, rtol=1e-12)


def test_history_accuracy_rows_at_the_epochs_asked_for(staggered, linear, lab_net):
    history, _, _, engine = staggered
    x, y = linear
    last = history.epochs_run.max()
    assert set(history.accuracy) == {e for e in {1, 10, 100, 1000, 10_000} if e <= last}
    for epoch, row in history.accuracy.items():
        assert row.shape == (3,)
        running = history.epochs_run >= epoch
        assert np.isnan(row[~running]).all()
        assert np.all((row[running] >= 0.0) & (row[running] <= 1.0))
    # accuracy at epoch e is that of the parameters after e - 1 steps
    rerun = train_replicates(
        lab_net, x, y, [0, 1, 2], make_optimizer("gd", 1.0), TrainSettings(9, 0.01), engine=engine
    )
    np.testing.assert_array_equal(history.accuracy[10], rerun.final_accuracy)
    np.testing.assert_allclose(history.loss[9], rerun.final_loss, rtol=1e-12)


def test_on_log_every_log_every_epochs_with_the_running_replicates(staggered):
    history, calls, settings, _ = staggered
    epochs = [epoch for epoch, _ in calls]
    expected = [
        e
        for e in range(settings.log_every, history.epochs_run.max() + 1, settings.log_every)
        if (history.epochs_run > e).any()
    ]
    assert epochs == expected
    for epoch, loss in calls:
        row = history.loss[epoch - 1]
        np.testing.assert_array_equal(loss, row[history.epochs_run > epoch])


def test_without_log_every_on_log_is_never_called(xor, lab_net, engine):
    calls = []
    settings = TrainSettings(epochs=300, loss_threshold=0.0)  # log_every None
    train_replicates(lab_net, *xor, [0], make_optimizer("gd", 0.5), settings, engine=engine,
                     on_log=lambda epoch, loss: calls.append(epoch))  # fmt: skip
    assert calls == []


def test_settings_say_the_cap_and_the_threshold():
    with pytest.raises(TypeError, match="epochs"):
        TrainSettings()  # no lab defaults outside conf/config.yaml
    assert TrainSettings(10, 0.5) == TrainSettings(10, 0.5, batch_size=None, log_every=None)


def test_a_run_that_reaches_the_epoch_cap(xor, lab_net, engine):
    x, y = xor
    settings = TrainSettings(epochs=5000, loss_threshold=0.0)  # longer than one loss chunk
    history = train_replicates(
        lab_net, x, y, [0, 1], make_optimizer("gd", 0.1), settings, engine=engine
    )
    assert history.loss.shape == (5000, 2) and np.isfinite(history.loss).all()
    np.testing.assert_array_equal(history.epochs_run, [5000, 5000])
    assert not history.converged.any() and not history.diverged.any()
    assert np.all(np.diff(history.loss, axis=0) <= 1e-12)  # gd at a small rate: never up


def test_accuracy_rounds_at_one_half():
    prediction = np.array([[[0.2], [0.5], [0.51], [0.9]], [[0.6], [0.55], [0.7], [0.1]]])
    labels = np.array([[0], [0], [1], [1]])
    np.testing.assert_array_equal(accuracy(prediction, labels), [1.0, 0.25])


def test_format_epoch_line():
    assert format_epoch_line(100, np.array([0.2431])) == "Epoch 100 loss : 0.24310"
    assert format_epoch_line(7, np.array([1.0])) == "Epoch 7 loss : 1.00000"
    several = format_epoch_line(200, np.array([0.1, 0.2, 0.3]))
    assert several.startswith("Epoch 200 loss : 0.20000")  # the mean
    assert several == "Epoch 200 loss : 0.20000 (min 0.10000, max 0.30000, 3 training)"
