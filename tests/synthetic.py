"""Job folders written the way a job writes them (result.json, loss.csv, .hydra/config.yaml),
from a few numbers per replicate: the report's tests need no real sweep."""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from nnsweep import records

BASE = {
    "dataset": {"name": "xor"},
    "activation": {"name": "sigmoid"},
    "optimizer": {"name": "gd"},
    "loss": {"name": "mse"},
    "lr": 0.01,
    "hidden_units": 4,
    "hidden_layers": 2,
    "output_activation": "sigmoid",
    "epochs": 1000,
    "loss_threshold": 0.001,
    "batch_size": None,
    "init": "normal",
    "seed": 0,
    "replicates": 1,
    "log_every": 100,
}


def config(**fields: Any) -> dict[str, Any]:
    """BASE with ``fields`` (``dataset="linear"`` sets the dataset's name)."""
    groups = {"dataset", "activation", "optimizer", "loss"}
    return {**BASE, **{k: {"name": v} if k in groups else v for k, v in fields.items()}}


def write_job(
    job_dir: Path, cfg: dict[str, Any], epochs: list[int], status: str = "complete"
) -> Path:
    """A job of one replicate per entry of ``epochs``: a replicate that ran fewer epochs than
    the cap converged, its loss falling from 0.25 to the threshold; one at the cap missed."""
    job_dir.mkdir(parents=True)
    hydra = job_dir / records.HYDRA_CONFIG
    hydra.parent.mkdir()
    OmegaConf.save(OmegaConf.create(cfg), hydra)
    result: dict[str, Any] = {"status": status, "config": cfg, "overrides": []}
    if status != "complete":
        records.write_result({**result, "error": "ConfigError: refused"}, job_dir)
        return job_dir
    cap, tables, replicates = cfg["epochs"], [], []
    for r, last in enumerate(epochs):
        kept = records.recorded_epochs(cap)
        kept = np.union1d(kept[kept <= last], [last])
        final = cfg["loss_threshold"] * (0.99 if last < cap else 20)
        loss = 0.25 * (final / 0.25) ** ((kept - 1) / max(last - 1, 1))
        tables.append(pd.DataFrame({"replicate": r, "epoch": kept, "loss": loss, "accuracy": 1.0}))
        replicates.append(
            {"replicate": r, "seed": r, "final_loss": loss[-1], "final_accuracy": 1.0}
            | {"epochs": last, "converged": last < cap, "diverged": False, "seconds": 0.1}
        )
    records.write_loss_csv(pd.concat(tables, ignore_index=True), job_dir)
    records.write_result({**result, "replicates": replicates}, job_dir)
    return job_dir
