"""Losses: each returns its value per replicate and its gradient, means over samples.

A loss takes predictions and targets of shape (R, n, 1) (targets may be
(n, 1), broadcast over replicates) and returns ``(value, grad)``: ``value``
of shape (R,) and ``grad = d value / d prediction`` of the predictions' shape.
Value and gradient are the same function: the gradient check tests exactly this.
"""

from collections.abc import Callable

import numpy as np

from nnsweep.registry import lookup

Array = np.ndarray
LossFn = Callable[[Array, Array], tuple[Array, Array]]

# BCE clips predictions this far from 0 and 1, so outputs of exactly 0 or 1 give
# a finite value and gradient (the gradient is exact everywhere inside the clip).
BCE_EPS = 1e-12


def mse(pred: Array, target: Array) -> tuple[Array, Array]:
    """mean((pred - target)^2) over samples; its exact gradient 2 (pred - target) / n."""
    diff = pred - target  # (R, n, 1)
    n = diff.shape[-2] * diff.shape[-1]
    flat = diff.reshape(len(diff), n)  # (R, n)
    value = np.vecdot(flat, flat) / n
    diff *= 2.0 / n  # diff is ours: it becomes the gradient in place
    return value, diff


def bce(pred: Array, target: Array) -> tuple[Array, Array]:
    """Binary cross-entropy -mean(t log p + (1 - t) log(1 - p)), p clipped to [eps, 1 - eps]."""
    p = np.clip(pred, BCE_EPS, 1.0 - BCE_EPS)
    n = p.shape[-2] * p.shape[-1]
    value = -(target * np.log(p) + (1.0 - target) * np.log1p(-p)).sum(axis=(-2, -1)) / n
    return value, (p - target) / (p * (1.0 - p) * n)


LOSSES: dict[str, LossFn] = {"mse": mse, "bce": bce}


def get_loss(name: str) -> LossFn:
    """The loss ``name`` (``mse`` or ``bce``); an unknown name raises, listing the valid ones."""
    return lookup(LOSSES, name, "loss")
