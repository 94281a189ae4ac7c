"""What an engine gathers while it trains, under History's field names, and the History
made of it: the same for both engines, so that nothing downstream knows which one ran.

:class:`RecordBuffer` holds what both gather; the NumPy engine fills an
:class:`EpochRecordBuffer` epoch by epoch, the compiled engine a :class:`BlockRecordBuffer`
from each block of epochs the kernels ran.
"""

import time
from typing import NamedTuple

import numpy as np

from nnsweep.engines.history import History, Recording, evaluate, final_confusion
from nnsweep.nn.losses import LossFn
from nnsweep.nn.mlp import MLP, accuracy

Array = np.ndarray


class RecordBuffer:
    """History's fields of R replicates, as training fills them: when and why each stopped
    and its wall time; at the epochs ``recording.epochs`` rows of accuracy, layer
    statistics and held-out metrics (NaN for the replicates stopped by then); at the
    epochs ``recording.snapshots`` the parameters; each replicate's layer statistics at
    its last epoch."""

    def __init__(self, net: MLP, loss_fn: LossFn, recording: Recording, replicates: int):
        self.net, self.loss_fn, self.recording = net, loss_fn, recording
        r = replicates
        self.accuracy: dict[int, Array] = {}
        self.layers: dict[int, Array] = {}
        self.test: dict[int, Array] = {}
        self.snapshots = np.full((len(recording.snapshots), r, net.n_params), np.nan)
        self.final_layers = np.full((r, len(net.slots), 2), np.nan)
        self.epochs_run = np.zeros(r, dtype=np.int64)
        self.converged = np.zeros(r, dtype=bool)
        self.diverged = np.zeros(r, dtype=bool)
        self.seconds = np.zeros(r)

    def ran_to_the_cap(self, epochs: int, cols: slice | Array) -> None:
        """The replicates ``cols`` ran every one of the ``epochs``: their last epoch's layer
        statistics are the cap's recorded row, when the cap is a recorded epoch."""
        self.epochs_run[cols] = epochs
        if epochs in self.layers:
            self.final_layers[cols] = self.layers[epochs][cols]

    def history(self, x: Array, y: Array, loss: Array, params: Array) -> History:
        """The History of the finished training on (``x``, ``y``): the loss of every epoch
        (E, R) and the final ``params`` (R, P) with what was gathered here; the final loss,
        accuracy and held-out metrics measured now, and every snapshot at or after a
        replicate's stop set to its final parameters."""
        net, classes = self.net, self.net.classes
        final_loss, final_accuracy = evaluate(net, params, self.loss_fn, x, y)
        confusion = final_confusion(net, params, x, y, classes)
        recording, final_test, test_confusion = self.recording, None, None
        if recording.x_test is not None:
            test = evaluate(net, params, self.loss_fn, recording.x_test, recording.y_test)
            final_test = np.stack([test[0], np.where(self.diverged, np.nan, test[1])], axis=-1)
            test_confusion = final_confusion(net, params, recording.x_test, recording.y_test,
                                             classes)  # fmt: skip
        snapshot_epochs = np.asarray(recording.snapshots, dtype=np.int64)
        stopped = snapshot_epochs[:, None] >= self.epochs_run[None, :]  # (S, R)
        self.snapshots[stopped] = np.broadcast_to(params, self.snapshots.shape)[stopped]
        return History(
            loss=loss,
            accuracy=self.accuracy,
            epochs_run=self.epochs_run,
            converged=self.converged,
            diverged=self.diverged,
            seconds=self.seconds,
            params=params,
            final_loss=final_loss,
            # a diverged network's outputs are NaN or inf: its accuracy means nothing
            final_accuracy=np.where(self.diverged, np.nan, final_accuracy),
            layers=self.layers,
            final_layers=self.final_layers,
            test=self.test,
            final_test=final_test,
            final_confusion=confusion,
            final_test_confusion=test_confusion,
            snapshot_epochs=snapshot_epochs,
            snapshots=self.snapshots,
        )


class EpochRecordBuffer(RecordBuffer):
    """The NumPy engine's: the loss rows grow in chunks; a replicate's results are written
    as it stops, the recorded rows at their epochs."""

    CHUNK = 4096

    def __init__(self, net: MLP, loss_fn: LossFn, recording: Recording, params: Array):
        super().__init__(net, loss_fn, recording, len(params))
        self.rows = np.full((self.CHUNK, len(params)), np.nan)
        self.params = params.copy()
        self.start = time.perf_counter()

    def loss(self, epoch: int, cols: slice | Array, loss: Array) -> None:
        if epoch > len(self.rows):
            grow = np.full((max(len(self.rows), self.CHUNK), self.rows.shape[1]), np.nan)
            self.rows = np.vstack([self.rows, grow])
        self.rows[epoch - 1, cols] = loss

    def record_epoch(
        self,
        epoch: int,
        cols: slice | Array,
        params: Array,
        outputs: list[Array],
        grad: Array,
        y: Array,
    ) -> None:
        """The accuracy, the layers' statistics and the held-out loss and accuracy of the
        replicates ``cols`` (``params``, with forward's ``outputs`` and the loss gradient
        ``grad``) entering ``epoch``; NaN for the others."""
        self.accuracy[epoch] = self._row(cols, accuracy(outputs[-1], y))
        self.layers[epoch] = self._row(cols, self.net.layer_statistics(params, outputs, grad))
        if self.recording.x_test is not None:
            r = self.recording
            held_out = evaluate(self.net, params, self.loss_fn, r.x_test, r.y_test)
            self.test[epoch] = self._row(cols, np.stack(held_out, axis=-1))

    def _row(self, cols: slice | Array, values: Array) -> Array:
        """``values`` of the training replicates in a row of all R, NaN for stopped ones."""
        row = np.full((len(self.epochs_run), *values.shape[1:]), np.nan)
        row[cols] = values
        return row

    def stop(
        self, epoch: int, cols: Array, params: Array, converged: Array, diverged: Array
    ) -> None:
        self.epochs_run[cols] = epoch
        self.converged[cols] = converged
        self.diverged[cols] = diverged
        self.seconds[cols] = time.perf_counter() - self.start
        self.params[cols] = params

    def last_layers(self, cols: Array, params: Array, outputs: list[Array], grad: Array) -> None:
        """The layer statistics of the replicates ``cols`` stopping now, at their last epoch."""
        self.final_layers[cols] = self.net.layer_statistics(params, outputs, grad)


class BlockOut(NamedTuple):
    """The arrays the kernels write a block of epochs into (passed as a plain tuple)."""

    loss: Array  # (epochs, R), row epoch - first
    slots: Array  # (epochs,) each epoch's row in the recorded arrays; -1: not recorded
    accuracy: Array  # (K, R)
    layers: Array  # (K, R, L, 2)
    test: Array  # (K, R, 2)
    last_layers: Array  # (R, L, 2): RecordBuffer.final_layers itself


class BlockRecordBuffer(RecordBuffer):
    """The compiled engine's: the kernels write each block of epochs into the arrays
    :meth:`block` hands them, and :meth:`keep` files them by epoch; the parameters are
    kept at the snapshot epochs, where blocks end."""

    def __init__(
        self, net: MLP, loss_fn: LossFn, recording: Recording, replicates: int, epochs: int
    ):
        super().__init__(net, loss_fn, recording, replicates)
        self.asked = np.array(sorted(e for e in recording.epochs if 1 <= e <= epochs), np.int64)
        self.snapshot_epochs = np.asarray(recording.snapshots, dtype=np.int64)
        self.losses: list[Array] = []

    def block_end(self, first: int, last: int) -> int:
        """``last``, or the first snapshot epoch from ``first`` on if that comes sooner."""
        k = np.searchsorted(self.snapshot_epochs, first)
        return min(last, int(self.snapshot_epochs[k])) if k < len(self.snapshot_epochs) else last

    def block(self, first: int, last: int) -> BlockOut:
        """The arrays for epochs ``first`` to ``last``, NaN where a replicate does not run."""
        asked = self._asked(first, last)
        slots = np.full(last - first + 1, -1, dtype=np.int64)
        slots[asked - first] = np.arange(len(asked))
        r, k, layers = len(self.epochs_run), len(asked), self.final_layers.shape[1]
        return BlockOut(np.full((last - first + 1, r), np.nan), slots, np.full((k, r), np.nan),
                        np.full((k, r, layers, 2), np.nan), np.full((k, r, 2), np.nan),
                        self.final_layers)  # fmt: skip

    def keep(self, first: int, last: int, out: BlockOut, params: Array) -> None:
        """The block's losses, its recorded rows by epoch, and the parameters at the end of
        the block if that is a snapshot epoch."""
        self.losses.append(out.loss)
        for k, epoch in enumerate(self._asked(first, last).tolist()):
            self.accuracy[epoch], self.layers[epoch] = out.accuracy[k], out.layers[k]
            if self.recording.x_test is not None:
                self.test[epoch] = out.test[k]
        k = np.searchsorted(self.snapshot_epochs, last)
        if k < len(self.snapshot_epochs) and self.snapshot_epochs[k] == last:
            self.snapshots[k] = params

    def _asked(self, first: int, last: int) -> Array:
        lo, hi = np.searchsorted(self.asked, [first, last + 1])
        return self.asked[lo:hi]

    def history_of_blocks(self, x: Array, y: Array, params: Array) -> History:
        """:meth:`RecordBuffer.history` of the blocks' losses and recorded rows, up to the
        last epoch any replicate ran (a block may end past every stop)."""
        last = int(self.epochs_run.max())
        for rows in (self.accuracy, self.layers, self.test):
            for epoch in [e for e in rows if e > last]:
                del rows[epoch]
        return super().history(x, y, np.concatenate(self.losses)[:last], params)
