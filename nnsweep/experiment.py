"""Everything one job trains, built from its config: data, network, parameters, optimizer,
loss and engine. Everything is built before any training, so a bad value fails first, and a
job too large for the memory is refused before anything is allocated."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from nnsweep.activations import make_activation
from nnsweep.config import ConfigError, check, hyperparameters
from nnsweep.data import make_dataset
from nnsweep.engines import ORDER_ENTRIES_PER_BLOCK, Engine, get_engine
from nnsweep.losses import LossFn, get_loss
from nnsweep.network import MLP
from nnsweep.optimizers import Optimizer, make_optimizer
from nnsweep.records import recorded_epochs
from nnsweep.train import TrainSettings


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


def build(cfg: DictConfig) -> Experiment:
    """Build the job from ``cfg``; raise ConfigError naming the field for any bad value."""
    preflight(cfg)
    rng = np.random.default_rng(cfg.seed)
    x, y = make_dataset(cfg.dataset.name, rng, **hyperparameters(cfg.dataset))
    # one seed per replicate, drawn after the data: replicate r is the same whatever R is
    seeds = [int(s) for s in rng.integers(2**63, size=cfg.replicates)]
    rngs = [np.random.default_rng(s) for s in seeds]
    sizes = (x.shape[1],) + (cfg.hidden_units,) * cfg.hidden_layers + (1,)
    hidden = make_activation(cfg.activation.name, **hyperparameters(cfg.activation))
    net = MLP(sizes, hidden, make_activation(cfg.output_activation.name))
    optimizer = make_optimizer(cfg.optimizer.name, cfg.lr, **hyperparameters(cfg.optimizer))
    settings = TrainSettings(cfg.epochs, cfg.loss_threshold, cfg.batch_size, cfg.log_every)
    params = net.init(rngs, cfg.init.name)
    engine = get_engine(cfg.engine.name, cfg.blas_threads)
    loss_fn = get_loss(cfg.loss.name)
    return Experiment(x, y, net, params, rngs, seeds, optimizer, loss_fn, settings, engine)


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
    parameters = 8 * 8 * r * weights  # params, gradients, two optimizer states, snapshots
    activations = 3 * 8 * r * n * sum(sizes)  # each layer's input, output and delta
    history = 2 * 8 * r * epochs  # loss and accuracy of every epoch
    table = 100 * r * len(recorded_epochs(epochs))  # loss.csv's rows, as a table and as text
    # the compiled engine draws the minibatch orders of a block of epochs at once
    orders = 8 * max(min(r * epochs * n, ORDER_ENTRIES_PER_BLOCK), r * n)
    orders = orders if cfg.batch_size is not None else 0
    return parameters + activations + history + table + orders


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
