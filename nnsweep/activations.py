"""Activations, each beside its derivative.

As in the lab, every derivative is written in terms of the layer's output
``a = f(z)``, not its input: back-propagation keeps the outputs of the
forward pass, so nothing is recomputed.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnsweep.registry import lookup

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """``fn(z)`` and ``grad_from_output(a)``, where ``a = fn(z)`` and the result is dfn/dz."""

    name: str
    fn: Callable[[Array], Array]
    grad_from_output: Callable[[Array], Array]


def sigmoid(z: Array) -> Array:
    """1 / (1 + exp(-z)) as exp(-log(1 + exp(-z))): no overflow for any finite z."""
    return np.exp(-np.logaddexp(0.0, -z))


def make_sigmoid() -> Activation:
    return Activation("sigmoid", sigmoid, lambda a: a * (1.0 - a))


def make_tanh() -> Activation:
    return Activation("tanh", np.tanh, lambda a: 1.0 - a * a)


def make_relu() -> Activation:
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


ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    "sigmoid": make_sigmoid,
    "tanh": make_tanh,
    "relu": make_relu,
    "leaky_relu": make_leaky_relu,
    "none": make_identity,
}


def make_activation(name: str, **params: float) -> Activation:
    """The activation ``name`` with its hyperparameters (only ``leaky_relu`` has one: ``alpha``)."""
    return lookup(ACTIVATIONS, name, "activation")(**params)
