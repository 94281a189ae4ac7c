"""Losses: each returns its value per replicate and its gradient, means over samples.

A loss takes predictions and targets of shape (R, n, 1) (targets may be
(n, 1), broadcast over replicates) and returns ``(value, grad)``: ``value``
of shape (R,) and ``grad = d value / d prediction`` of the predictions' shape.
Value and gradient are the same function: the gradient check tests exactly this.

With a softmax output (K units), the network's last layer gives logits (R, n, K)
and the targets are class labels (n, 1) or (R, n, 1), integers 0..K-1: the loss
takes the softmax itself and its gradient is d value / d logits (:data:`ON_LOGITS`).
"""

from collections.abc import Callable

import numpy as np

from nnsweep.nn.activations import log_softmax
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


def _labels(labels: Array, shape: tuple[int, ...]) -> Array:
    """Class labels broadcast to logits' (R, n) and made integers for indexing: (R, n, 1)."""
    return np.broadcast_to(labels, (*shape[:-1], 1)).astype(np.intp)


def cross_entropy(logits: Array, labels: Array) -> tuple[Array, Array]:
    """Categorical cross-entropy -mean log p(true class), p = softmax(logits), as PyTorch's
    ``cross_entropy``: from the logits by log-sum-exp, so never log(0). Its gradient is the
    fused (softmax - onehot) / n, with no division by p."""
    log_p = log_softmax(logits)  # (R, n, K)
    n = logits.shape[-2]
    picked = _labels(labels, logits.shape)
    value = -np.take_along_axis(log_p, picked, axis=-1).sum(axis=(-2, -1)) / n
    grad = np.exp(log_p)
    np.put_along_axis(grad, picked, np.take_along_axis(grad, picked, axis=-1) - 1.0, axis=-1)
    grad /= n
    return value, grad


def softmax_mse(logits: Array, labels: Array) -> tuple[Array, Array]:
    """``mse`` of the softmax's probabilities against one-hot targets, mean over samples and
    units; its gradient taken back through the softmax: p (g - sum_k p_k g_k)."""
    log_p = log_softmax(logits)
    p = np.exp(log_p)
    onehot = np.zeros_like(p)
    np.put_along_axis(onehot, _labels(labels, logits.shape), 1.0, axis=-1)
    value, g = mse(p, onehot)
    return value, p * (g - (p * g).sum(axis=-1, keepdims=True))


LOSSES: dict[str, LossFn] = {"mse": mse, "bce": bce, "cross_entropy": cross_entropy}
# What each loss computes on a softmax output's logits and class labels.
ON_LOGITS: dict[str, LossFn] = {"mse": softmax_mse, "cross_entropy": cross_entropy}


def get_loss(name: str, softmax: bool = False) -> LossFn:
    """The loss ``name`` (``mse``, ``bce`` or ``cross_entropy``), on a softmax output's logits
    when ``softmax``; an unknown name raises, listing the valid ones."""
    return lookup(ON_LOGITS if softmax else LOSSES, name, "loss")
