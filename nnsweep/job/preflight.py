"""What is checked before a job allocates anything: its fields' ranges, the memory it
would take, and the cores it may use."""

import logging
import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from nnsweep.data import make_dataset
from nnsweep.engines.schedule import ORDER_ENTRIES_PER_BLOCK, recorded_epochs, snapshot_epochs
from nnsweep.errors import ConfigError
from nnsweep.job.ranges import check

log = logging.getLogger(__name__)


def cpu_count() -> int:
    """The cores this process may run on (its affinity, as a container or taskset sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cap_blas_threads(cfg: Any) -> None:
    """More BLAS (or replicate) threads than cores only slows a job: warn, and use the cores."""
    cores = cpu_count()
    if cfg.blas_threads > cores:
        log.warning(f"blas_threads={cfg.blas_threads} exceeds the {cores} cores; using {cores}")
        cfg.blas_threads = cores


def preflight(cfg: DictConfig) -> None:
    """Every check made before anything is allocated: the fields (nnsweep.job.ranges.check),
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
