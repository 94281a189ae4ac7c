"""Optimizers: each update against steps worked by hand, on both engines; purity, the replicate
axis, a shared XOR test for every registered optimizer, and the hyperparameter checks."""

import inspect
import math

import numpy as np
import pytest

from nnsweep.engines import compiled, kernels
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


# Steps worked by hand: (optimizer, lr, hyperparameters, starting weights, steps), each step
# (gradient, the weights after it). The numbers in the comments are the state after the step.
CASES = [
    ("gd", 0.1, {}, [1.0, -2.0], [
        ([0.5, -1.0], [0.95, -1.9]),  # W - 0.1 g
        ([2.0, 0.0], [0.75, -1.9]),  # a zero gradient: no move
    ]),
    ("momentum", 0.1, {}, [1.0, -2.0], [  # beta 0.9
        ([0.5, 1.0], [0.95, -2.1]),  # V = -0.1 g = (-0.05, -0.1)
        ([-1.0, 2.0], [1.005, -2.39]),  # V = 0.9 (-0.05, -0.1) - 0.1 (-1, 2) = (0.055, -0.29)
        ([0.0, 0.0], [1.0545, -2.651]),  # V = 0.9 V = (0.0495, -0.261): it coasts on
    ]),
    ("momentum", 0.1, {"beta": 0.5}, [1.0, -2.0], [
        ([1.0, -1.0], [0.9, -1.9]),  # V = (-0.1, 0.1)
        ([1.0, -1.0], [0.75, -1.75]),  # V = 0.5 (-0.1, 0.1) - 0.1 (1, -1) = (-0.15, 0.15)
    ]),
    ("nesterov", 0.1, {}, [1.0, -2.0], [  # beta 0.9; W + 0.9 V - 0.1 g
        ([0.5, 1.0], [0.905, -2.19]),  # V = (-0.05, -0.1); 0.9 V - 0.1 g = (-0.095, -0.19)
        ([-1.0, 2.0], [1.0545, -2.651]),  # V = (0.055, -0.29); 0.9 V - 0.1 g = (0.1495, -0.461)
        ([0.0, 0.0], [1.09905, -2.8859]),  # V = (0.0495, -0.261); 0.9 V = (0.04455, -0.2349)
    ]),
    ("nesterov", 0.1, {"beta": 0.5}, [1.0, -2.0], [
        ([1.0, -1.0], [0.85, -1.85]),  # V = (-0.1, 0.1); 0.5 V - 0.1 g = (-0.15, 0.15)
    ]),
    ("adagrad", 0.1, {}, [1.0, -2.0], [  # eps 1e-8
        ([0.5, -3.0], [0.9, -1.9]),  # n = g^2: the first step is 0.1 g / |g| = 0.1 sign(g)
        ([0.5, 4.0], [0.9 - 0.1 / math.sqrt(2), -1.98]),  # n = (0.5, 25): 0.1 (1 / sqrt 2, 4 / 5)
    ]),
    ("adagrad", 0.5, {"eps": 16.0}, [1.0, -1.0], [  # eps inside the root: sqrt(n + 16)
        ([3.0, 0.0], [0.7, -1.0]),  # n = (9, 0), roots (5, 4): 0.5 (3 / 5, 0)
        ([12.0, 3.0], [0.7 - 6 / 13, -1.3]),  # n = (153, 9), roots (13, 5): 0.5 (12/13, 3/5)
    ]),
    ("rmsprop", 0.1, {}, [1.0, -2.0], [  # decay 0.9, eps 1e-8
        # s = 0.1 g^2: the first step is 0.1 g / (sqrt(0.1) |g|) = sqrt(0.1) sign(g)
        ([0.5, -3.0], [1.0 - math.sqrt(0.1), -2.0 + math.sqrt(0.1)]),
    ]),
    ("rmsprop", 0.1, {"decay": 0.75, "eps": 0.5}, [1.0, -2.0], [
        ([1.0, -3.0], [0.9, -1.85]),  # s = 0.25 g^2 = (0.25, 2.25); 0.1 g / (0.5 + 0.5, 1.5 + 0.5)
        ([0.0, 0.0], [0.9, -1.85]),  # s = 0.75 s = (0.1875, 1.6875); no gradient, no move
        # s = 0.75 s + 0.25 g^2 = (0.390625, 3.515625), roots (0.625, 1.875)
        ([1.0, -3.0], [0.9 - 0.1 / 1.125, -1.85 + 0.3 / 2.375]),
    ]),
    ("adam", 0.1, {}, [1.0, -2.0], [  # beta1 0.9, beta2 0.999, eps 1e-8
        # bias correction: mu / (1 - 0.9) = g, nu / (1 - 0.999) = g^2, a step of 0.1 sign(g)
        ([0.5, -3.0], [0.9, -1.9]),
        # the same gradient: mu = (1 - 0.9^2) g and nu = (1 - 0.999^2) g^2, corrected to g and
        # g^2 again: 0.1 sign(g) again
        ([0.5, -3.0], [0.8, -1.8]),
        # none: mu = 0.9 * 0.19 g = 0.171 g, nu = 0.999 * 0.001999 g^2 = 0.001997001 g^2,
        # a step of 0.1 (0.171 / 0.271) / sqrt(0.001997001 / 0.002997001) = 0.0773003
        ([0.0, 0.0], [0.8 - 0.0773003, -1.8 + 0.0773003]),
    ]),
    ("adam", 0.1, {"beta1": 0.5, "beta2": 0.75, "eps": 1.0}, [1.0, -2.0], [
        ([2.0, -1.0], [1 - 0.2 / 3, -1.95]),  # mu, nu corrected to g, g^2: 0.1 g / (|g| + 1)
        # flipped: mu = 0.25 g1 - 0.5 g1 = -0.25 g1, corrected -g1 / 3; nu = 0.4375 g1^2,
        # corrected g1^2: a step of 0.1 (-g1 / 3) / (|g1| + 1) = (-1/45, 1/60)
        ([-2.0, 1.0], [1 - 0.2 / 3 + 1 / 45, -1.95 - 1 / 60]),
    ]),
]  # fmt: skip
CASE_IDS = [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[2].items()) or 'defaults'}" for c in CASES]


def run(optimizer, w, grads):
    state = optimizer.init(w)
    for g in grads:
        w, state = optimizer.update(g, state, w)
    return w


def steps_numpy(optimizer, w, grads):
    """The weights after each step of the NumPy engine's update, (1, P) rows."""
    state, after = optimizer.init(w), []
    for g in grads:
        w, state = optimizer.update(g, state, w)
        after.append(w[0])
    return after


def steps_compiled(optimizer, w, grads):
    """The same by the compiled engine's update (engines.kernels.update), given the optimizer
    as the engine describes it to the kernels."""
    settings = TrainSettings(epochs=1, loss_threshold=0.0)
    _, code, lr, h, _, _ = compiled.describe_rule(optimizer, get_loss("mse"), settings, 1)
    w, after = w[0].copy(), []
    s1, s2 = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        kernels.update(code, w, np.ascontiguousarray(g[0]), s1, s2, float(t), lr, h)
        after.append(w.copy())
    return after


ENGINES = {"numpy": steps_numpy, "numba": steps_compiled}


def test_every_optimizer_has_steps_worked_by_hand():
    assert {case[0] for case in CASES} == set(OPTIMIZERS), "work the new optimizer's steps"


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize(("name", "lr", "hyper", "w0", "steps"), CASES, ids=CASE_IDS)
def test_update_takes_the_steps_worked_by_hand(name, lr, hyper, w0, steps, engine):
    grads = [np.array([g]) for g, _ in steps]
    got = ENGINES[engine](make_optimizer(name, lr, **hyper), np.array([w0]), grads)
    for k, (w, (_, expected)) in enumerate(zip(got, steps, strict=True), start=1):
        # 1e-7: an eps of 1e-8 moves a step by that much at most (written without it above)
        np.testing.assert_allclose(w, expected, rtol=0, atol=1e-7, err_msg=f"step {k}")


def test_the_reports_defaults():
    # momentum beta = 0.9 and adagrad eps = 1e-8, from the report
    assert inspect.signature(OPTIMIZERS["momentum"]).parameters["beta"].default == 0.9
    assert inspect.signature(OPTIMIZERS["adagrad"]).parameters["eps"].default == 1e-8


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
