"""The training loop: pure computation, no files.

Epoch ``e`` evaluates the full-data loss of the parameters entering it; a
replicate whose loss is below the threshold stops there (converged, its
parameters kept), one whose loss is not finite stops as diverged; every
other replicate then takes its update step(s). Stopped replicates leave the
working arrays, so the rest train at the cost of the replicates still going.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnsweep.engines.history import NOTHING, History, LogHook, Recording, TrainSettings
from nnsweep.engines.record_buffer import EpochRecordBuffer
from nnsweep.nn.losses import LossFn
from nnsweep.nn.mlp import MLP
from nnsweep.nn.optimizers import Optimizer, select_replicates

Array = np.ndarray


@dataclass
class _Active:
    """The replicates still training: their columns in the results, parameters, optimizer
    state and shuffling generators."""

    cols: Array
    params: Array
    state: Any
    rngs: list[np.random.Generator]

    def keep(self, mask: Array) -> None:
        self.cols, self.params = self.cols[mask], self.params[mask]
        self.state = select_replicates(self.state, mask)
        self.rngs = [rng for rng, k in zip(self.rngs, mask, strict=True) if k]


Step = Callable[[_Active, list[Array], Array], None]


def _full_batch_step(net: MLP, optimizer: Optimizer) -> Step:
    def step(active: _Active, outputs: list[Array], grad: Array) -> None:
        grads = net.backward(active.params, outputs, grad)
        active.params, active.state = optimizer.update(grads, active.state, active.params)

    return step


def _minibatch_step(
    net: MLP, optimizer: Optimizer, loss_fn: LossFn, x: Array, y: Array, size: int
) -> Step:
    def step(active: _Active, outputs: list[Array], grad: Array) -> None:
        # the full-data outputs and gradient measured the epoch's loss; minibatches make
        # their own, so those two go unused here
        order = np.stack([rng.permutation(len(x)) for rng in active.rngs])  # (R, n)
        for start in range(0, len(x), size):
            batch = order[:, start : start + size]  # (R, b): each replicate its own batch
            batch_outputs = net.forward(active.params, x[batch])
            _, batch_grad = loss_fn(batch_outputs[-1], y[batch])
            grads = net.backward(active.params, batch_outputs, batch_grad)
            active.params, active.state = optimizer.update(grads, active.state, active.params)

    return step


def train(
    net: MLP,
    params: Array,
    optimizer: Optimizer,
    loss_fn: LossFn,
    x: Array,
    y: Array,
    settings: TrainSettings,
    rngs: list[np.random.Generator] | None = None,
    on_log: LogHook | None = None,
    recording: Recording = NOTHING,
) -> History:
    """Train the R replicates in ``params`` (R, P) on ``x`` (n, in) and ``y`` (n, 1).

    ``rngs`` (one per replicate) shuffle the minibatches; ``on_log(epoch, loss)`` is
    called every ``settings.log_every`` epochs (if set) with the loss of the replicates
    still training; ``recording`` says what else is recorded, and when.
    """
    if rngs is None:
        rngs = [np.random.default_rng(r) for r in range(len(params))]
    if settings.batch_size is None or settings.batch_size >= len(x):
        step = _full_batch_step(net, optimizer)
    else:
        step = _minibatch_step(net, optimizer, loss_fn, x, y, settings.batch_size)
    snapshot_at = {int(e): k for k, e in enumerate(recording.snapshots)}
    record = EpochRecordBuffer(net, loss_fn, recording, params)
    active = _Active(np.arange(len(params)), params, optimizer.init(params), list(rngs))
    cols: slice | Array = slice(None)  # a plain slice is the fast path while all train
    threshold, log_every = settings.loss_threshold, settings.log_every
    with np.errstate(all="ignore"):  # divergence is read from the loss, not from warnings
        for epoch in range(1, settings.epochs + 1):
            outputs = net.forward(active.params, x)
            loss, grad = loss_fn(outputs[-1], y)
            record.loss(epoch, cols, loss)
            if epoch in recording.epochs:
                record.record_epoch(epoch, cols, active.params, outputs, grad, y)
            # the test every epoch pays, kept cheap: Python's min and sum over R numbers beat
            # two numpy reductions; a NaN or inf anywhere makes the sum non-finite (a sum
            # that merely overflows costs one exact look in _stop_finished, which stops none)
            values = loss.tolist()
            if min(values) < threshold or not math.isfinite(sum(values)):
                keep = _stop_finished(record, epoch, active, loss, threshold)
                stopping = ~keep
                record.last_layers(active.cols[stopping], active.params[stopping],
                                   _replicates(outputs, stopping), grad[stopping])  # fmt: skip
                if not keep.any():
                    break
                active.keep(keep)
                cols, loss, grad = active.cols, loss[keep], grad[keep]
                outputs = _replicates(outputs, keep)
            if on_log is not None and log_every and epoch % log_every == 0:
                on_log(epoch, loss)
            step(active, outputs, grad)
            if epoch in snapshot_at:
                record.snapshots[snapshot_at[epoch], active.cols] = active.params
        else:
            unfinished = np.zeros(len(active.cols), dtype=bool)
            record.stop(settings.epochs, active.cols, active.params, unfinished, unfinished)
            record.ran_to_the_cap(settings.epochs, active.cols)
    loss_rows = record.rows[: int(record.epochs_run.max())].copy()
    return record.history(x, y, loss_rows, record.params)


def _replicates(outputs: list[Array], mask: Array) -> list[Array]:
    """forward's outputs of the replicates ``mask``; the input x has no replicate axis."""
    return [out[mask] if out.ndim == 3 else out for out in outputs]


def _stop_finished(
    record: EpochRecordBuffer, epoch: int, active: _Active, loss: Array, threshold: float
) -> Array:
    """Record the replicates whose loss is below the threshold or not finite; return the
    mask of those that go on."""
    converged, diverged = loss < threshold, ~np.isfinite(loss)
    stopping = converged | diverged
    record.stop(
        epoch,
        active.cols[stopping],
        active.params[stopping],
        converged[stopping],
        diverged[stopping],
    )
    return ~stopping


def format_epoch_line(epoch: int, loss: Array) -> str:
    """The lab's progress line, ``Epoch 100 loss : 0.24310``; for several replicates the
    mean, then the range and how many are still training."""
    if len(loss) == 1:
        return f"Epoch {epoch} loss : {loss[0]:.5f}"
    return (
        f"Epoch {epoch} loss : {loss.mean():.5f} "
        f"(min {loss.min():.5f}, max {loss.max():.5f}, {len(loss)} training)"
    )
