"""Activations, each beside its derivative.

As in the lab, every derivative is written in terms of the layer's output
``a = f(z)``, not its input: back-propagation keeps the outputs of the
forward pass, so nothing is recomputed.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from nnsweep.registry import lookup, settings_of

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """``fn(z)`` and ``grad_from_output(a)``, where ``a = fn(z)`` and the result is dfn/dz;
    ``settings``: the hyperparameters it was made with (leaky_relu's alpha)."""

    name: str
    fn: Callable[[Array], Array]
    grad_from_output: Callable[[Array], Array]
    settings: Mapping[str, float] = field(default_factory=dict)


# exp(-z) overflows to inf below z = -709.8, and then 1 / (1 + inf) = 0 is within 1e-308
# of the exact value: that overflow is expected, so it is not reported.
@np.errstate(over="ignore")
def sigmoid(z: Array) -> Array:
    """1 / (1 + exp(-z)), to about 1 ulp wherever the result is a normal float (z > -708).

    The tanh form 0.5 (1 + tanh(z / 2)) costs about as much but cancels for z < 0: it keeps
    8 of 16 digits at z = -20 and returns 0 below z = -38, where log-losses still need
    digits.
    """
    e = np.negative(z)  # one new array, then worked in place
    np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


def sigmoid_grad(a: Array) -> Array:
    """sigmoid' from the output: a (1 - a), built in one new array.

    With many replicates, a temporary the size of a layer's output costs more to allocate
    than to compute: the allocator hands such blocks back to the system and faults them in
    again. ``a * (1 - a)`` would make two.
    """
    grad = 1.0 - a
    grad *= a
    return grad


def tanh_grad(a: Array) -> Array:
    """tanh' from the output: 1 - a^2, built in one new array (see :func:`sigmoid_grad`)."""
    grad = np.square(a)
    return np.subtract(1.0, grad, out=grad)


def make_sigmoid() -> Activation:
    """sigmoid: the lab's activation, outputs in (0, 1), derivative at most 0.25."""
    return Activation("sigmoid", sigmoid, sigmoid_grad)


def make_tanh() -> Activation:
    """tanh: outputs in (-1, 1), derivative at most 1 (at 0)."""
    return Activation("tanh", np.tanh, tanh_grad)


def make_relu() -> Activation:
    """relu: max(0, z), derivative 0 or 1."""
    # heaviside(a, 0): relu's output is positive exactly where its input is
    return Activation("relu", lambda z: np.maximum(z, 0.0), lambda a: (a > 0.0).astype(a.dtype))


def make_leaky_relu(alpha: float = 0.005) -> Activation:
    """alpha = 0.005 is the lab report's slope for negative inputs."""
    return Activation(
        "leaky_relu",
        lambda z: np.where(z > 0.0, z, alpha * z),
        lambda a: np.where(a > 0.0, 1.0, alpha),
    )


def make_identity() -> Activation:
    """``none``: the lab's "without activation functions" experiment."""
    return Activation("none", lambda z: z, np.ones_like)


def make_softmax() -> Activation:
    """softmax: K output units, one per class, for ``loss=cross_entropy`` (or ``mse`` on
    one-hot targets). Its layer keeps the logits z (the identity here, derivative 1): the
    loss takes the softmax from the logits by log-sum-exp, as PyTorch's ``cross_entropy``
    does, and :meth:`nnsweep.nn.mlp.MLP.predict` gives the probabilities. An output
    activation only: a hidden layer cannot take it."""
    return Activation("softmax", lambda z: z, np.ones_like)


def softmax(logits: Array, axis: int = -1) -> Array:
    """exp(z) / sum exp(z) along ``axis``, shifted by the largest z first: never overflows."""
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits: Array, axis: int = -1) -> Array:
    """log softmax(z) by log-sum-exp: z - max - log sum exp(z - max), finite for finite z."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "sigmoid": make_sigmoid,
    "tanh": make_tanh,
    "relu": make_relu,
    "leaky_relu": make_leaky_relu,
    "none": make_identity,
}


# The output layer takes any hidden activation, or softmax.
OUTPUT_ACTIVATIONS: dict[str, Callable[..., Activation]] = {**ACTIVATIONS, "softmax": make_softmax}


def make_activation(name: str, **params: float) -> Activation:
    """The activation ``name`` with its hyperparameters (only ``leaky_relu`` has one: ``alpha``)."""
    factory = lookup(ACTIVATIONS, name, "activation")
    return replace(factory(**params), settings=settings_of(factory, **params))


def make_output_activation(name: str, **params: float) -> Activation:
    """An output layer's activation: any of :data:`ACTIVATIONS`, or ``softmax``."""
    factory = lookup(OUTPUT_ACTIVATIONS, name, "output_activation")
    return replace(factory(**params), settings=settings_of(factory, **params))
