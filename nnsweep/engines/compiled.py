"""The compiled engine: :func:`nnsweep.engines.numpy_loop.train`'s loop, run by numba
(:mod:`nnsweep.engines.kernels`).

It takes the same arguments and returns the same :class:`~nnsweep.engines.history.History`, so
nothing downstream knows which engine ran. The epochs run inside compiled code in
blocks; between blocks Python logs the lab's lines, moves the progress bar and lets
Ctrl-C and SIGTERM through. A block grows until it takes about BLOCK_SECONDS.

Compiled code is cached on disk (numba's ``cache=True``: ``__pycache__`` beside the
package, or a user cache folder where that is not writable; ``NUMBA_CACHE_DIR``
overrides both), so only the first run on a machine pays the compilation.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from nnsweep.engines import compile_ahead, kernels
from nnsweep.engines.history import NOTHING, History, LogHook, Recording, TrainSettings
from nnsweep.engines.record_buffer import BlockRecordBuffer
from nnsweep.engines.schedule import ORDER_ENTRIES_PER_BLOCK
from nnsweep.nn.activations import make_activation
from nnsweep.nn.losses import LOSSES, LossFn
from nnsweep.nn.mlp import MLP
from nnsweep.nn.optimizers import Optimizer, make_optimizer

Array = np.ndarray
BLOCK_SECONDS = 0.1  # Python gets control back about this often
COMPILE_NOTICE_SECONDS = 3.0  # a longer first call compiled, not loaded from the disk cache
LOADING_SECONDS = 1.5  # a first call still running after this is compiling: say so at once
log = logging.getLogger(__name__)
_IDENTITY = make_activation("none")


Network = tuple[Array, Array, Array, Array]  # sizes, weight offsets, activation codes, alphas


class Rule(NamedTuple):
    """The kernels' view of how a network trains (handed to them as a plain tuple)."""

    loss: int  # kernels.LOSS_CODES
    optimizer: int  # kernels.OPTIMIZER_CODES
    lr: float
    h: Array  # (3,) the optimizer's hyperparameters, in kernels.OPTIMIZER_SLOTS' order
    threshold: float  # the loss a replicate stops below
    batch: int  # the minibatch size; 0: the full batch


def describe_network(net: MLP) -> Network:
    """The kernels' view of a network: its layer sizes, where each layer starts in a row of
    parameters, and each layer's activation code and alpha."""
    offsets = np.array([slot.weight.start for slot in net.slots], dtype=np.int64)
    codes = np.array([kernels.ACTIVATION_CODES[a.name] for a in net.activations], np.int64)
    alphas = np.array([a.settings.get("alpha", 0.0) for a in net.activations], dtype=float)
    return np.array(net.sizes, dtype=np.int64), offsets, codes, alphas


def describe_rule(optimizer: Optimizer, loss_fn: LossFn, settings: TrainSettings, n: int) -> Rule:
    """The kernels' view of how a network trains: codes, learning rate, hyperparameters,
    threshold and batch size (0: the full batch)."""
    if optimizer.name not in kernels.OPTIMIZER_CODES:
        raise ValueError(f"the compiled engine needs an optimizer made by name, not {optimizer}")
    h = np.zeros(3)
    slots = [optimizer.settings[key] for key in kernels.OPTIMIZER_SLOTS[optimizer.name]]
    h[: len(slots)] = slots
    batch = settings.batch_size if settings.batch_size and settings.batch_size < n else 0
    return Rule(
        kernels.LOSS_CODES[loss_name(loss_fn)],
        kernels.OPTIMIZER_CODES[optimizer.name],
        float(optimizer.settings["lr"]),
        h,
        float(settings.loss_threshold),
        int(batch),
    )


def loss_name(loss_fn: LossFn) -> str:
    """The kernels' name of a loss function (nnsweep.nn.losses: LOSSES or ON_LOGITS)."""
    return loss_fn.__name__


class _State(NamedTuple):
    params: Array  # (R, P), trained in place; a stopped replicate's stay as they were
    s1: Array  # (R, P) optimizer state: velocity, squares or first moment
    s2: Array  # (R, P) adam's second moment
    steps: Array  # (R,) updates taken
    status: Array  # (R,) kernels.RUNNING, CONVERGED or DIVERGED
    stopped_at: Array  # (R,) the epoch it stopped at

    @classmethod
    def start(cls, params: Array) -> "_State":
        params = np.array(params, dtype=float, order="C")  # a copy: the caller's stay
        r = len(params)
        zeros = np.zeros(r, dtype=np.int64)
        return cls(params, np.zeros_like(params), np.zeros_like(params), zeros, zeros.copy(),
                   zeros.copy())  # fmt: skip


# the same signature as numpy_loop.train, written out: an engine is either, by name
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
    threads: int = 1,
) -> History:
    """Train as :func:`nnsweep.engines.numpy_loop.train` does, compiled; ``threads`` > 1 trains the
    replicates on that many threads at once."""
    if rngs is None:
        rngs = [np.random.default_rng(r) for r in range(len(params))]
    network, rule = describe_network(net), describe_rule(optimizer, loss_fn, settings, len(x))
    state = _State.start(params)
    train_data, test_data = _samples_last(x, y), _samples_last(*_test_data(recording, x))
    record = BlockRecordBuffer(net, loss_fn, recording, len(params), settings.epochs)
    kernel, compiled = _kernel(threads, len(params))
    loading = not compiled.signatures  # its first call loads it, or compiles it
    first, start = 1, time.perf_counter()
    size = _next_size(4, 0.0, len(x) * len(params), rule.batch)  # 16 epochs, or fewer
    while first <= settings.epochs and (state.status == kernels.RUNNING).any():
        last = record.block_end(first, min(first + size - 1, settings.epochs))
        running = state.status == kernels.RUNNING
        orders = _sample_orders(rngs, running, last - first + 1, len(x), rule.batch)
        out, data = record.block(first, last), (*train_data, orders, *test_data)
        began, notice = time.perf_counter(), _notice_if_compiling() if loading else None
        ahead = compile_ahead.start() if loading else None  # a first compile on two cores
        kernel(first, last, network, tuple(rule), data, tuple(state), tuple(out))
        took = time.perf_counter() - began
        compile_ahead.stop(ahead)
        if notice is not None:
            notice.cancel()
        if loading:  # the training clock starts after the loading
            start, loading = start + took, _say_if_compiled(took)
        record.keep(first, last, out, state.params)
        stopped = running & (state.status != kernels.RUNNING)
        # when in the block each stopped: the kernel has no clock, so its share of the block
        share = (state.stopped_at[stopped] - first + 1) / (last - first + 1)
        record.seconds[stopped] = began - start + took * share
        if on_log is not None and settings.log_every:
            _log_block(on_log, first, last, settings.log_every, out.loss, state)
        size = _next_size(last - first + 1, took, len(x) * len(params), rule.batch)
        first = last + 1
    running = state.status == kernels.RUNNING
    record.seconds[running] = time.perf_counter() - start
    record.epochs_run[:] = state.stopped_at
    record.ran_to_the_cap(settings.epochs, running)
    record.converged[:] = state.status == kernels.CONVERGED
    record.diverged[:] = state.status == kernels.DIVERGED
    return record.history_of_blocks(x, y, state.params)


def _samples_last(x: Array, y: Array) -> tuple[Array, Array]:
    """The kernels' layout of a data set: inputs (in, n) and targets (n,)."""
    return np.ascontiguousarray(x.T, dtype=float), np.ascontiguousarray(y[:, 0], dtype=float)


def _test_data(recording: Recording, x: Array) -> tuple[Array, Array]:
    """The held-out data, or none: (0, in) and (0, 1)."""
    if recording.x_test is None:
        return np.zeros((0, x.shape[1])), np.zeros((0, 1))
    return recording.x_test, recording.y_test


def _notice_if_compiling() -> threading.Timer:
    """A timer that tells the user, while the first call is still running, that it is
    compiling: a cache load takes under a second, a compile 6-8 s on a 2-core machine, and a
    newcomer's first run would otherwise sit silent for all of it."""
    notice = threading.Timer(LOADING_SECONDS, log.info, args=(
        "compiling the training kernels for this machine (only a first run does this; it "
        "takes about ten seconds)...",))  # fmt: skip
    notice.daemon = True
    notice.start()
    return notice


def _say_if_compiled(seconds: float) -> bool:
    """Tell a first-time user why the first run waited; False, for the caller's flag."""
    if seconds > COMPILE_NOTICE_SECONDS:
        log.info(f"compiled the training kernels in {seconds:.0f} s, once for this machine")
    return False


def _kernel(threads: int, replicates: int) -> tuple[Callable[..., None], Any]:
    """The block's trainer, and the compiled function whose first call loads or compiles:
    over numba's threads when more than one is asked for and useful."""
    if threads > 1 and replicates > 1:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        return kernels.train_block_parallel, kernels.train_block_parallel
    return _train_each, kernels.train_replicate


def _train_each(first, last, network, rule, data, state, out) -> None:
    """Epochs ``first`` to ``last`` of every replicate still running, one after another
    (the arguments of kernels.train_block_parallel)."""
    _params, _s1, _s2, _steps, status, _stopped_at = state
    for r in np.flatnonzero(status == kernels.RUNNING):
        kernels.train_replicate(r, first, last, network, rule, data, state, out)


def _sample_orders(
    rngs: list[np.random.Generator], running: Array, epochs: int, n: int, batch: int
) -> Array:
    """(R, epochs, n): each running replicate's sample order for each epoch, drawn from its
    own generator exactly as the NumPy engine draws them (one permutation per epoch)."""
    if not batch:
        return np.zeros((len(rngs), 0, 0), dtype=np.int64)
    orders = np.zeros((len(rngs), epochs, n), dtype=np.int64)
    for r in np.flatnonzero(running):
        orders[r] = rngs[r].permuted(np.broadcast_to(np.arange(n), (epochs, n)), axis=1)
    return orders


def _next_size(size: int, took: float, work: int, batch: int) -> int:
    """The next block's epochs: about BLOCK_SECONDS long, growing at most fourfold, and for
    minibatches few enough that their sample orders stay small."""
    wanted = size * 4 if took <= 0 else int(size * BLOCK_SECONDS / took)
    wanted = max(1, min(wanted, size * 4))
    return min(wanted, max(1, ORDER_ENTRIES_PER_BLOCK // work)) if batch else wanted


def _log_block(
    on_log: LogHook, first: int, last: int, every: int, losses: Array, state: _State
) -> None:
    """The NumPy engine's on_log calls for the block: at every ``every``-th epoch, the loss
    of the replicates still training after that epoch's stop test."""
    stopped_at = np.where(state.status == kernels.RUNNING, np.iinfo(np.int64).max, state.stopped_at)
    for epoch in range(-(-first // every) * every, last + 1, every):
        training = stopped_at > epoch
        if training.any():
            on_log(epoch, losses[epoch - first, training])


def warm_up(parallel: bool = False) -> None:
    """Compile the kernels, or load them from the disk cache, on a one-epoch run. A sweep
    calls it before its jobs start, so parallel workers find the cache written and load it
    rather than each compiling its own."""
    net = MLP((1, 1), *[_IDENTITY] * 2)
    x, y = np.zeros((2, 1)), np.zeros((2, 1))
    optimizer = make_optimizer("gd", 0.1)
    replicates, threads = (2, 2) if parallel else (1, 1)
    params = np.zeros((replicates, net.n_params))
    train(
        net,
        params,
        optimizer,
        LOSSES["mse"],
        x,
        y,
        TrainSettings(epochs=1, loss_threshold=0.0),
        threads=threads,
    )
