"""Gradients by central differences: the losses, the activations, and MLP.backward on every
parameter for every activation x loss x depth x replicate count in the registries."""

import warnings

import numpy as np
import pytest

from nnsweep.nn.activations import ACTIVATIONS, make_activation, make_output_activation
from nnsweep.nn.losses import LOSSES, ON_LOGITS, get_loss
from nnsweep.nn.mlp import INITS, MLP

H = 1e-6  # central-difference step
RTOL = 1e-6  # the largest relative error allowed, float64
# A central difference at step H carries a rounding error of about eps * |L| / H, 2e-10 |L|,
# and up to ~1e-9 |L| measured here where identity layers sum large terms that cancel: on a
# gradient below ~1e-3 |L| that alone exceeds RTOL. Relative errors are therefore taken
# against max(|a| + |n|, FLOOR * max(1, |L|)): a gradient above the floor must match to 1e-6
# relative; below it the check is an absolute one of RTOL * FLOOR * max(1, |L|) = 1e-8 |L|,
# far below any wrong formula's error.
FLOOR = 1e-2

# Losses defined only for some output activations (bce needs outputs in (0, 1)); any other
# loss is checked with every output activation in the registry. A softmax output (K = 3
# units) takes the losses of ON_LOGITS, on its logits and class labels.
OUTPUTS_FOR_LOSS = {"bce": ("sigmoid",)}
ONE_UNIT_LOSSES = sorted(set(LOSSES) - {"cross_entropy"})  # cross_entropy needs a softmax
CLASSES = 3

HIDDEN_WIDTHS = (5, 4, 3)  # unequal widths: a transposed weight cannot pass unnoticed


def relative_error(analytic, numeric, scale):
    floor = FLOOR * np.maximum(1.0, np.abs(scale))
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor)


def numeric_loss_gradient(loss_fn, pred, target):
    """d value[r] / d pred[r, i, j], and the largest change of any other replicate's value."""
    grad = np.empty_like(pred)
    leak = 0.0
    for idx in np.ndindex(*pred.shape):
        up, down = pred.copy(), pred.copy()
        up[idx] += H
        down[idx] -= H
        diff = (loss_fn(up, target)[0] - loss_fn(down, target)[0]) / (2 * H)  # (R,)
        grad[idx] = diff[idx[0]]
        leak = max(leak, np.abs(np.delete(diff, idx[0])).max(initial=0.0))
    return grad, leak


def numeric_param_gradient(net, params, x, y, loss_fn):
    """d loss[r] / d params[r, p] for every entry, and the largest change of any other
    replicate's loss (which must be exactly zero: replicates are independent networks)."""
    grad = np.empty_like(params)
    leak = 0.0
    for r, p in np.ndindex(*params.shape):
        up, down = params.copy(), params.copy()
        up[r, p] += H
        down[r, p] -= H
        # the last layer's outputs: a softmax's logits, which its loss takes
        value_up, value_down = (loss_fn(net.forward(p, x)[-1], y)[0] for p in (up, down))
        diff = (value_up - value_down) / (2 * H)
        grad[r, p] = diff[r]
        leak = max(leak, np.abs(np.delete(diff, r)).max(initial=0.0))
    return grad, leak


# ---------------------------------------------------------------- losses


@pytest.mark.parametrize("replicates", [1, 3])
@pytest.mark.parametrize("name", sorted(ON_LOGITS))
def test_softmax_loss_gradient_matches_its_value(name, replicates):
    """d loss / d logits, the fused softmax - onehot for cross_entropy, by central differences."""
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=2.0, size=(replicates, 6, CLASSES))
    labels = np.array([[0], [1], [2], [2], [0], [1]])
    value, grad = get_loss(name, softmax=True)(logits, labels)
    assert value.shape == (replicates,) and grad.shape == logits.shape
    numeric, leak = numeric_loss_gradient(get_loss(name, softmax=True), logits, labels)
    assert leak == 0.0
    error = relative_error(grad, numeric, value[:, None, None])
    assert error.max() <= RTOL, f"{name}: relative error {error.max():.2e}"


@pytest.mark.parametrize("replicates", [1, 3])
@pytest.mark.parametrize("name", ONE_UNIT_LOSSES)
def test_loss_gradient_matches_its_value(name, replicates):
    rng = np.random.default_rng(1)
    pred = rng.uniform(0.05, 0.95, size=(replicates, 6, 1))
    target = rng.integers(0, 2, size=(6, 1))  # (n, 1), broadcast over replicates
    target[:2] = [[0], [1]]  # both labels present
    value, grad = get_loss(name)(pred, target)
    assert value.shape == (replicates,) and grad.shape == pred.shape
    numeric, leak = numeric_loss_gradient(get_loss(name), pred, target)
    assert leak == 0.0
    error = relative_error(grad, numeric, value[:, None, None])
    assert error.max() <= RTOL, f"{name}: relative error {error.max():.2e}"


@pytest.mark.parametrize("name", ONE_UNIT_LOSSES)
def test_loss_accepts_targets_with_a_replicate_axis(name):
    rng = np.random.default_rng(2)
    pred = rng.uniform(0.05, 0.95, size=(3, 5, 1))
    target = rng.integers(0, 2, size=(5, 1))
    shared = get_loss(name)(pred, target)
    per_replicate = get_loss(name)(pred, np.broadcast_to(target, (3, 5, 1)).copy())
    np.testing.assert_array_equal(shared[0], per_replicate[0])
    np.testing.assert_array_equal(shared[1], per_replicate[1])


def test_losses_are_means_over_samples():
    rng = np.random.default_rng(3)
    pred = rng.uniform(0.05, 0.95, size=(2, 8, 1))
    t = rng.integers(0, 2, size=(8, 1))
    mse, _ = get_loss("mse")(pred, t)
    bce, _ = get_loss("bce")(pred, t)
    np.testing.assert_allclose(mse, ((pred - t) ** 2).mean(axis=(1, 2)), rtol=1e-14)
    expected_bce = -(t * np.log(pred) + (1 - t) * np.log(1 - pred)).mean(axis=(1, 2))
    np.testing.assert_allclose(bce, expected_bce, rtol=1e-13)


def test_bce_is_finite_at_predictions_of_exactly_0_and_1():
    pred = np.array([[[0.0], [1.0], [0.0], [1.0]]])  # (1, 4, 1)
    right = np.array([[0], [1], [0], [1]])
    wrong = 1 - right
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        right_value, right_grad = get_loss("bce")(pred, right)
        wrong_value, wrong_grad = get_loss("bce")(pred, wrong)
    for array in (right_value, right_grad, wrong_value, wrong_grad):
        assert np.all(np.isfinite(array))
    assert 0.0 <= right_value[0] < 1e-9  # all right: about zero
    assert wrong_value[0] > 20.0  # all wrong: large, yet finite
    # the gradient still points the right way: down where the target is 0, up where it is 1
    assert np.all(np.sign(wrong_grad[0, :, 0]) == np.where(wrong[:, 0] == 1, -1, 1))


# ---------------------------------------------------------------- activations


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_from_output_matches_finite_differences(name):
    activation = make_activation(name)
    z = np.linspace(-6.0, 6.0, 241)
    z = z[np.abs(z) > 1e-3]  # off the kink at 0 of relu and leaky_relu
    a = activation.fn(z)
    numeric = (activation.fn(z + H) - activation.fn(z - H)) / (2 * H)
    error = relative_error(activation.grad_from_output(a), numeric, 1.0)
    assert error.max() <= RTOL


def test_leaky_relu_uses_the_reports_slope():
    activation = make_activation("leaky_relu")
    z = np.array([-2.0, 3.0])
    np.testing.assert_array_equal(activation.fn(z), [-0.01, 3.0])
    np.testing.assert_array_equal(activation.grad_from_output(activation.fn(z)), [0.005, 1.0])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_give_no_warning_for_large_inputs(name):
    # numpy's default error state ignores underflow: a result below the smallest float is a
    # correctly rounded 0 (sigmoid(-1e4)), so it is not an error; overflow, a division by
    # zero or a NaN from a huge input is.
    z = np.concatenate([-np.logspace(-3, 4, 50), [0.0], np.logspace(-3, 4, 50)])
    activation = make_activation(name)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        a = activation.fn(z)
        grad = activation.grad_from_output(a)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(grad))


def test_sigmoid_is_exact_and_bounded_up_to_1e4():
    sigmoid = make_activation("sigmoid").fn
    z = np.concatenate([-np.logspace(-3, 4, 200), [0.0], np.logspace(-3, 4, 200)])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        a = sigmoid(z)
    assert np.all((a >= 0.0) & (a <= 1.0))
    assert np.all(np.diff(a[np.argsort(z)]) >= 0.0)  # monotone
    assert sigmoid(np.array([0.0]))[0] == 0.5
    assert sigmoid(np.array([1e4]))[0] == 1.0 and sigmoid(np.array([-1e4]))[0] == 0.0
    # the lower tail keeps its relative precision (no 1 - (1 - tiny) cancellation)
    tail = -np.linspace(1.0, 700.0, 100)
    np.testing.assert_allclose(sigmoid(tail), np.exp(tail) / (1.0 + np.exp(tail)), rtol=1e-13)
    np.testing.assert_allclose(sigmoid(-z) + sigmoid(z), 1.0, rtol=0, atol=5e-16)  # 2 ulp


# ---------------------------------------------------------------- the network


def gradient_case(net, replicates, seed, x_per_replicate=False):
    """Parameters (lab init, N(0, 1)), inputs and labels, redrawn until every pre-activation
    is at least 1e-3 from relu's kink and the output's pre-activation is within +-6 (a
    sigmoid output stays clear of BCE's clipping at 1e-12)."""
    for attempt in range(100):
        rngs = [np.random.default_rng([seed, attempt, r]) for r in range(replicates)]
        params = net.init(rngs, "normal")
        rng = np.random.default_rng([seed, attempt, 1000])
        shape = (replicates, 5, 2) if x_per_replicate else (5, 2)
        x = rng.uniform(-1.0, 1.0, size=shape)
        y = (
            np.array([[0], [1], [2], [0], [1]])
            if net.softmax
            else np.array([[0], [1], [1], [0], [1]])
        )
        outputs = net.forward(params, x)
        zs = [out @ w + b for out, (w, b) in zip(outputs, net.unpack(params), strict=False)]
        bounded = net.softmax or np.abs(zs[-1]).max() < 6.0  # a softmax's loss clips nothing
        if min(np.abs(z).min() for z in zs) > 1e-3 and bounded:
            return params, x, y
    raise AssertionError("no parameters off the kinks in 100 draws")


def check_backward(net, params, x, y, loss_name):
    loss_fn = get_loss(loss_name, net.softmax)
    outputs = net.forward(params, x)
    value, grad_prediction = loss_fn(outputs[-1], y)
    analytic = net.backward(params, outputs, grad_prediction)
    assert analytic.shape == params.shape
    numeric, leak = numeric_param_gradient(net, params, x, y, loss_fn)
    assert leak == 0.0, "one replicate's parameters changed another replicate's loss"
    error = relative_error(analytic, numeric, value[:, None])
    worst = np.unravel_index(error.argmax(), error.shape)
    assert error.max() <= RTOL, (
        f"relative error {error.max():.2e} at (replicate, parameter) {worst}: "
        f"backward {analytic[worst]!r}, central difference {numeric[worst]!r}"
    )


GRID = [
    (hidden, output, loss)
    for loss in ONE_UNIT_LOSSES
    for hidden in sorted(ACTIVATIONS)
    for output in OUTPUTS_FOR_LOSS.get(loss, sorted(ACTIVATIONS))
] + [(hidden, "softmax", loss) for loss in sorted(ON_LOGITS) for hidden in sorted(ACTIVATIONS)]


@pytest.mark.parametrize("replicates", [1, 3], ids=lambda r: f"R{r}")
@pytest.mark.parametrize("depth", [0, 1, 2, 3], ids=lambda d: f"{d}hidden")
@pytest.mark.parametrize(("hidden", "output", "loss"), GRID, ids="-".join)
def test_backward_matches_central_differences_on_every_parameter(
    hidden, output, loss, depth, replicates
):
    sizes = (2, *HIDDEN_WIDTHS[:depth], CLASSES if output == "softmax" else 1)
    net = MLP(sizes, make_activation(hidden), make_output_activation(output))
    params, x, y = gradient_case(net, replicates, seed=depth)
    check_backward(net, params, x, y, loss)


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_backward_with_an_input_batch_per_replicate(hidden):
    # the minibatch path feeds x of shape (R, b, in): each replicate its own samples
    net = MLP((2, 5, 4, 1), make_activation(hidden), make_activation("sigmoid"))
    params, x, y = gradient_case(net, 3, seed=7, x_per_replicate=True)
    y = np.stack([y, 1 - y, y])  # (R, b, 1)
    for loss in ONE_UNIT_LOSSES:
        check_backward(net, params, x, y, loss)
    net = MLP((2, 5, 4, CLASSES), make_activation(hidden), make_output_activation("softmax"))
    params, x, y = gradient_case(net, 3, seed=8, x_per_replicate=True)
    y = np.stack([y, (y + 1) % CLASSES, y])  # (R, b, 1)
    for loss in sorted(ON_LOGITS):
        check_backward(net, params, x, y, loss)


@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_backward_leaves_its_inputs_alone(hidden):
    net = MLP((2, 5, 4, 1), make_activation(hidden), make_activation("sigmoid"))
    params, x, y = gradient_case(net, 3, seed=11)
    outputs = net.forward(params, x)
    _, grad_prediction = get_loss("mse")(outputs[-1], y)
    saved = (params.copy(), [out.copy() for out in outputs], grad_prediction.copy())
    first = net.backward(params, outputs, grad_prediction)
    np.testing.assert_array_equal(params, saved[0])
    for out, before in zip(outputs, saved[1], strict=True):
        np.testing.assert_array_equal(out, before)
    np.testing.assert_array_equal(grad_prediction, saved[2])
    np.testing.assert_array_equal(net.backward(params, outputs, grad_prediction), first)
    assert not np.shares_memory(first, params)


def test_every_registered_combination_is_in_the_grid():
    # written out: a name that leaves a registry, or one the grid skips, fails here
    names = {"sigmoid", "tanh", "relu", "leaky_relu", "none"}
    assert set(ACTIVATIONS) == names and set(LOSSES) == {"mse", "bce", "cross_entropy"}
    expected = {(h, o, "mse") for h in names for o in names}
    expected |= {(h, "sigmoid", "bce") for h in names}
    expected |= {(h, "softmax", loss) for h in names for loss in ("mse", "cross_entropy")}
    assert set(GRID) == expected and len(GRID) == len(expected) == 40


def test_unpack_gives_views_in_the_documented_shapes():
    net = MLP((2, 5, 3, 1), make_activation("tanh"), make_activation("sigmoid"))
    params = net.init([np.random.default_rng(0), np.random.default_rng(1)])
    assert params.shape == (2, net.n_params) == (2, 2 * 5 + 5 + 5 * 3 + 3 + 3 * 1 + 1)
    layers = net.unpack(params)
    assert [(w.shape, b.shape) for w, b in layers] == [
        ((2, 2, 5), (2, 1, 5)),
        ((2, 5, 3), (2, 1, 3)),
        ((2, 3, 1), (2, 1, 1)),
    ]
    for weight, bias in layers:
        assert np.shares_memory(weight, params) and np.shares_memory(bias, params)
    # together the views cover every parameter exactly once
    total = sum(w.size + b.size for w, b in layers)
    assert total == params.size


def test_forward_is_the_layers_written_out():
    net = MLP((2, 5, 3, 1), make_activation("tanh"), make_activation("sigmoid"))
    params = net.init([np.random.default_rng(0), np.random.default_rng(1)])
    x = np.random.default_rng(2).uniform(size=(6, 2))
    (w1, b1), (w2, b2), (w3, b3) = net.unpack(params)
    for r in range(2):
        h1 = np.tanh(x @ w1[r] + b1[r])
        h2 = np.tanh(h1 @ w2[r] + b2[r])
        expected = 1.0 / (1.0 + np.exp(-(h2 @ w3[r] + b3[r])))
        np.testing.assert_allclose(net.predict(params, x)[r], expected, rtol=1e-14)
    assert net.predict(params, x).shape == (2, 6, 1)


def test_init_draws_replicate_r_from_its_own_generator():
    net = MLP((2, 4, 4, 1), make_activation("sigmoid"), make_activation("sigmoid"))
    for scheme in sorted(INITS):
        together = net.init([np.random.default_rng(s) for s in (5, 6, 7)], scheme)
        alone = net.init([np.random.default_rng(6)], scheme)
        np.testing.assert_array_equal(together[1:2], alone)
        assert not np.array_equal(together[0], together[1])
