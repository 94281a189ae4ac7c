"""What is checked before a job allocates anything: its fields' ranges, the memory it
would take, the disk its files would take, and the cores it may use."""

import logging
import os
import resource
import shutil
from enum import Enum
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from nnsweep.data import make_dataset
from nnsweep.engines.schedule import ORDER_ENTRIES_PER_BLOCK, recorded_epochs, snapshot_epochs
from nnsweep.errors import ConfigError
from nnsweep.job.ranges import check
from nnsweep.job.schema import layer_sizes

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
    parts, limit = memory_parts(cfg), available_memory()
    needed = sum(size for size, _ in parts.values())
    if limit is not None and needed > limit:
        largest = max(parts, key=lambda part: parts[part][0])
        size, fields = parts[largest]
        raise ConfigError(
            f"{shown_fields(cfg, fields)} needs about "
            f"{needed / 1e9:,.1f} GB, {size / needed:.0%} of it {largest}; allowed: at most the "
            f"{limit / 1e9:,.1f} GB of memory available"
        )


def shown_fields(cfg: DictConfig, fields: tuple[str, ...]) -> str:
    """``field=value, ...`` as the command line writes them (an enum's name: engine=numba)."""
    values = [OmegaConf.select(cfg, f) for f in fields]
    return ", ".join(
        f"{f}={v.name if isinstance(v, Enum) else v}" for f, v in zip(fields, values, strict=True)
    )


def estimate_bytes(cfg: DictConfig) -> int:
    """The bytes a job will hold at once, from its config alone (Python integers: no
    overflow), generously: a job refused by it would not have fitted."""
    return sum(size for size, _ in memory_parts(cfg).values())


def memory_parts(cfg: DictConfig) -> dict[str, tuple[int, tuple[str, ...]]]:
    """:func:`estimate_bytes` by part: its bytes and the fields that make it large."""
    n = cfg.dataset.n if "n" in cfg.dataset else len(make_dataset(cfg.dataset.name, None)[0])
    n += cfg.dataset.get("test_n", 0)
    sizes = layer_sizes(cfg)
    weights = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    r, epochs = cfg.replicates, cfg.epochs
    layers, recorded = len(sizes) - 1, len(recorded_epochs(epochs))
    network = ("hidden_units", "hidden_layers", "replicates")
    if sizes[-1] > 1:  # a softmax's units, one per class
        network += ("dataset.classes",)
    data = ("dataset.n", "dataset.test_n") if "n" in cfg.dataset else ()
    # params, gradients, two optimizer states, initial, final; then the snapshots
    parameters = 8 * 8 * r * weights + 8 * r * weights * len(snapshot_epochs(epochs, cfg.snapshots))
    # every layer's outputs for all replicates at once, as the final loss is evaluated; the
    # NumPy engine's backward pass holds about 0.8 as much again (measured in
    # tests/test_config.py: its peak varied from 569 to 617 MB where this says 634)
    activations = (1.8 if cfg.engine.name == "numpy" else 1) * 8 * r * n * sum(sizes)
    history = 2 * 8 * r * epochs  # the loss of every epoch, and its copy when the blocks join
    # at the recorded epochs: accuracy, held-out loss and accuracy, two numbers per layer
    history += 8 * r * recorded * (3 + 2 * layers)
    table = 100 * r * recorded * (1 + layers)  # loss.csv's and layers.csv's rows, twice
    # the compiled engine draws the minibatch orders of a block of epochs at once, the next
    # block's while the last block's are still held: two blocks' at the peak
    orders = 2 * 8 * max(min(r * epochs * n, ORDER_ENTRIES_PER_BLOCK), r * n)
    activations = int(activations)
    return {
        "the parameters and snapshots": (parameters, (*network, "snapshots")),
        "the activations": (activations, (*network, *data, "engine")),
        "the loss history": (history, ("replicates", "epochs")),
        "the loss.csv and layers.csv tables": (table, ("replicates", "epochs", "hidden_layers")),
        "the minibatch orders": (
            orders if cfg.batch_size is not None else 0,
            ("replicates", "epochs", *data),
        ),
    }


def available_memory() -> int | None:
    """Bytes this process can still allocate: the kernel's MemAvailable, lowered to what a
    cgroup (a container's memory limit) and the process's own limits (``ulimit -v``,
    ``ulimit -d``) leave; None where none can be read."""
    limits = _process_limits()
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


def _process_limits() -> list[int]:
    """What ``setrlimit`` leaves: the address-space limit less the address space in use,
    and the data-segment limit less the data in use (/proc/self/status)."""
    try:
        status = Path("/proc/self/status").read_text().split("\n")
    except OSError:
        return []
    used = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in status if "kB" in line}
    limits = []
    for limit, in_use in ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData")):
        soft = resource.getrlimit(limit)[0]
        if soft != resource.RLIM_INFINITY:
            limits.append(soft - used.get(in_use, 0))
    return limits


LOG_LINE_BYTES = 110  # an "Epoch N loss : ..." line of nnsweep.log, its prefix included
CSV_ROW_BYTES = 60  # a loss.csv or layers.csv row at %.10g


def disk_parts(cfg: DictConfig) -> dict[str, tuple[int, tuple[str, ...]]]:
    """The bytes a job writes, by file, generously, and the fields that make each large."""
    sizes = layer_sizes(cfg)
    weights = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    r, recorded = cfg.replicates, len(recorded_epochs(cfg.epochs))
    snapshots = len(snapshot_epochs(cfg.epochs, cfg.snapshots))
    return {
        "nnsweep.log": (LOG_LINE_BYTES * (cfg.epochs // cfg.log_every), ("epochs", "log_every")),
        "loss.csv": (CSV_ROW_BYTES * r * recorded, ("replicates", "epochs")),
        "layers.csv": (CSV_ROW_BYTES * r * recorded * (len(sizes) - 1), ("replicates", "epochs")),
        "params.npz": (4096 + 8 * r * weights * (3 + snapshots), ("replicates", "snapshots")),
    }


def check_disk(cfg: DictConfig, job_dir: Path) -> None:
    """Raise ConfigError if the job's files would not fit on ``job_dir``'s file system."""
    parts, free = disk_parts(cfg), shutil.disk_usage(job_dir).free
    needed = sum(size for size, _ in parts.values())
    if needed > free:
        largest = max(parts, key=lambda part: parts[part][0])
        size, fields = parts[largest]
        raise ConfigError(
            f"{', '.join(f'{f}={cfg[f]}' for f in fields)} would write about {_size(needed)}, "
            f"{largest} {_size(size)} of it; allowed: at most the {_size(free)} free in {job_dir}"
        )


def _size(count: int) -> str:
    return f"{count / 1e9:,.1f} GB" if count >= 1e8 else f"{count / 1e6:,.1f} MB"
