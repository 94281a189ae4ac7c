"""The multilayer perceptron: parameters, forward pass with its outputs kept, backward pass.

All parameters of R replicate networks live in one flat array of shape (R, P);
:meth:`MLP.unpack` gives each layer's weight (R, in, out) and bias (R, 1, out)
as views into it, so an optimizer updates every parameter in one operation
and ``np.matmul`` broadcasts the replicate axis: R networks train in one pass.

Inside the passes, samples run along the last axis: a layer's activations are
(R, out, n), and callers get them as (R, n, out) through ``.mT``, a transposed view
that costs nothing. Layers are narrow (4 units in the lab): laid out (R, n, out),
adding the bias or summing over samples works through n rows of 4 numbers; with
samples last it works through rows of n numbers, and the activations see whole
contiguous arrays: the faster layout of the two.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nnsweep.nn.activations import Activation, softmax
from nnsweep.registry import lookup

Array = np.ndarray


@dataclass(frozen=True)
class LayerSlot:
    """Where one layer's weight and bias sit in a row of the flat parameter array."""

    fan_in: int
    fan_out: int
    weight: slice
    bias: slice


def _normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> tuple[Array, Array]:
    # the lab's initialisation: every weight, the bias row included, from N(0, 1)
    return rng.standard_normal((fan_in, fan_out)), rng.standard_normal(fan_out)


def _xavier(rng: np.random.Generator, fan_in: int, fan_out: int) -> tuple[Array, Array]:
    # Glorot & Bengio (2010), normal form: std sqrt(2 / (in + out)), zero bias
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(scale=std, size=(fan_in, fan_out)), np.zeros(fan_out)


def _he(rng: np.random.Generator, fan_in: int, fan_out: int) -> tuple[Array, Array]:
    # He et al. (2015): std sqrt(2 / in), for ReLU layers; zero bias
    return rng.normal(scale=np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)), np.zeros(fan_out)


INITS: dict[str, Callable[[np.random.Generator, int, int], tuple[Array, Array]]] = {
    "normal": _normal,
    "xavier": _xavier,
    "he": _he,
}


class MLP:
    """Fully connected layers of ``sizes`` (e.g. (2, 4, 4, 1)): ``hidden`` on every hidden
    layer, ``output`` on the last."""

    def __init__(self, sizes: Sequence[int], hidden: Activation, output: Activation) -> None:
        self.sizes = tuple(int(s) for s in sizes)
        if hidden.name == "softmax":
            raise ValueError("softmax is an output activation only; hidden layers take another")
        # softmax: the last layer keeps its logits; the loss and predict take the softmax
        self.softmax = output.name == "softmax"
        self.activations = [hidden] * (len(self.sizes) - 2) + [output]
        self.slots: list[LayerSlot] = []
        offset = 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            w_end, end = offset + fan_in * fan_out, offset + (fan_in + 1) * fan_out
            self.slots.append(LayerSlot(fan_in, fan_out, slice(offset, w_end), slice(w_end, end)))
            offset = end
        self.n_params = offset
        # the last parameters unpacked, with their views, and the ones the bias gradients
        # need: see unpack and _ones
        self._unpacked: tuple[Array | None, list[tuple[Array, Array]]] = (None, [])
        self._ones_row = np.ones(0)

    @property
    def classes(self) -> int:
        """The classes its outputs tell apart: a softmax's K units, or 2 for one unit."""
        return self.sizes[-1] if self.softmax else 2

    def init(self, rngs: Sequence[np.random.Generator], scheme: str = "normal") -> Array:
        """Parameters (R, P) for R = len(rngs) replicates, replicate r drawn from ``rngs[r]``."""
        draw = lookup(INITS, scheme, "init")
        rows = [
            np.concatenate([p.ravel() for s in self.slots for p in draw(rng, s.fan_in, s.fan_out)])
            for rng in rngs
        ]
        return np.stack(rows)

    def unpack(self, params: Array) -> list[tuple[Array, Array]]:
        """Views (weight (R, in, out), bias (R, 1, out)) of every layer.

        The views of the last array asked for are kept and handed out again: a training
        step unpacks the same parameters in forward and in backward, and at the lab's sizes
        making the views costs about as much as one layer's arithmetic. Views follow any
        in-place change to ``params``, so a kept one is never stale. The list is shared:
        read it, do not change it.
        """
        if params is not self._unpacked[0]:
            views = [(_weight_view(params, s), params[:, None, s.bias]) for s in self.slots]
            self._unpacked = (params, views)
        return self._unpacked[1]

    def _ones(self, n: int) -> Array:
        """(n,) ones, the input every bias multiplies; made again only when n changes."""
        if len(self._ones_row) != n:
            self._ones_row = np.ones(n)
            self._ones_row.flags.writeable = False  # shared by every backward
        return self._ones_row

    def forward(self, params: Array, x: Array) -> list[Array]:
        """The input and every layer's output (R, n, out); the last is the prediction
        (R, n, 1). ``x`` is (n, in), shared by all replicates, or (R, n, in)."""
        outputs, a = [x], x.mT  # a: (in, n) or (R, in, n), samples last
        for (weight, bias), activation in zip(self.unpack(params), self.activations, strict=True):
            z = weight.mT @ a  # (R, out, n)
            z += bias.mT  # (R, out, 1): one number per row of samples
            a = activation.fn(z)
            outputs.append(a.mT)  # (R, n, out), a view
        return outputs

    def backward(self, params: Array, outputs: list[Array], grad_prediction: Array) -> Array:
        """d loss / d params (R, P) from forward's ``outputs`` and d loss / d prediction."""
        grads = np.empty_like(params)
        layers = self.unpack(params)  # the views forward made, when params are the same
        ones = self._ones(grad_prediction.shape[-2])  # (n,)
        incoming = grad_prediction.mT  # dL/d(layer output), samples last: (R, out, n)
        for i in reversed(range(len(self.slots))):
            delta = self.activations[i].grad_from_output(outputs[i + 1].mT)  # a new array
            delta *= incoming  # dL/dz (R, out, n)
            s = self.slots[i]  # grads is new each call: views of it are not worth keeping
            # (R, in, n) @ (R, n, out) = (R, in, out)
            np.matmul(outputs[i].mT, delta.mT, out=_weight_view(grads, s))
            # a bias is a weight on an input fixed at 1: its gradient sums delta over the
            # samples, here as a product with ones, which BLAS does faster than np.sum
            np.matmul(delta, ones, out=grads[:, s.bias])  # (R, out, n) @ (n,) = (R, out)
            if i:
                incoming = layers[i][0] @ delta  # (R, in, out) @ (R, out, n) = (R, in, n)
        return grads

    def predict(self, params: Array, x: Array) -> Array:
        """The outputs (R, n, K): with a softmax output, each class's probability."""
        last = self.forward(params, x)[-1]
        return softmax(last) if self.softmax else last

    def layer_statistics(
        self, params: Array, outputs: list[Array], grad_prediction: Array
    ) -> Array:
        """(R, L, 2): per layer the norm of d loss / d weight (its bias left out) and the
        mean |f'(z)| over its units and samples: where back-propagation's signal shrinks."""
        grads = self.backward(params, outputs, grad_prediction)
        norms = [np.linalg.norm(grads[:, s.weight], axis=1) for s in self.slots]
        slopes = [
            np.abs(f.grad_from_output(a)).mean(axis=(-2, -1))
            for f, a in zip(self.activations, outputs[1:], strict=True)
        ]
        return np.stack([np.stack(norms, axis=1), np.stack(slopes, axis=1)], axis=-1)


def _weight_view(flat: Array, s: LayerSlot) -> Array:
    """The weight (R, in, out) of the layer at ``s``, a view into a flat (R, P) array."""
    return flat[:, s.weight].reshape(len(flat), s.fan_in, s.fan_out)


def predicted_class(prediction: Array) -> Array:
    """The class each output says, (R, n, K) -> (R, n): the argmax of K > 1 units (logits or
    probabilities alike); one unit says class 1 above 0.5, the argmax of (1 - p, p)."""
    if prediction.shape[-1] == 1:
        return (prediction[..., 0] > 0.5).astype(np.int64)
    return prediction.argmax(axis=-1)


def accuracy(prediction: Array, labels: Array) -> Array:
    """Share of samples whose predicted class is the label, per replicate: (R, n, K), labels
    (n, 1) -> (R,)."""
    return (predicted_class(prediction) == labels[..., 0]).mean(axis=-1)


def confusion(prediction: Array, labels: Array, classes: int) -> Array:
    """(R, K, K) counts: row the true class, column the predicted one. Targets that are not
    class labels 0..K-1 (a regression's, from Python) are left out."""
    predicted = predicted_class(prediction)  # (R, n)
    target = np.broadcast_to(labels[..., 0], predicted.shape)
    truth = target.astype(np.int64)
    valid = (truth == target) & (truth >= 0) & (truth < classes)
    flat = truth * classes + predicted  # each (true, predicted) pair one bin
    counts = [
        np.bincount(row[ok], minlength=classes**2) for row, ok in zip(flat, valid, strict=True)
    ]
    return np.stack(counts).reshape(len(flat), classes, classes)
