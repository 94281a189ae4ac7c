"""What an engine is given and returns, the same for both (nnsweep.engines.numpy_loop and
nnsweep.engines.compiled): how to train, what to record, and the History of a training."""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np

from nnsweep.nn.losses import LossFn
from nnsweep.nn.mlp import MLP, accuracy, confusion

Array = np.ndarray
LogHook = Callable[[int, Array], None]


@dataclass(frozen=True)
class TrainSettings:
    """How to train. The lab's values are conf/config.yaml's (a job builds its settings from
    its config); from Python, say the cap and the threshold."""

    epochs: int  # at most this many epochs
    loss_threshold: float  # a replicate stops once its loss is below this
    batch_size: int | None = None  # None: the full batch, one update per epoch
    log_every: int | None = None  # on_log's period in epochs; None: on_log is never called


@dataclass(frozen=True)
class Recording:
    """What training records besides every epoch's loss: at the epochs ``epochs``, the
    accuracy, each layer's weight-gradient norm and mean |f'(z)|, and the loss and accuracy
    on held-out data (``x_test``, ``y_test``) when given; at the end of the epochs
    ``snapshots`` (increasing), every replicate's parameters."""

    epochs: Collection[int] = ()
    snapshots: Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    x_test: Array | None = None  # (n_test, in)
    y_test: Array | None = None  # (n_test, 1)


NOTHING = Recording()


@dataclass
class History:
    """What training measured, per replicate r. Recorded rows are NaN once r has stopped."""

    loss: Array  # (E, R) full-data loss entering epoch e+1; NaN once r has stopped
    accuracy: dict[int, Array]  # epoch -> (R,) accuracy, at the recorded epochs
    epochs_run: Array  # (R,) int
    converged: Array  # (R,) bool: loss went below the threshold
    diverged: Array  # (R,) bool: loss turned non-finite
    seconds: Array  # (R,) wall time until r stopped
    params: Array  # (R, P) final parameters
    final_loss: Array  # (R,) loss of the final parameters
    final_accuracy: Array  # (R,)
    # epoch -> (R, L, 2): per layer the norm of d loss / d weight and the mean |f'(z)| over
    # its units and samples, of the parameters entering the epoch
    layers: dict[int, Array] = field(default_factory=dict)
    # (R, L, 2) the same at each replicate's last epoch, recorded there or not
    final_layers: Array | None = None
    test: dict[int, Array] = field(default_factory=dict)  # epoch -> (R, 2): held-out loss, accuracy
    final_test: Array | None = None  # (R, 2) of the final parameters, with held-out data
    # (R, K, K) of the final parameters, rows the true class, columns the predicted one: on
    # the training data, and on the held-out data when there is any
    final_confusion: Array = field(default_factory=lambda: np.zeros((0, 2, 2), np.int64))
    final_test_confusion: Array | None = None
    snapshot_epochs: Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (S,)
    # (S, R, P) the parameters at the end of each snapshot epoch; a replicate that had stopped
    # by then has its final parameters there
    snapshots: Array = field(default_factory=lambda: np.zeros((0, 0, 0)))


def evaluate(net: MLP, params: Array, loss_fn: LossFn, x: Array, y: Array) -> tuple[Array, Array]:
    """Loss and accuracy (R,) of every replicate on (x, y)."""
    with np.errstate(all="ignore"):
        output = net.forward(params, x)[-1]  # a softmax output's logits: the loss takes them
        loss, _ = loss_fn(output, y)
        return loss, accuracy(output, y)


def final_confusion(net: MLP, params: Array, x: Array, y: Array, classes: int) -> Array:
    """(R, K, K) confusion counts of every replicate on (x, y): rows true, columns predicted."""
    with np.errstate(all="ignore"):
        return confusion(net.forward(params, x)[-1], y, classes)
