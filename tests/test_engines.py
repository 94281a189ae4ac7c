"""The compiled engine against the NumPy reference, driven by the registries: a new
activation, loss or optimizer is tested here on both engines without an edit."""

import inspect
import itertools
import json
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from nnsweep.data import make_dataset
from nnsweep.engines import compile_ahead, compiled, kernels
from nnsweep.engines.history import History, Recording, TrainSettings
from nnsweep.engines.numpy_loop import train
from nnsweep.nn.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS, make_activation
from nnsweep.nn.activations import make_output_activation as make_output
from nnsweep.nn.losses import LOSSES, ON_LOGITS, get_loss
from nnsweep.nn.mlp import MLP
from nnsweep.nn.optimizers import OPTIMIZERS, make_optimizer

# A learning rate per optimizer at which the lab's network trains on XOR without blowing up
# for most activations; an optimizer added later trains at the default.
LEARNING_RATES = {"gd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.1}
DEFAULT_LR = 0.01
# bce needs outputs in (0, 1), cross_entropy a softmax (nnsweep.job.ranges.check); softmax
# takes mse and cross_entropy, on K = 3 classes
OUTPUTS = {"bce": ["sigmoid"], "cross_entropy": ["softmax"]}
ONE_UNIT = sorted(ACTIVATIONS)


def combinations() -> list[tuple[str, str, str, str]]:
    """Every hidden activation x output activation x loss x optimizer that a config allows."""
    one_unit = [
        (hidden, output, loss, optimizer)
        for loss in sorted(LOSSES)
        for hidden, output in itertools.product(sorted(ACTIVATIONS), OUTPUTS.get(loss, ONE_UNIT))
        for optimizer in sorted(OPTIMIZERS)
    ]
    softmax = [
        (hidden, "softmax", loss, optimizer)
        for loss in sorted(ON_LOGITS)
        for hidden in sorted(ACTIVATIONS)
        for optimizer in sorted(OPTIMIZERS)
    ]
    return one_unit + softmax


def test_kernel_codes_cover_every_registry():
    assert set(kernels.ACTIVATION_CODES) == set(OUTPUT_ACTIVATIONS)
    losses = {fn.__name__ for fn in (*LOSSES.values(), *ON_LOGITS.values())}
    assert set(kernels.LOSS_CODES) == losses
    assert set(kernels.OPTIMIZER_CODES) == set(OPTIMIZERS)
    assert len(set(kernels.OPTIMIZER_CODES.values())) == len(OPTIMIZERS)
    for name, factory in OPTIMIZERS.items():  # the kernel reads h[i] in the factory's order
        hyper = tuple(p for p in inspect.signature(factory).parameters if p != "lr")
        assert kernels.OPTIMIZER_SLOTS[name] == hyper


# ---------------------------------------------------------------- the pieces


def ulps(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    return np.abs(got - expected) / np.spacing(np.abs(expected))


def test_exp_is_within_one_ulp_of_numpy_and_keeps_its_edges():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-745, 709.7, 200_000), rng.uniform(-40, 40, 200_000)])
    got = np.array([kernels.exp(v) for v in x[:2000]])  # the scalar, as the kernels inline it
    assert ulps(got, np.exp(x[:2000])).max() <= 1.0
    z = np.concatenate([-x, [-800.0, 800.0, 745.5, -709.9, np.inf, -np.inf, np.nan]])
    a = z.reshape(1, -1).copy()
    kernels.activate(kernels.SIGMOID, a[None], 0, 1, a.shape[1], 0.0)
    with np.errstate(over="ignore"):
        expected = ACTIVATIONS["sigmoid"]().fn(z)
    normal = expected > np.finfo(float).tiny  # 1 + e^-z rounds alike within an ulp or two
    np.testing.assert_allclose(a[0, normal], expected[normal], rtol=1e-15, atol=0)
    np.testing.assert_allclose(a[0], expected, rtol=1e-15, atol=np.finfo(float).tiny)
    assert np.isnan(a[0, -1]) and a[0, -3] == 1.0 and a[0, -2] == 0.0


EDGES = [0.0, -0.0, 1e-300, -1e-300, 0.5, -3.0, 40.0, -40.0, 1e4, -1e4, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_and_its_derivative_match_the_numpy_twin(name):
    activation = make_activation(name, **({"alpha": 0.03} if name == "leaky_relu" else {}))
    alpha = activation.settings.get("alpha", 0.0)
    z = np.concatenate([np.random.default_rng(1).normal(scale=4.0, size=(3, 50)).ravel(), EDGES])
    z = z.reshape(1, -1)
    with np.errstate(all="ignore"):
        expected_a = activation.fn(z)
    a = z.copy()
    kernels.activate(kernels.ACTIVATION_CODES[name], a[None], 0, 1, z.shape[1], alpha)
    np.testing.assert_allclose(a, expected_a, rtol=1e-15, atol=0)
    g = np.random.default_rng(2).normal(size=z.shape)
    with np.errstate(all="ignore"):  # from the same outputs: 1 - a^2 cancels near a = 1
        expected_g = activation.grad_from_output(a) * g
    got_g = g.copy()
    kernels.times_grad(kernels.ACTIVATION_CODES[name], a[None], 0, got_g, 1, z.shape[1], alpha)
    # 1 - a^2 may be fused into one rounding: within an ulp of 1, times |g|
    tolerance = 1e-15 * np.abs(expected_g) + np.spacing(1.0) * np.abs(g)
    with np.errstate(invalid="ignore"):
        close = (np.abs(got_g - expected_g) <= tolerance) | (got_g == expected_g)
    assert np.all(close | np.isnan(got_g) & np.isnan(expected_g))


@pytest.mark.parametrize("name", [n for n in sorted(LOSSES) if OUTPUTS.get(n) != ["softmax"]])
def test_each_loss_and_its_gradient_match_the_numpy_twin(name):
    rng = np.random.default_rng(3)
    pred = np.concatenate([rng.uniform(0.001, 0.999, 40), [0.0, 1.0, 1e-15, 1 - 1e-15]])
    target = rng.integers(0, 2, pred.size).astype(float)
    value, grad = LOSSES[name](pred.reshape(1, -1, 1), target.reshape(-1, 1))
    got_grad = np.zeros_like(pred)
    code, outputs = kernels.LOSS_CODES[name], pred.reshape(1, 1, -1)
    got = kernels.loss_and_grad(code, outputs, 0, target, pred.size, got_grad.reshape(1, -1))
    assert got == pytest.approx(value[0], rel=1e-14)
    np.testing.assert_allclose(got_grad, grad.ravel(), rtol=1e-14)


@pytest.mark.parametrize("name", sorted(ON_LOGITS))
def test_each_softmax_loss_and_its_gradient_match_the_numpy_twin(name):
    """From the logits of 4 classes, edges included: a class 800 above the rest (its
    probability 1, the others' underflow to 0), all equal, and the true class 800 below."""
    rng = np.random.default_rng(4)
    z = np.concatenate([rng.normal(scale=3.0, size=(4, 40)), [[800.0] * 3, [0.0] * 3,
                        [-800.0, 0.0, 5.0], [0.0] * 3]], axis=1)  # fmt: skip
    labels = np.concatenate([rng.integers(0, 4, 40), [0, 1, 0]]).astype(float)
    value, grad = ON_LOGITS[name](z.T[None], labels[:, None].astype(np.int64))
    got_grad, scratch = np.zeros_like(z), np.zeros((2, z.shape[1]))
    code = kernels.LOSS_CODES[ON_LOGITS[name].__name__]
    got = kernels.output_loss(code, z[None], 0, labels, 4, z.shape[1], got_grad, scratch)
    assert np.isfinite(got) and np.all(np.isfinite(got_grad))
    assert got == pytest.approx(value[0], rel=1e-13)
    np.testing.assert_allclose(got_grad, grad[0].T, rtol=1e-12, atol=1e-18)


# Not cached on disk: numba's cache notices changes to this file only, and this calls the
# kernels' forward, loss and backward.
@numba.njit(error_model="numpy", fastmath=kernels.FASTMATH)
def kernel_loss_gradient(w, network, loss_code, x_t, y, grads):
    """The loss of one network on all of (x_t, y), and its gradient into ``grads``: the
    kernels' forward, loss and backward, as train_replicate runs them on a full batch."""
    sizes, offsets, codes, alphas = network
    n, width, top = x_t.shape[1], sizes.max(), len(sizes) - 1
    acts = np.zeros((len(sizes), width, n))
    acts[0, : x_t.shape[0]] = x_t
    incoming, other = np.zeros((width, n)), np.zeros((width, n))
    kernels.forward(w, sizes, offsets, codes, alphas, acts, n)
    loss = kernels.output_loss(loss_code, acts, top, y, sizes[top], n, incoming, other)
    kernels.backward(w, sizes, offsets, codes, alphas, acts, incoming, other, n, grads)
    return loss


def loss_gradient(net, params, loss_fn, x, y):
    """The loss (R,) of every replicate on (x, y) and its gradient (R, P), by the kernels."""
    network = compiled.describe_network(net)
    code = kernels.LOSS_CODES[compiled.loss_name(loss_fn)]
    x_t, targets = np.ascontiguousarray(x.T, dtype=float), np.ascontiguousarray(y[:, 0], float)
    w, grads = np.array(params, dtype=float, order="C"), np.zeros_like(params, dtype=float)
    loss = [
        kernel_loss_gradient(w[r], network, code, x_t, targets, grads[r]) for r in range(len(w))
    ]
    return np.array(loss), grads


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize(
    ("hidden", "output", "loss", "optimizer"), combinations()[::6], ids="-".join
)
def test_the_kernels_gradient_equals_the_checked_backward_pass(
    hidden, output, loss, optimizer, depth
):
    """MLP.backward (nnsweep.nn.mlp) is checked by central differences (test_gradients.py);
    the kernels' must equal it, on every parameter, at every depth."""
    del optimizer  # one row per activation pair and loss: the grid's every sixth
    units = 3 if output == "softmax" else 1
    net = MLP((2, *[5, 3, 4][:depth], units), make_activation(hidden), make_output(output))
    params = net.init([np.random.default_rng([depth, r]) for r in range(3)])
    x, y = DATA[units]
    outputs = net.forward(params, x)
    loss_fn = get_loss(loss, net.softmax)
    value, grad_prediction = loss_fn(outputs[-1], y)
    expected = net.backward(params, outputs, grad_prediction)
    got_value, got = loss_gradient(net, params, loss_fn, x, y)
    np.testing.assert_allclose(got_value, value, rtol=1e-13)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-14 * np.abs(expected).max())


# ---------------------------------------------------------------- whole training runs
# The engines round differently (BLAS sums in its own order, with fused multiply-adds), by
# about one unit in the last place per operation. Where training is well-conditioned that
# stays near 1e-15. Where it is not (a plateau's saddle, a gradient near 0 that rmsprop or
# adam scale to a full step, a relu kink, a run blowing up towards overflow) the last bit
# grows until the runs part, as the NumPy engine's own would under another BLAS. Each
# replicate is therefore compared within its horizon, measured on the compiled engine
# run again one rounding error away: every parameter at the next float up, or down, and
# for the full batch the samples in another order (each sum then rounds differently):
# - every epoch whose loss those probes leave within 1e-14, up to a loss of 1e6, must agree
#   to 1e-10 between the engines;
# - a replicate they leave within 1e-12 (loss) and 1e-11 (parameters) over its whole
#   run, stopping at the same epoch, must also stop at the same epoch on both engines, for
#   the same reason, with the same final loss, accuracy and (unless it diverged, when they
#   are inf or NaN) parameters.
# How much of the runs below is compared whole and at every epoch: `python tests/test_engines.py`
# measures it.

HORIZON_RTOL, STABLE_RTOL, RTOL, LOSS_CEILING = 1e-14, 1e-12, 1e-10, 1e6


# the data by output units: the lab's XOR for one unit, a 3-arm spiral for a softmax
DATA = {
    1: make_dataset("xor", np.random.default_rng(0)),
    3: make_dataset("spiral", np.random.default_rng(0), n=24, classes=3),
}


def run(engine, combination, batch_size, replicates, probe=None, epochs=2000):
    hidden, output, loss, optimizer = combination
    units = 3 if output == "softmax" else 1
    net = MLP((2, 4, 4, units), make_activation(hidden), make_output(output))
    x, y = DATA[units]
    opt = make_optimizer(optimizer, LEARNING_RATES.get(optimizer, DEFAULT_LR))
    settings = TrainSettings(epochs=epochs, loss_threshold=0.01, batch_size=batch_size)
    rngs = [np.random.default_rng(seed) for seed in range(replicates)]
    params = net.init(rngs)
    if probe in ("up", "down"):  # every parameter to the next float: one rounding error
        params = np.nextafter(params, np.inf if probe == "up" else -np.inf)
    if probe == "shuffle":  # the samples in another order: every sum rounds differently
        order = np.random.default_rng(99).permutation(len(x))
        x, y = x[order], y[order]
    recording = RECORDINGS[units]
    return engine(net, params, opt, get_loss(loss, net.softmax), x, y, settings, rngs, None,
                  recording)  # fmt: skip


# what both engines record besides the loss: held-out points from another generator
RECORDINGS = {
    units: Recording(
        {1, 7, 100, 999},
        np.array([1, 2, 7, 50, 100, 999, 2000]),
        *make_dataset(name, np.random.default_rng(5), n=9, **classes),
    )
    for units, name, classes in ((1, "quadrants", {}), (3, "spiral", {"classes": 3}))
}


def relative_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| / |a|, 0 where both are the same non-finite value or both NaN (stopped)."""
    with np.errstate(all="ignore"):
        gap = np.abs(a - b) / np.abs(a)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return np.where(same, 0.0, np.nan_to_num(gap, nan=np.inf))


def horizons(history: History, nudged: History) -> tuple[np.ndarray, np.ndarray]:
    """Per replicate, the epochs that stay well-conditioned, and whether that is its whole
    run (it also stopped at the same epoch)."""
    rows = min(len(history.loss), len(nudged.loss))
    parted = relative_gap(history.loss[:rows], nudged.loss[:rows]) > HORIZON_RTOL
    loss_gap = relative_gap(history.loss[:rows], nudged.loss[:rows]).max(axis=0)
    params_gap = relative_gap(history.params, nudged.params).max(axis=1)
    stable = (loss_gap <= STABLE_RTOL) & (params_gap <= 10 * STABLE_RTOL)
    stable &= history.epochs_run == nudged.epochs_run
    return np.where(parted.any(axis=0), parted.argmax(axis=0), history.epochs_run), stable


def conditioning(history: History, combination, batch_size) -> tuple[np.ndarray, np.ndarray]:
    """The horizons of ``history`` (R = 3, compiled) under every probe: the shortest."""
    probes = ["up", "down"] + (["shuffle"] if batch_size is None else [])  # (shuffled
    # minibatches would be other batches)
    horizon, stable = np.full(3, len(history.loss)), np.ones(3, dtype=bool)
    for probe in probes:
        h, s = horizons(history, run(compiled.train, combination, batch_size, 3, probe))
        horizon, stable = np.minimum(horizon, h), stable & s
    return horizon, stable


def assert_agree(reference: History, got: History, horizon: np.ndarray, stable: np.ndarray):
    for r, (h, whole) in enumerate(zip(horizon, stable, strict=False)):
        blown_up = np.flatnonzero(~(np.abs(reference.loss[:, r]) <= LOSS_CEILING))
        h = min(h, reference.epochs_run[r], got.epochs_run[r], *blown_up[:1])
        gap = relative_gap(reference.loss[:h, r], got.loss[:h, r])
        assert gap.max(initial=0.0) <= RTOL, f"replicate {r}: epoch {gap.argmax() + 1} differs"
        recorded = [e for e in sorted(reference.accuracy) if e < h]  # within the horizon
        assert_recorded_agree(reference, got, r, recorded)
        if not whole:
            continue  # past its horizon: no more to compare
        assert got.epochs_run[r] == reference.epochs_run[r]
        assert got.converged[r] == reference.converged[r]
        assert got.diverged[r] == reference.diverged[r]
        if reference.diverged[r]:
            continue
        assert_close_or_same(got.params[r], reference.params[r])
        assert_close_or_same(got.final_loss[r], reference.final_loss[r])
        assert_close_or_same(got.final_test[r], reference.final_test[r])
        assert_close_or_same(got.snapshots[:, r], reference.snapshots[:, r])
        ran = [e for e in reference.accuracy if e <= reference.epochs_run[r]]
        assert_recorded_agree(reference, got, r, ran, last=True)


def assert_recorded_agree(
    reference: History, got: History, r: int, epochs: list[int], last: bool = False
) -> None:
    """Accuracy, held-out loss and accuracy, and the layers' gradient norms at ``epochs``
    (and with ``last`` at the replicate's last epoch) agree; so do the mean |f'(z)|, but for
    a relu-like kink: a pre-activation within a rounding error of 0 may fall on either side,
    which moves the mean by one sample's share (1 / (units * n): 1/84 for the 4-unit layers
    on 21 XOR points, 1/21 for the output)."""
    for rows in ("accuracy", "test"):
        expected = [getattr(reference, rows)[e][r] for e in epochs]
        assert_close_or_same([getattr(got, rows)[e][r] for e in epochs], expected)
    finals = ([got.final_layers[r]], [reference.final_layers[r]]) if last else ([], [])
    layers = np.array([got.layers[e][r] for e in epochs] + finals[0]).reshape(-1, 2)
    expected = np.array([reference.layers[e][r] for e in epochs] + finals[1]).reshape(-1, 2)
    assert_close_or_same(layers[:, 0], expected[:, 0])
    n = reference.final_confusion[r].sum()  # the samples
    units = reference.final_confusion.shape[-1] if reference.final_confusion.shape[-1] > 2 else 1
    entries = np.tile([4 * n, 4 * n, units * n], len(layers) // 3)  # units x samples, by layer
    flips = np.abs(layers[:, 1] - expected[:, 1]) * entries
    close = np.isclose(layers[:, 1], expected[:, 1], RTOL, 1e-12, equal_nan=True)
    assert np.all((flips < 1 + 1e-9) | close)


def assert_close_or_same(got, expected) -> None:
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("batch_size", [None, 11], ids=["full", "batch11"])
@pytest.mark.parametrize("combination", combinations(), ids="-".join)
def test_both_engines_train_alike(combination, batch_size):
    """R = 3 on both engines, and R = 1 on the compiled one against the reference's first
    replicate: the loss at every epoch within the horizon, and, where the horizon is the
    whole run, the final parameters and when and why each replicate stopped."""
    reference = run(train, combination, batch_size, replicates=3)
    got = run(compiled.train, combination, batch_size, replicates=3)
    horizon, stable = conditioning(got, combination, batch_size)
    assert_agree(reference, got, horizon, stable)
    alone = run(compiled.train, combination, batch_size, replicates=1)
    assert_agree(reference, alone, horizon[:1], stable[:1])


@pytest.mark.parametrize("batch_size", [None, 5], ids=["full", "batch5"])
def test_replicates_on_two_threads_train_exactly_as_on_one(batch_size):
    combination = ("tanh", "sigmoid", "mse", "adam")
    net = MLP((2, 4, 4, 1), make_activation("tanh"), make_activation("sigmoid"))
    x, y = make_dataset("xor", np.random.default_rng(0))
    settings = TrainSettings(epochs=3000, loss_threshold=0.02, batch_size=batch_size)

    def alone(threads):
        rngs = [np.random.default_rng(seed) for seed in range(5)]
        opt = make_optimizer(combination[-1], 0.01)
        return compiled.train(net, net.init(rngs), opt, get_loss("mse"), x, y, settings, rngs,
                              threads=threads)  # fmt: skip

    one, two = alone(1), alone(2)
    assert len(set(one.epochs_run.tolist())) > 1  # replicates stopped at different epochs
    np.testing.assert_array_equal(two.loss, one.loss)
    np.testing.assert_array_equal(two.params, one.params)
    np.testing.assert_array_equal(two.epochs_run, one.epochs_run)


WITHOUT_NUMBA = (
    "import sys; sys.modules['numba'] = None; "  # import numba now raises ImportError
    "from nnsweep.__main__ import main; main()"
)


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_without_numba_the_compiled_engine_says_so_and_numpy_runs(engine, tmp_path):
    args = [f"engine={engine}", "epochs=5", f"hydra.run.dir={tmp_path}", "print_predictions=false"]
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_NUMBA, *args], capture_output=True, text=True, timeout=120
    )
    if engine == "numpy":
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "result.json").is_file()
        return
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "engine=numba cannot run" in errors[0]
    assert "engine=numpy" in errors[0] and "Traceback" not in done.stderr
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "failed"


def conditioning_summary() -> str:
    """How much of every run the test compares: the figures quoted above."""
    whole, shares = [], []
    for combination in combinations():
        for batch_size in (None, 11):
            got = run(compiled.train, combination, batch_size, replicates=3)
            horizon, stable = conditioning(got, combination, batch_size)
            whole += list(stable)
            shares += list(np.minimum(horizon, got.epochs_run) / got.epochs_run)
    shares = np.array(shares)
    return (
        f"{sum(whole)} of {len(whole)} replicate runs compared whole, "
        f"{(shares >= 1).sum()} at every epoch; median share of epochs {np.median(shares):.2f}"
    )


if __name__ == "__main__":
    print(conditioning_summary())


def test_a_first_call_that_compiles_says_so_while_it_runs(monkeypatch, caplog):
    """A newcomer's first run compiles for about ten seconds: the notice comes while it runs
    (a cache load ends before it, and cancelling the timer keeps it quiet)."""
    monkeypatch.setattr(compiled, "LOADING_SECONDS", 0.05)
    with caplog.at_level("INFO", logger=compiled.log.name):
        compiled._notice_if_compiling().join(timeout=5)  # a call still running: it speaks
        quiet = compiled._notice_if_compiling()
        quiet.cancel()  # the call ended first: a load from the cache
        quiet.join(timeout=5)
    said = [r.getMessage() for r in caplog.records if "compiling" in r.getMessage()]
    assert said == [said[0]] and "only a first run does this" in said[0]


FIRST_COMPILE = """
import json
import os
from numba import typeof
from nnsweep.engines import compile_ahead, compiled
compile_ahead.start = lambda: None  # this process compiles, or loads, on its own
compiled.warm_up()
print(json.dumps([
    [str(tuple(typeof(arg) for arg in args)), [str(s) for s in kernel.signatures],
     sum(kernel.stats.cache_hits.values())]
    for kernel, args in compile_ahead.calls()
]))
"""


def test_the_second_process_compiles_what_the_training_loop_then_loads(tmp_path):
    """compile_ahead's kernels, compiled for the argument types it lists, are the ones a
    first compile of the training loop needs: it loads each from the cache."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    ahead = [sys.executable, "-m", "nnsweep.engines.compile_ahead"]
    subprocess.run(ahead, env=env, check=True, timeout=300)
    done = subprocess.run([sys.executable, "-c", FIRST_COMPILE], env=env, check=True,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    for listed, compiled_for, loaded in json.loads(done.stdout):
        assert compiled_for == [listed] and loaded == 1


def test_the_second_process_starts_only_on_an_empty_cache():
    compiled.warm_up()  # the training loop is in numba's cache now
    assert compile_ahead.start() is None
