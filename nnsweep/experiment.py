"""Everything one job trains, built from its config: data, network, parameters, optimizer,
loss and engine. Everything is built before any training, so a bad value fails first, and a
job too large for the memory is refused before anything is allocated."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from nnsweep.activations import make_activation
from nnsweep.config import ConfigError, arguments, check, hyperparameters
from nnsweep.data import make_dataset
from nnsweep.engines import ORDER_ENTRIES_PER_BLOCK, Engine, get_engine
from nnsweep.history import Recording, TrainSettings
from nnsweep.losses import LossFn, get_loss
from nnsweep.network import MLP
from nnsweep.optimizers import Optimizer, make_optimizer
from nnsweep.records import recorded_epochs, snapshot_epochs


@dataclass
class Experiment:
    """Everything one job trains, built from its config."""

    x: np.ndarray  # (n, 2)
    y: np.ndarray  # (n, 1)
    net: MLP
    params: np.ndarray  # (R, P)
    rngs: list[np.random.Generator]
    seeds: list[int]
    optimizer: Optimizer
    loss_fn: LossFn
    settings: TrainSettings
    train: Engine  # nnsweep.train.train or its compiled twin
    recording: Recording  # what training records besides the loss, held-out data among it
    x_test: np.ndarray | None = None  # (n_test, 2), with dataset.test_n > 0
    y_test: np.ndarray | None = None  # (n_test, 1)


def build(cfg: DictConfig) -> Experiment:
    """Build the job from ``cfg``; raise ConfigError naming the field for any bad value."""
    preflight(cfg)
    rng = np.random.default_rng(cfg.seed)
    x, y = make_dataset(cfg.dataset.name, rng, **arguments(cfg.dataset, "dataset"))
    # one seed per replicate, drawn after the data: replicate r is the same whatever R is
    seeds = [int(s) for s in rng.integers(2**63, size=cfg.replicates)]
    x_test, y_test = held_out(cfg)
    rngs = [np.random.default_rng(s) for s in seeds]
    sizes = (x.shape[1],) + (cfg.hidden_units,) * cfg.hidden_layers + (1,)
    hidden = make_activation(cfg.activation.name, **hyperparameters(cfg.activation))
    net = MLP(sizes, hidden, make_activation(cfg.output_activation.name))
    optimizer = make_optimizer(cfg.optimizer.name, cfg.lr, **hyperparameters(cfg.optimizer))
    settings = TrainSettings(cfg.epochs, cfg.loss_threshold, cfg.batch_size, cfg.log_every)
    params = net.init(rngs, cfg.init.name)
    engine = get_engine(cfg.engine.name, cfg.blas_threads)
    loss_fn = get_loss(cfg.loss.name)
    recording = Recording(
        set(recorded_epochs(cfg.epochs).tolist()),
        snapshot_epochs(cfg.epochs, cfg.snapshots),
        x_test,
        y_test,
    )
    return Experiment(
        x, y, net, params, rngs, seeds, optimizer, loss_fn, settings, engine, recording,
        x_test, y_test,
    )  # fmt: skip


HELD_OUT_STREAM = 1  # the held-out points' own random stream, apart from the training set's


def held_out(cfg: DictConfig) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``dataset.test_n`` more points from the dataset's generator, or None: drawn from a
    stream of their own, so the training set and the replicates stay as without them."""
    if not cfg.dataset.get("test_n", 0):
        return None, None
    stream = np.random.SeedSequence(cfg.seed, spawn_key=(HELD_OUT_STREAM,))
    options = {**arguments(cfg.dataset, "dataset"), "n": cfg.dataset.test_n}
    return make_dataset(cfg.dataset.name, np.random.default_rng(stream), **options)


def preflight(cfg: DictConfig) -> None:
    """Every check made before anything is allocated: the fields (nnsweep.config.check),
    then the memory the job would take."""
    check(cfg)
    needed, limit = estimate_bytes(cfg), available_memory()
    if limit is not None and needed > limit:
        job = ", ".join(f"{k}={cfg[k]}" for k in ("hidden_units", "replicates", "epochs"))
        raise ConfigError(
            f"{job} needs about {needed / 1e9:,.1f} GB (parameters, optimizer state, "
            f"activations, loss history); allowed: at most the {limit / 1e9:,.1f} GB of "
            "memory available"
        )


def estimate_bytes(cfg: DictConfig) -> int:
    """The bytes a job will hold at once, from its config alone (Python integers: no
    overflow), generously: a job refused by it would not have fitted."""
    n = cfg.dataset.n if "n" in cfg.dataset else len(make_dataset(cfg.dataset.name, None)[0])
    sizes = (2,) + (cfg.hidden_units,) * cfg.hidden_layers + (1,)
    weights = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    r, epochs = cfg.replicates, cfg.epochs
    parameters = 8 * 8 * r * weights  # params, gradients, two optimizer states, initial, final
    snapshots = 8 * r * weights * len(snapshot_epochs(epochs, cfg.snapshots))
    n += cfg.dataset.get("test_n", 0)
    activations = 3 * 8 * r * n * sum(sizes)  # each layer's input, output and delta
    layers, recorded = len(sizes) - 1, len(recorded_epochs(epochs))
    history = 2 * 8 * r * epochs  # the loss of every epoch, and its copy when the blocks join
    # at the recorded epochs: accuracy, held-out loss and accuracy, two numbers per layer
    history += 8 * r * recorded * (3 + 2 * layers)
    table = 100 * r * recorded * (1 + layers)  # loss.csv's and layers.csv's rows, twice
    # the compiled engine draws the minibatch orders of a block of epochs at once
    orders = 8 * max(min(r * epochs * n, ORDER_ENTRIES_PER_BLOCK), r * n)
    orders = orders if cfg.batch_size is not None else 0
    return parameters + snapshots + activations + history + table + orders


def available_memory() -> int | None:
    """Bytes this process can still allocate: the kernel's MemAvailable, lowered to what a
    cgroup (a container's memory limit) leaves; None where neither can be read."""
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    cgroup = Path("/sys/fs/cgroup")
    try:
        maximum = (cgroup / "memory.max").read_text().strip()
        if maximum != "max":
            limits.append(int(maximum) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return min(limits, default=None)
