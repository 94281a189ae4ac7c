"""Optimizers: each update against its formula written out by hand, purity, the replicate
axis, a shared XOR test for every registered optimizer, and the hyperparameter checks."""

import inspect
import math

import numpy as np
import pytest

from nnsweep.engines import kernels
from nnsweep.engines.history import TrainSettings
from nnsweep.engines.numpy_loop import train
from nnsweep.nn.losses import get_loss
from nnsweep.nn.optimizers import OPTIMIZERS, make_optimizer, select_replicates

STEPS = 5
SHAPE = (3, 7)  # (R, P)


def gradient_sequence(seed=0):
    """Varying gradients: new directions, scales from 1e-3 to 10, a sign flip, a zero entry."""
    rng = np.random.default_rng(seed)
    scales = [1.0, 10.0, 1e-3, 0.5, 3.0]
    grads = [scale * rng.standard_normal(SHAPE) for scale in scales[:STEPS]]
    grads[3] = -grads[1] / 7.0
    grads[2][0, 0] = 0.0
    return grads


# Each reference keeps its state in plain variables, as the formulas read.


def ref_gd(w, grads, lr):
    for g in grads:
        w = w - lr * g
    return w


def ref_momentum(w, grads, lr, beta=0.9):
    v = np.zeros_like(w)
    for g in grads:
        v = beta * v - lr * g  # V <- beta V - lr dL/dW
        w = w + v  # W <- W + V
    return w


def ref_nesterov(w, grads, lr, beta=0.9):
    v = np.zeros_like(w)
    for g in grads:
        v = beta * v - lr * g  # V <- beta V - lr g
        w = w + beta * v - lr * g  # W <- W + beta V - lr g (look-ahead form)
    return w


def ref_adagrad(w, grads, lr, eps=1e-8):
    n = np.zeros_like(w)
    for g in grads:
        n = n + g**2  # n <- n + g^2
        w = w - lr * g / np.sqrt(n + eps)  # eps inside the square root, as the report
    return w


def ref_rmsprop(w, grads, lr, decay=0.9, eps=1e-8):
    s = np.zeros_like(w)
    for g in grads:
        s = decay * s + (1 - decay) * g**2
        w = w - lr * g / (np.sqrt(s) + eps)
    return w


def ref_adam(w, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)  # bias correction
        v_hat = v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


REFERENCES = {
    "gd": ref_gd,
    "momentum": ref_momentum,
    "nesterov": ref_nesterov,
    "adagrad": ref_adagrad,
    "rmsprop": ref_rmsprop,
    "adam": ref_adam,
}

# Non-default hyperparameters: the update must use what it is given.
CUSTOM = {
    "gd": {},
    "momentum": {"beta": 0.5},
    "nesterov": {"beta": 0.7},
    "adagrad": {"eps": 1e-2},
    "rmsprop": {"decay": 0.5, "eps": 1e-3},
    "adam": {"beta1": 0.8, "beta2": 0.9, "eps": 1e-4},
}


def run(optimizer, w, grads):
    state = optimizer.init(w)
    for g in grads:
        w, state = optimizer.update(g, state, w)
    return w


def test_every_optimizer_has_a_reference():
    assert set(REFERENCES) == set(OPTIMIZERS), "write the new optimizer's formula out here"


def run_compiled(optimizer, w, grads):
    """The compiled engine's update (engines.kernels.update), one replicate row at a time."""
    h = np.zeros(3)
    slots = [optimizer.settings[k] for k in kernels.OPTIMIZER_SLOTS[optimizer.name]]
    h[: len(slots)] = slots
    code, lr = kernels.OPTIMIZER_CODES[optimizer.name], optimizer.settings["lr"]
    w, s1, s2 = w.copy(), np.zeros_like(w), np.zeros_like(w)
    for step, g in enumerate(grads, start=1):
        for r in range(len(w)):
            kernels.update(code, w[r], np.ascontiguousarray(g[r]), s1[r], s2[r], float(step), lr, h)
    return w


ENGINES = {"numpy": run, "numba": run_compiled}


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("custom", [False, True], ids=["defaults", "custom"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_update_follows_the_formula_over_several_steps(name, custom, engine):
    hyper = CUSTOM[name] if custom else {}
    w0 = np.random.default_rng(42).standard_normal(SHAPE)
    grads = gradient_sequence()
    got = ENGINES[engine](make_optimizer(name, 0.1, **hyper), w0, grads)
    expected = REFERENCES[name](w0, grads, 0.1, **hyper)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert not np.allclose(got, w0)  # it moved


def test_the_reports_defaults():
    # momentum beta = 0.9 and adagrad eps = 1e-8, from the report
    assert inspect.signature(OPTIMIZERS["momentum"]).parameters["beta"].default == 0.9
    assert inspect.signature(OPTIMIZERS["adagrad"]).parameters["eps"].default == 1e-8


def test_momentum_first_step_by_hand():
    w = np.array([[1.0, -2.0]])
    g1, g2 = np.array([[0.5, 1.0]]), np.array([[-1.0, 2.0]])
    opt = make_optimizer("momentum", 0.1, beta=0.9)
    state = opt.init(w)
    w1, state = opt.update(g1, state, w)  # V = -0.1 g1 = (-0.05, -0.1)
    np.testing.assert_allclose(w1, [[0.95, -2.1]], rtol=1e-15)
    w2, _ = opt.update(g2, state, w1)  # V = 0.9 (-0.05, -0.1) - 0.1 g2 = (0.055, -0.29)
    np.testing.assert_allclose(w2, [[1.005, -2.39]], rtol=1e-14)


def test_adagrad_first_step_by_hand():
    w = np.array([[1.0]])
    opt = make_optimizer("adagrad", 0.5, eps=1e-8)
    w1, state = opt.update(np.array([[2.0]]), opt.init(w), w)  # n = 4
    np.testing.assert_allclose(w1, [[1.0 - 0.5 * 2.0 / math.sqrt(4.0 + 1e-8)]], rtol=1e-15)
    w2, _ = opt.update(np.array([[1.0]]), state, w1)  # n = 5
    np.testing.assert_allclose(w2, w1 - 0.5 / math.sqrt(5.0 + 1e-8), rtol=1e-15)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_is_pure(name):
    optimizer = make_optimizer(name, 0.1)
    w = np.random.default_rng(0).standard_normal(SHAPE)
    grads = gradient_sequence()
    state = optimizer.init(w)
    for array in state:
        if isinstance(array, np.ndarray):
            assert not np.shares_memory(array, w)
    state = optimizer.update(grads[0], state, w)[1]  # a state that is not all zeros
    saved = (w.copy(), grads[1].copy(), [np.copy(f) for f in state])
    w_new, state_new = optimizer.update(grads[1], state, w)
    np.testing.assert_array_equal(w, saved[0])
    np.testing.assert_array_equal(grads[1], saved[1])
    for field, before in zip(state, saved[2], strict=True):
        np.testing.assert_array_equal(field, before)
    again, _ = optimizer.update(grads[1], state, w)  # same inputs, same result
    np.testing.assert_array_equal(again, w_new)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_replicates_update_independently_and_can_be_selected(name):
    optimizer = make_optimizer(name, 0.1)
    w = np.random.default_rng(1).standard_normal(SHAPE)
    grads = gradient_sequence(seed=2)
    # three steps for all replicates, then only replicates 0 and 2 go on
    state, w_all = optimizer.init(w), w
    for g in grads[:3]:
        w_all, state = optimizer.update(g, state, w_all)
    keep = np.array([True, False, True])
    state, w_kept = select_replicates(state, keep), w_all[keep]
    for g in grads[3:]:
        w_kept, state = optimizer.update(g[keep], state, w_kept)
    for row, r in enumerate(np.flatnonzero(keep)):
        alone = run(optimizer, w[r : r + 1], [g[r : r + 1] for g in grads])
        np.testing.assert_allclose(w_kept[row : row + 1], alone, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_reduces_the_loss_on_xor(name, xor, lab_net):
    x, y = xor
    rngs = [np.random.default_rng(s) for s in range(3)]
    params = lab_net.init(rngs)
    settings = TrainSettings(epochs=1000, loss_threshold=0.0, log_every=1000)
    history = train(
        lab_net, params, make_optimizer(name, 0.1), get_loss("mse"), x, y, settings, rngs
    )
    start, end = history.loss[0], history.final_loss
    assert np.all(np.isfinite(end))
    # every replicate goes down, and on average by 5% at least (gd's XOR plateau is slow)
    assert np.all(end < start), f"{name}: {start} -> {end}"
    assert end.mean() < 0.95 * start.mean(), f"{name}: {start} -> {end}"


@pytest.mark.parametrize("lr", [0.0, -1.0, math.nan, math.inf])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_bad_learning_rate_is_an_error_naming_lr(name, lr):
    with pytest.raises(ValueError, match=r"\blr\b"):
        make_optimizer(name, lr)


def bad_hyperparameters():
    """(optimizer, field, value) for every rate (beta*, decay) and eps in the registry."""
    cases = []
    for name, factory in sorted(OPTIMIZERS.items()):
        for field in inspect.signature(factory).parameters:
            if field.startswith("beta") or field == "decay":
                cases += [(name, field, 1.5), (name, field, -0.1), (name, field, math.nan)]
            elif field == "eps":
                cases += [(name, field, 0.0), (name, field, -1e-8)]
    return cases


def test_the_rate_fields_are_found():
    fields = {(name, field) for name, field, _ in bad_hyperparameters()}
    assert {("momentum", "beta"), ("nesterov", "beta"), ("adam", "beta1")} <= fields


@pytest.mark.parametrize(("name", "field", "value"), bad_hyperparameters())
def test_a_bad_hyperparameter_is_an_error_naming_the_field(name, field, value):
    with pytest.raises(ValueError, match=rf"\b{field}\b"):
        make_optimizer(name, 0.1, **{field: value})


def test_unknown_optimizer_error_lists_the_valid_names():
    with pytest.raises(ValueError, match="sgdd") as error:
        make_optimizer("sgdd", 0.1)
    for name in OPTIMIZERS:
        assert name in str(error.value)
