"""The compiled engine's math: the lab's equations written as loops, compiled by numba.

This stays one file on purpose: numba's on-disk cache notices changes to the file that
defines a compiled function and to nothing it imports, so a formula shared from another
module could run stale. Only what the engine runs lives here; a function compiled for
tests alone lives in the tests (uncached).

Set a function here beside its NumPy twin (nnsweep/nn/activations.py, losses.py,
optimizers.py, mlp.py) and they read line by line alike. The twins are tied by tests
driven by the registries (tests/test_engines.py): every activation, loss and optimizer
runs on both engines.

Components are chosen by an integer code, the same for the whole run, so the kernel is
compiled once for every combination rather than once per combination.

Layout: one replicate's parameters are a flat row (P,) laid out as :class:`nnsweep.nn.mlp.MLP`
lays them: per layer the weight (fan_in, fan_out) row by row, then the bias (fan_out,).
Activations run samples last, ``acts[layer, unit, sample]``, so the inner loops walk
contiguous memory.
"""

import math
from fractions import Fraction
from functools import partial

import numpy as np
from llvmlite import ir
from numba import njit as _njit
from numba import prange, types
from numba.extending import intrinsic

# IEEE arithmetic as NumPy does it: x / 0 gives inf or NaN instead of raising, which also
# lets the compiler vectorize loops that divide. "contract" lets it fuse a * b + c into one
# instruction rounded once, as BLAS does; nothing else of fastmath, so inf and NaN keep
# their meaning. Compiled once, cached on disk.
FASTMATH = {"contract"}
njit = partial(_njit, cache=True, error_model="numpy", fastmath=FASTMATH)

# Codes by registry name; tests check these keys against the registries.
ACTIVATION_CODES = {"sigmoid": 0, "tanh": 1, "relu": 2, "leaky_relu": 3, "none": 4, "softmax": 5}
# by the loss function's name: a softmax output's losses take logits and class labels
LOSS_CODES = {"mse": 0, "bce": 1, "cross_entropy": 2, "softmax_mse": 3}
OPTIMIZER_CODES = {"gd": 0, "momentum": 1, "nesterov": 2, "adagrad": 3, "rmsprop": 4, "adam": 5}
# Each optimizer's hyperparameters in the slots h[0], h[1], h[2] (its factory's order).
OPTIMIZER_SLOTS = {
    "gd": (),
    "momentum": ("beta",),
    "nesterov": ("beta",),
    "adagrad": ("eps",),
    "rmsprop": ("decay", "eps"),
    "adam": ("beta1", "beta2", "eps"),
}
SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX = range(6)  # softmax's layer: its logits
MSE, BCE, CROSS_ENTROPY, SOFTMAX_MSE = range(4)
GD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM = range(6)
BCE_EPS = 1e-12  # as nnsweep.nn.losses.BCE_EPS

# Where a run stands, per replicate: still training, or why it stopped.
RUNNING, CONVERGED, DIVERGED = 0, 1, 2


# ---------------------------------------------------------------- exp, vectorizable


@intrinsic
def _float_bits(typingctx, x):
    """The 64 bits of a float as an integer (a free reinterpretation)."""
    return types.int64(types.float64), lambda ctx, b, sig, args: b.bitcast(args[0], ir.IntType(64))


@intrinsic
def _bits_float(typingctx, bits):
    """The float whose 64 bits are ``bits``."""
    return types.float64(types.int64), lambda ctx, b, sig, args: b.bitcast(args[0], ir.DoubleType())


LOG2E = 1.4426950408889634
LN2_HI, LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10  # ln 2 = hi + lo
ROUND = 6755399441055744.0  # 1.5 * 2**52: x + ROUND - ROUND rounds x to an integer
TAYLOR = tuple(1.0 / math.factorial(i) for i in range(12, -1, -1))  # 1/12!, ..., 1/1!, 1/0!


@njit(inline="always")
def exp(x: float) -> float:
    """e^x within 1 ulp of NumPy's, inf above 709.78, subnormals and 0 below -708, NaN kept.

    libm's exp is a call the compiler cannot vectorize; this is plain arithmetic, so a loop
    of it runs four samples at a time. x = k ln2 + r with |r| <= ln2 / 2; e^r by its
    Taylor series to r^13 / 13! (error below 2e-17); 2^k built in the float's exponent bits,
    in two halves so that k from -1076 to 1025 stays in range.
    """
    t = 710.0 if x > 710.0 else -746.0 if x < -746.0 else x
    shifted = t * LOG2E + ROUND
    k = shifted - ROUND
    r = (t - k * LN2_HI) - k * LN2_LO
    p = 1.0 / 6227020800.0
    for coefficient in TAYLOR:
        p = p * r + coefficient
    bits = _float_bits(shifted) - _float_bits(ROUND)  # k, as an integer
    half = bits >> 1
    return p * _bits_float((half + 1023) << 52) * _bits_float((bits - half + 1023) << 52)


def _tanh_series(terms: int) -> tuple[float, ...]:
    """tanh(x) = x (c0 + c1 x^2 + c2 x^4 + ...), exact coefficients from tanh' = 1 - tanh^2,
    highest first (for Horner's rule)."""
    c: list[Fraction] = []
    for n in range(terms):
        c.append((Fraction(n == 0) - sum((c[i] * c[n - 1 - i] for i in range(n)), Fraction(0)))
                 / (2 * n + 1))  # fmt: skip
    return tuple(float(v) for v in reversed(c))


TANH_SERIES_BELOW = 0.625  # |x| where the series takes over from the exp form
# its tail at 0.625 is below 1e-18 of tanh. An array, not a tuple: a tuple indexed in a loop
# becomes a switch, which the compiler neither unrolls nor vectorizes (10x slower)
TANH_SERIES = np.array(_tanh_series(24))


@njit(inline="always")
def tanh(x: float) -> float:
    """tanh(x) within a few ulps of NumPy's, vectorizable as :func:`exp` is (libm's tanh is a
    call). Above |x| = 0.625, 1 - 2 / (e^2|x| + 1), signed, where nothing cancels; below, its
    Taylor series, so that tiny x keep their digits. NaN, -0.0 and the infinities as NumPy's.
    """
    magnitude = abs(x)
    far = 1.0 - 2.0 / (exp(2.0 * magnitude) + 1.0)
    far = far if x >= 0.0 else -far
    square, near = x * x, 0.0
    for coefficient in TANH_SERIES:
        near = near * square + coefficient
    return x * near if magnitude < TANH_SERIES_BELOW else far


# ---------------------------------------------------------------- activations
# Each works on one layer, (units, samples), in place, with one loop nest per activation so
# that the compiler sees plain loops. NaN goes through as it does in the NumPy twins.


@njit
def activate(code: int, acts: np.ndarray, layer: int, units: int, m: int, alpha: float) -> None:
    """z <- f(z), for z = ``acts[layer]`` (the whole array and an index, not a view: a view
    costs a reference count up and down on every call)."""
    for j in range(units):
        if code == SIGMOID:
            for i in range(m):
                acts[layer, j, i] = 1.0 / (1.0 + exp(-acts[layer, j, i]))
        elif code == TANH:
            for i in range(m):
                acts[layer, j, i] = tanh(acts[layer, j, i])
        elif code == RELU:
            for i in range(m):
                acts[layer, j, i] = 0.0 if acts[layer, j, i] < 0.0 else acts[layer, j, i]
        elif code == LEAKY_RELU:
            for i in range(m):
                z = acts[layer, j, i]
                acts[layer, j, i] = z if z > 0.0 else alpha * z


@njit
def times_grad(code: int, acts: np.ndarray, layer: int, g: np.ndarray, units: int, m: int,
               alpha: float):  # fmt: skip
    """g <- f'(z) g, with f'(z) from the output a = f(z) in ``acts[layer]``, as the lab
    writes it."""
    for j in range(units):
        if code == SIGMOID:
            for i in range(m):
                g[j, i] = (1.0 - acts[layer, j, i]) * acts[layer, j, i] * g[j, i]
        elif code == TANH:
            for i in range(m):
                g[j, i] = (1.0 - acts[layer, j, i] * acts[layer, j, i]) * g[j, i]
        elif code == RELU:
            for i in range(m):
                g[j, i] = (1.0 if acts[layer, j, i] > 0.0 else 0.0) * g[j, i]
        elif code == LEAKY_RELU:
            for i in range(m):
                g[j, i] = (1.0 if acts[layer, j, i] > 0.0 else alpha) * g[j, i]
        else:  # none, softmax's logits: f' = 1; 1 * g keeps NaN and -0.0 as NumPy's does
            for i in range(m):
                g[j, i] = 1.0 * g[j, i]


@njit(fastmath=FASTMATH | {"reassoc"})
def mean_abs_slope(code: int, a: np.ndarray, units: int, m: int, alpha: float) -> float:
    """The mean of |f'(z)| over the layer's units and first ``m`` samples, from a = f(z)."""
    total = 0.0
    for j in range(units):
        for i in range(m):
            if code == SIGMOID:
                slope = (1.0 - a[j, i]) * a[j, i]
            elif code == TANH:
                slope = 1.0 - a[j, i] * a[j, i]
            elif code == RELU:
                slope = 1.0 if a[j, i] > 0.0 else 0.0
            elif code == LEAKY_RELU:
                slope = 1.0 if a[j, i] > 0.0 else alpha
            else:
                slope = 1.0
            total += abs(slope)
    return total / (units * m)


# ---------------------------------------------------------------- losses
# A sum in strict order is one chain of dependent additions, each waiting for the last.
# fastmath "reassoc" (inf and NaN still stay as they are) lets the compiler keep several
# partial sums in vector registers. NumPy's BLAS sums in its own order too:
# the engines differ in the last bits.


@njit(fastmath=FASTMATH | {"reassoc"})
def loss_and_grad(code: int, acts: np.ndarray, out: int, target: np.ndarray, m: int,
                  grad: np.ndarray):  # fmt: skip
    """The mean loss of the prediction ``acts[out, 0]`` over the first ``m`` samples; d loss
    / d prediction into ``grad[0]``."""
    value = 0.0
    if code == MSE:
        for i in range(m):
            diff = acts[out, 0, i] - target[i]
            value += diff * diff
            grad[0, i] = diff * (2.0 / m)
        return value / m
    for i in range(m):  # BCE, the prediction clipped to [eps, 1 - eps] (NaN stays NaN)
        p = acts[out, 0, i]
        p = BCE_EPS if p < BCE_EPS else 1.0 - BCE_EPS if p > 1.0 - BCE_EPS else p
        t = target[i]
        value += t * math.log(p) + (1.0 - t) * math.log1p(-p)
        grad[0, i] = (p - t) / (p * (1.0 - p) * m)
    return -value / m


@njit(fastmath=FASTMATH | {"reassoc"})
def softmax_loss_and_grad(code, acts, out, labels, units, m, grad, scratch):
    """The mean loss of a softmax output over the first ``m`` samples from its logits
    ``z = acts[out]`` (units, samples); d loss / d z into ``grad``. ``scratch`` (2, m or
    more) is overwritten: its row 0 holds each sample's largest logit, row 1 a sum.

    Cross-entropy: lse(z) - z_true per sample (log-sum-exp: never log(0)), gradient
    (p - onehot) / m. mse on the one-hot targets: mean over samples and units of
    (p - t)^2, gradient p (g - sum_k p_k g_k) with g = 2 (p - t) / (m units).
    """
    for i in range(m):
        scratch[0, i] = acts[out, 0, i]
    for j in range(1, units):
        for i in range(m):
            z = acts[out, j, i]
            scratch[0, i] = z if z > scratch[0, i] else scratch[0, i]
    for i in range(m):
        scratch[1, i] = 0.0
    for j in range(units):  # grad <- exp(z - max), scratch[1] <- its sum over the units
        for i in range(m):
            grad[j, i] = exp(acts[out, j, i] - scratch[0, i])
            scratch[1, i] += grad[j, i]
    value = 0.0
    if code == CROSS_ENTROPY:
        for i in range(m):
            value += math.log(scratch[1, i]) + scratch[0, i] - acts[out, int(labels[i]), i]
        for j in range(units):
            for i in range(m):
                hit = 1.0 if labels[i] == j else 0.0
                grad[j, i] = (grad[j, i] / scratch[1, i] - hit) / m
        return value / m
    scale = 2.0 / (m * units)
    for j in range(units):  # grad <- p; scratch[0] <- sum_k p_k g_k
        for i in range(m):
            grad[j, i] = grad[j, i] / scratch[1, i]
    for i in range(m):
        scratch[0, i] = 0.0
    for j in range(units):
        for i in range(m):
            diff = grad[j, i] - (1.0 if labels[i] == j else 0.0)
            value += diff * diff
            scratch[0, i] += grad[j, i] * diff * scale
    for j in range(units):
        for i in range(m):
            diff = grad[j, i] - (1.0 if labels[i] == j else 0.0)
            grad[j, i] = grad[j, i] * (diff * scale - scratch[0, i])
    return value / (m * units)


@njit
def output_loss(code, acts, out, target, units, m, grad, scratch):
    """The loss of the output layer ``acts[out]`` (units, samples) over the first ``m``
    samples, d loss / d output into ``grad``: one unit's loss, or a softmax's from its
    logits. The whole ``acts`` and an index, not a view, as for :func:`activate`."""
    if code >= CROSS_ENTROPY:  # cross_entropy or softmax_mse
        return softmax_loss_and_grad(code, acts, out, target, units, m, grad, scratch)
    return loss_and_grad(code, acts, out, target, m, grad)


@njit
def accuracy(acts: np.ndarray, out: int, target: np.ndarray, units: int, m: int) -> float:
    """Share of samples whose predicted class is the label, from the outputs ``acts[out]``:
    one unit says class 1 above 0.5; K units, the argmax (the first of equal ones, as
    NumPy's)."""
    right = 0
    if units == 1:
        for i in range(m):
            right += (acts[out, 0, i] > 0.5) == (target[i] != 0.0)
        return right / m
    for i in range(m):
        best = 0
        for j in range(1, units):
            z, top = acts[out, j, i], acts[out, best, i]
            if z > top or (z != z and top == top):
                best = j  # NaN wins, as in NumPy's argmax
        right += best == target[i]
    return right / m


# ---------------------------------------------------------------- the network


@njit
def forward(w, sizes, offsets, codes, alphas, acts, m):
    """Fill ``acts[l + 1, :fan_out, :m]`` layer by layer from the inputs in ``acts[0]``.

    z_j = b_j + sum_k w_kj a_k;  a_j = f(z_j), for every sample i at once.
    """
    for layer in range(len(sizes) - 1):
        fan_in, fan_out, start = sizes[layer], sizes[layer + 1], offsets[layer]
        bias = start + fan_in * fan_out
        for j in range(fan_out):
            # the bias and the first four inputs (or two) in one pass, then four a pass, each
            # added in the same order as one by one: every pass is a loop's fixed cost, and
            # a small network's loops run few samples
            b, k = w[bias + j], 4 if fan_in >= 4 else 2 if fan_in >= 2 else 0
            if k == 4:
                w0, w1 = w[start + j], w[start + fan_out + j]
                w2, w3 = w[start + 2 * fan_out + j], w[start + 3 * fan_out + j]
                for i in range(m):
                    acts[layer + 1, j, i] = (
                        b
                        + w0 * acts[layer, 0, i]
                        + w1 * acts[layer, 1, i]
                        + w2 * acts[layer, 2, i]
                        + w3 * acts[layer, 3, i]
                    )
            elif k == 2:
                w0, w1 = w[start + j], w[start + fan_out + j]
                for i in range(m):
                    acts[layer + 1, j, i] = b + w0 * acts[layer, 0, i] + w1 * acts[layer, 1, i]
            else:
                for i in range(m):
                    acts[layer + 1, j, i] = b
            while k + 4 <= fan_in:
                w0, w1 = w[start + k * fan_out + j], w[start + (k + 1) * fan_out + j]
                w2, w3 = w[start + (k + 2) * fan_out + j], w[start + (k + 3) * fan_out + j]
                for i in range(m):
                    acts[layer + 1, j, i] = (
                        acts[layer + 1, j, i]
                        + w0 * acts[layer, k, i]
                        + w1 * acts[layer, k + 1, i]
                        + w2 * acts[layer, k + 2, i]
                        + w3 * acts[layer, k + 3, i]
                    )
                k += 4
            for rest in range(k, fan_in):
                w_kj = w[start + rest * fan_out + j]
                for i in range(m):
                    acts[layer + 1, j, i] += w_kj * acts[layer, rest, i]
        activate(codes[layer], acts, layer + 1, fan_out, m, alphas[layer])


@njit(fastmath=FASTMATH | {"reassoc"})
def backward(w, sizes, offsets, codes, alphas, acts, incoming, other, m, grads):
    """d loss / d w into ``grads``, from forward's ``acts`` and d loss / d prediction in
    ``incoming[0, :m]``. ``other`` is a buffer of ``incoming``'s shape; both are overwritten.

    delta_j = f'(z_j) dL/da_j;  dL/dw_kj = sum_i a_k delta_j;  dL/db_j = sum_i delta_j;
    dL/da_k, for the layer below, = sum_j w_kj delta_j.
    """
    for layer in range(len(sizes) - 2, -1, -1):
        fan_in, fan_out, start = sizes[layer], sizes[layer + 1], offsets[layer]
        bias = start + fan_in * fan_out
        times_grad(codes[layer], acts, layer + 1, incoming, fan_out, m, alphas[layer])
        for j in range(fan_out):  # incoming is now delta
            total = 0.0
            for i in range(m):
                total += incoming[j, i]
            grads[bias + j] = total
            k = 0
            while k + 4 <= fan_in:  # four weights a pass: each delta read once for four
                t0, t1, t2, t3 = 0.0, 0.0, 0.0, 0.0
                for i in range(m):
                    t0 += acts[layer, k, i] * incoming[j, i]
                    t1 += acts[layer, k + 1, i] * incoming[j, i]
                    t2 += acts[layer, k + 2, i] * incoming[j, i]
                    t3 += acts[layer, k + 3, i] * incoming[j, i]
                grads[start + k * fan_out + j] = t0
                grads[start + (k + 1) * fan_out + j] = t1
                grads[start + (k + 2) * fan_out + j] = t2
                grads[start + (k + 3) * fan_out + j] = t3
                k += 4
            for rest in range(k, fan_in):
                total = 0.0
                for i in range(m):
                    total += acts[layer, rest, i] * incoming[j, i]
                grads[start + rest * fan_out + j] = total
        if layer:
            for k in range(fan_in):
                # from 0 and the first (up to) four units in one pass, then four a pass, as
                # forward adds its inputs (a weight past the j-th is read, not used)
                row, j = start + k * fan_out, min(fan_out, 4)
                w0, w1 = w[row], w[row + min(1, j - 1)]
                w2, w3 = w[row + min(2, j - 1)], w[row + j - 1]
                if j == 4:
                    for i in range(m):
                        other[k, i] = (
                            0.0
                            + w0 * incoming[0, i]
                            + w1 * incoming[1, i]
                            + w2 * incoming[2, i]
                            + w3 * incoming[3, i]
                        )
                elif j == 3:
                    for i in range(m):
                        other[k, i] = (
                            0.0 + w0 * incoming[0, i] + w1 * incoming[1, i] + w2 * incoming[2, i]
                        )
                elif j == 2:
                    for i in range(m):
                        other[k, i] = 0.0 + w0 * incoming[0, i] + w1 * incoming[1, i]
                else:
                    for i in range(m):
                        other[k, i] = 0.0 + w0 * incoming[0, i]
                while j + 4 <= fan_out:
                    w0, w1, w2, w3 = w[row + j], w[row + j + 1], w[row + j + 2], w[row + j + 3]
                    for i in range(m):
                        other[k, i] = (
                            other[k, i]
                            + w0 * incoming[j, i]
                            + w1 * incoming[j + 1, i]
                            + w2 * incoming[j + 2, i]
                            + w3 * incoming[j + 3, i]
                        )
                    j += 4
                for rest in range(j, fan_out):
                    w_kj = w[row + rest]
                    for i in range(m):
                        other[k, i] += w_kj * incoming[rest, i]
            incoming, other = other, incoming


@njit(fastmath=FASTMATH | {"reassoc"})
def layer_statistics(sizes, offsets, codes, alphas, acts, grads, m, out):
    """Per layer into ``out`` (L, 2): the norm of d loss / d weight from ``grads`` (the bias
    left out) and the mean |f'(z)| from forward's ``acts``."""
    for layer in range(len(sizes) - 1):
        start, end = offsets[layer], offsets[layer] + sizes[layer] * sizes[layer + 1]
        total = 0.0
        for p in range(start, end):
            total += grads[p] * grads[p]
        out[layer, 0] = math.sqrt(total)
        units = sizes[layer + 1]
        out[layer, 1] = mean_abs_slope(codes[layer], acts[layer + 1], units, m, alphas[layer])


# ---------------------------------------------------------------- optimizers


@njit
def update(code, w, g, s1, s2, t, lr, h):
    """One step of the optimizer ``code`` on every parameter; ``s1``, ``s2`` its state,
    ``t`` the step's number (from 1), ``h`` its hyperparameters (OPTIMIZER_SLOTS)."""
    if code == GD:  # W <- W - lr g
        for p in range(len(w)):
            w[p] = w[p] - lr * g[p]
    elif code == MOMENTUM:  # V <- beta V - lr g;  W <- W + V
        for p in range(len(w)):
            s1[p] = h[0] * s1[p] - lr * g[p]
            w[p] = w[p] + s1[p]
    elif code == NESTEROV:  # V <- beta V - lr g;  W <- W + beta V - lr g
        for p in range(len(w)):
            s1[p] = h[0] * s1[p] - lr * g[p]
            w[p] = w[p] + h[0] * s1[p] - lr * g[p]
    elif code == ADAGRAD:  # n <- n + g^2;  W <- W - lr g / sqrt(n + eps)
        for p in range(len(w)):
            s1[p] = s1[p] + g[p] * g[p]
            w[p] = w[p] - lr * g[p] / np.sqrt(s1[p] + h[0])
    elif code == RMSPROP:  # s <- decay s + (1 - decay) g^2;  W <- W - lr g / (sqrt(s) + eps)
        for p in range(len(w)):
            s1[p] = h[0] * s1[p] + (1.0 - h[0]) * g[p] * g[p]
            w[p] = w[p] - lr * g[p] / (np.sqrt(s1[p]) + h[1])
    else:  # adam: mu <- b1 mu + (1 - b1) g;  nu <- b2 nu + (1 - b2) g^2;  bias-corrected step
        correction1, correction2 = 1.0 - h[0] ** t, 1.0 - h[1] ** t
        for p in range(len(w)):
            s1[p] = h[0] * s1[p] + (1.0 - h[0]) * g[p]
            s2[p] = h[1] * s2[p] + (1.0 - h[1]) * g[p] * g[p]
            w[p] = w[p] - lr * (s1[p] / correction1) / (np.sqrt(s2[p] / correction2) + h[2])


# ---------------------------------------------------------------- training
# Copies are loops, not slice assignments: a slice assignment compiles numba's formatted
# shape-mismatch error (str of tuples, joins), which cost 3 of the 12 s of a first compile.


@njit
def copy_rows(source, into, rows, columns):
    """into[:rows, :columns] <- source[:rows, :columns]."""
    for k in range(rows):
        for i in range(columns):
            into[k, i] = source[k, i]


@njit
def widest(sizes):
    """The largest layer (a loop: numba's array max compiles an error path besides)."""
    width = 0
    for size in sizes:
        width = max(width, size)
    return width


@njit
def train_replicate(r, first, last, network, rule, data, state, out):
    """Epochs ``first`` to ``last`` of replicate ``r``: the NumPy engine's loop
    (nnsweep.engines.numpy_loop.train) for one network.

    - ``network``: (sizes, offsets, codes, alphas) of the layers;
    - ``rule``: (loss code, optimizer code, lr, hyperparameters h, threshold, batch), where
      batch 0 is the full batch;
    - ``data``: (x_t (in, n), y (n,), orders (R, epochs, n): each epoch's sample order for
      minibatches, x_test_t (in, n_test), y_test (n_test,): held-out data, n_test maybe 0);
    - ``state``: (params, s1, s2 (R, P): optimizer state; steps, status, stopped_at (R,));
    - ``out``: (loss (epochs, R), row ``epoch - first``; slot (epochs,): each epoch's row in
      the recorded arrays, -1 where nothing is recorded; accuracy (K, R); layers (K, R, L, 2):
      gradient norm and mean |f'| per layer; test (K, R, 2): held-out loss and accuracy;
      last_layers (R, L, 2): the layers at the epoch the replicate stops at).

    An epoch is a row of passes, each a forward pass and its loss on a set of samples: the
    whole data set (the epoch's loss, the stop test, what is recorded), the held-out data
    when recorded, then each minibatch. Every kernel has one call site here, which keeps
    the compiled function, and its compile time, to one copy of each.
    """
    sizes, offsets, codes, alphas = network
    loss_code, opt_code, lr, h, threshold, batch = rule
    x_t, y, orders, x_test_t, y_test = data
    params, s1, s2, steps, status, stopped_at = state
    loss_out, slots, accuracy_out, layers_out, test_out, last_layers = out
    w, v1, v2 = params[r], s1[r], s2[r]
    inputs, n, top = x_t.shape[0], x_t.shape[1], len(sizes) - 1
    units, n_test, width = sizes[top], len(y_test), widest(sizes)
    acts = np.zeros((len(sizes), width, n))  # every buffer once per block, none per epoch
    incoming, other = np.zeros((width, max(n, n_test))), np.zeros((width, max(n, n_test)))
    grads, target, layers = np.zeros(w.shape[0]), np.zeros(n), np.zeros((top, 2))
    copy_rows(x_t, acts[0], inputs, n)  # the inputs; only minibatches overwrite them
    test_acts = np.zeros((len(sizes), width, n_test))
    copy_rows(x_test_t, test_acts[0], inputs, n_test)
    batches = 0 if batch == 0 else (n + batch - 1) // batch
    for epoch in range(first, last + 1):
        row, slot = epoch - first, slots[epoch - first]
        held = 1 if slot >= 0 and n_test > 0 else 0  # a held-out pass this epoch
        for p in range(held + 1 + batches):  # held out (recorded epochs), all data, batches
            held_out, whole = p < held, p == held
            a, labels, m = acts, y, n
            if held_out:
                a, labels, m = test_acts, y_test, n_test
            elif whole:
                if batch:  # the last epoch's batches overwrote the inputs
                    copy_rows(x_t, acts[0], inputs, n)
            else:
                order, start = orders[r, row], (p - held - 1) * batch
                m = min(batch, n - start)
                for i in range(m):  # gather the batch, samples last
                    for k in range(inputs):
                        acts[0, k, i] = x_t[k, order[start + i]]
                    target[i] = y[order[start + i]]
                labels = target
            forward(w, sizes, offsets, codes, alphas, a, m)
            loss = output_loss(loss_code, a, top, labels, units, m, incoming, other)
            right = accuracy(a, top, labels, units, m) if whole and slot >= 0 or held_out else 0.0
            if held_out:  # its loss and accuracy, nothing else
                test_out[slot, r, 0], test_out[slot, r, 1] = loss, right
                continue
            stopping = whole and (loss < threshold or not math.isfinite(loss))
            if whole:
                loss_out[row, r] = loss
                if slot >= 0:
                    accuracy_out[slot, r] = right
            if not whole or batch == 0 or slot >= 0 or stopping:
                # the whole data set's gradient is what a full batch steps with, and what
                # the layer statistics are of
                backward(w, sizes, offsets, codes, alphas, a, incoming, other, m, grads)
            if whole and (slot >= 0 or stopping):
                layer_statistics(sizes, offsets, codes, alphas, a, grads, m, layers)
                if slot >= 0:
                    copy_rows(layers, layers_out[slot, r], top, 2)
                if stopping:  # the layers at the last epoch, recorded there or not
                    copy_rows(layers, last_layers[r], top, 2)
                    status[r] = CONVERGED if loss < threshold else DIVERGED
                    stopped_at[r] = epoch
                    return
            if not whole or batch == 0:
                steps[r] += 1
                update(opt_code, w, grads, v1, v2, float(steps[r]), lr, h)


@njit(parallel=True)
def train_block_parallel(first, last, network, rule, data, state, out):
    """Epochs ``first`` to ``last`` of every replicate still running, spread over numba's
    threads. One thread calls :func:`train_replicate` from Python instead, once per
    replicate: a compiled loop would compile and load the whole kernel a second time."""
    _params, _s1, _s2, _steps, status, _stopped_at = state
    for r in prange(len(status)):
        if status[r] == RUNNING:
            train_replicate(r, first, last, network, rule, data, state, out)
