"""Optimizers as two pure functions: ``init(params) -> state`` and
``update(grads, state, params) -> (params, state)``.

Every operation is element-wise, so parameters may have any shape; nnsweep
passes one flat (R, P) array per run. Array fields of a state share the
parameters' shape (leading replicate axis R); ``count`` is a plain int.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from nnsweep.bounds import RATE, Range, finite, require
from nnsweep.registry import lookup, settings_of

Array = np.ndarray


class Optimizer(NamedTuple):
    init: Callable[[Array], Any]
    update: Callable[[Array, Any, Array], tuple[Array, Any]]
    # what make_optimizer made it from: its name and every argument (lr included)
    name: str = ""
    settings: Mapping[str, float] = MappingProxyType({})


class NoState(NamedTuple):
    pass


class VelocityState(NamedTuple):
    velocity: Array


class SquaresState(NamedTuple):
    squares: Array


class AdamState(NamedTuple):
    count: int
    mu: Array
    nu: Array


# Every optimizer hyperparameter's range, the one table: the config is checked against it
# before a sweep runs (nnsweep.job.ranges), and each optimizer when it is made.
HYPERPARAMETER_RANGES: dict[str, Range] = {
    "lr": finite(0, low_open=True),
    "beta": RATE,
    "beta1": RATE,
    "beta2": RATE,
    "decay": RATE,
    "eps": finite(0, low_open=True),  # a stabiliser; large values make the step lr g / eps
}


def _check(**hyperparameters: float) -> None:
    for name, value in hyperparameters.items():
        require(name, value, HYPERPARAMETER_RANGES[name])


def gd(lr: float) -> Optimizer:
    """Plain gradient descent: W <- W - lr g."""
    _check(lr=lr)
    return Optimizer(lambda params: NoState(), lambda g, state, w: (w - lr * g, state))


def momentum(lr: float, beta: float = 0.9) -> Optimizer:
    """The report's momentum: V <- beta V - lr g; W <- W + V; V starts at 0."""
    _check(lr=lr, beta=beta)

    def update(g: Array, state: VelocityState, w: Array) -> tuple[Array, VelocityState]:
        v = beta * state.velocity - lr * g
        return w + v, VelocityState(v)

    return Optimizer(lambda params: VelocityState(np.zeros_like(params)), update)


def nesterov(lr: float, beta: float = 0.9) -> Optimizer:
    """Nesterov momentum in the look-ahead form (Sutskever et al. 2013):
    V <- beta V - lr g; W <- W + beta V - lr g."""
    _check(lr=lr, beta=beta)

    def update(g: Array, state: VelocityState, w: Array) -> tuple[Array, VelocityState]:
        v = beta * state.velocity - lr * g
        return w + beta * v - lr * g, VelocityState(v)

    return Optimizer(lambda params: VelocityState(np.zeros_like(params)), update)


def adagrad(lr: float, eps: float = 1e-8) -> Optimizer:
    """The report's adagrad: n <- n + g^2; W <- W - lr g / sqrt(n + eps); n starts at 0."""
    _check(lr=lr, eps=eps)

    def update(g: Array, state: SquaresState, w: Array) -> tuple[Array, SquaresState]:
        n = state.squares + g * g
        return w - lr * g / np.sqrt(n + eps), SquaresState(n)

    return Optimizer(lambda params: SquaresState(np.zeros_like(params)), update)


def rmsprop(lr: float, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """s <- decay s + (1 - decay) g^2; W <- W - lr g / (sqrt(s) + eps); s starts at 0."""
    _check(lr=lr, decay=decay, eps=eps)

    def update(g: Array, state: SquaresState, w: Array) -> tuple[Array, SquaresState]:
        s = decay * state.squares + (1.0 - decay) * g * g
        return w - lr * g / (np.sqrt(s) + eps), SquaresState(s)

    return Optimizer(lambda params: SquaresState(np.zeros_like(params)), update)


def adam(lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam with bias correction (Kingma & Ba 2015, Algorithm 1)."""
    _check(lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    def init(params: Array) -> AdamState:
        return AdamState(0, np.zeros_like(params), np.zeros_like(params))

    def update(g: Array, state: AdamState, w: Array) -> tuple[Array, AdamState]:
        t = state.count + 1
        mu = beta1 * state.mu + (1.0 - beta1) * g
        nu = beta2 * state.nu + (1.0 - beta2) * g * g
        mu_hat, nu_hat = mu / (1.0 - beta1**t), nu / (1.0 - beta2**t)
        return w - lr * mu_hat / (np.sqrt(nu_hat) + eps), AdamState(t, mu, nu)

    return Optimizer(init, update)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "gd": gd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


def make_optimizer(name: str, lr: float, **hyperparameters: float) -> Optimizer:
    """The optimizer ``name`` at learning rate ``lr`` with its named hyperparameters."""
    factory = lookup(OPTIMIZERS, name, "optimizer")
    made = factory(lr, **hyperparameters)
    return made._replace(name=name, settings=settings_of(factory, lr, **hyperparameters))


def select_replicates(state: Any, keep: Array) -> Any:
    """The state of the replicates ``keep`` (an index or mask on the leading axis)."""
    return type(state)(*(f[keep] if isinstance(f, np.ndarray) else f for f in state))
