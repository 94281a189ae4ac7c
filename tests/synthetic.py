"""Job folders written the way a job writes them (result.json, loss.csv, .hydra/config.yaml,
and on request layers.csv and held-out results), from a few numbers per replicate: the
report's tests need no real sweep."""

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from nnsweep.engines import schedule
from nnsweep.job import csv_tables, hydra_files, result_json
from nnsweep.report.layers import LAYERS_CSV

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
    job_dir: Path,
    cfg: dict[str, Any],
    epochs: list[int],
    status: str = "complete",
    gradient: tuple[float, float] | None = None,
    test_accuracy: float | None = None,
) -> Path:
    """A job of one replicate per entry of ``epochs``: a replicate that ran fewer epochs than
    the cap converged, its loss falling from 0.25 to the threshold; one at the cap missed.

    ``gradient``: (layer-1 gradient norm, mean |f'| of layer 1) at epoch 1: then a
    layers.csv too (:func:`layers_rows`). ``test_accuracy``: then held-out results, the
    test loss 1.5 times the training loss."""
    job_dir.mkdir(parents=True)
    hydra = job_dir / hydra_files.HYDRA_CONFIG
    hydra.parent.mkdir()
    OmegaConf.save(OmegaConf.create(cfg), hydra)
    result: dict[str, Any] = {"status": status, "config": cfg, "overrides": []}
    if status != "complete":
        result_json.write_result({**result, "error": "ConfigError: refused"}, job_dir)
        return job_dir
    cap, tables, replicates = cfg["epochs"], [], []
    for r, last in enumerate(epochs):
        kept = schedule.recorded_epochs(cap)
        kept = np.union1d(kept[kept <= last], [last])
        final = cfg["loss_threshold"] * (0.99 if last < cap else 20)
        loss = 0.25 * (final / 0.25) ** ((kept - 1) / max(last - 1, 1))
        table = pd.DataFrame({"replicate": r, "epoch": kept, "loss": loss, "accuracy": 1.0})
        replicate = {"replicate": r, "seed": r, "final_loss": loss[-1], "final_accuracy": 1.0}
        replicate |= {"epochs": last, "converged": last < cap, "diverged": False, "seconds": 0.1}
        if test_accuracy is not None:
            table = table.assign(test_loss=1.5 * loss, test_accuracy=test_accuracy)
            replicate |= {"final_test_loss": 1.5 * loss[-1], "final_test_accuracy": test_accuracy}
        tables.append(table)
        replicates.append(replicate)
    csv_tables.write_loss_csv(pd.concat(tables, ignore_index=True), job_dir)
    if gradient is not None:
        layers = layers_rows(cap, epochs, cfg["hidden_layers"] + 1, *gradient)
        layers.to_csv(job_dir / LAYERS_CSV, index=False, float_format="%.10g")
    result_json.write_result({**result, "replicates": replicates}, job_dir)
    return job_dir


def layers_rows(
    cap: int, epochs: list[int], layers: int, norm: float, derivative: float
) -> pd.DataFrame:
    """layers.csv's rows: at the recorded epochs each replicate ran, every layer. Layer 1's
    gradient norm falls from ``norm`` to a tenth of it by epoch 1,000 (replicate r's is
    1 + r/10 times that); layer l's is 2**(l-1) times layer 1's; the mean |f'| is
    ``derivative`` on every layer, falling by a fifth over the run."""
    rows = []
    for r, last in enumerate(epochs):
        kept = schedule.recorded_epochs(cap)
        kept = kept[kept <= last]
        layer_1 = norm * (1 + r / 10) / np.sqrt(1 + 99 * np.minimum(kept, 1000) / 1000)
        for layer in range(1, layers + 1):
            rows.append(
                pd.DataFrame(
                    {"replicate": r, "epoch": kept, "layer": layer}
                    | {"grad_norm": layer_1 * 2 ** (layer - 1)}
                    | {"mean_abs_derivative": derivative * (1 - 0.2 * kept / last)}
                )
            )
    return pd.concat(rows, ignore_index=True).sort_values(["replicate", "epoch", "layer"])
