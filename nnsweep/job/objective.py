"""What a job returns for a Hydra sweeper to minimise, by name (``cfg.objective``)."""

from collections.abc import Callable, Sequence

import numpy as np
from omegaconf import DictConfig

from nnsweep.job.result_json import ReplicateResult
from nnsweep.registry import lookup

DIVERGED_PENALTY = 100  # a diverged replicate counts as this many times the epoch cap


def _final_losses(replicates: Sequence[ReplicateResult]) -> np.ndarray:
    return np.array([np.inf if r["final_loss"] is None else r["final_loss"] for r in replicates])


def mean_final_loss(cfg: DictConfig, replicates: Sequence[ReplicateResult]) -> float:
    """The mean final loss; infinite if any replicate diverged."""
    return float(_final_losses(replicates).mean())


def mean_epochs(cfg: DictConfig, replicates: Sequence[ReplicateResult]) -> float:
    """The mean epochs to reach the loss threshold. A replicate that never reached it counts
    as ``epochs * (1 + log10(final_loss / threshold))``, so it ranks after every replicate
    that did, the nearer misses first; a diverged one counts as ``100 * epochs``."""
    threshold = cfg.loss_threshold
    ratio = np.maximum(_final_losses(replicates), threshold) / max(threshold, 1e-300)
    miss = cfg.epochs * (1 + np.log10(ratio))
    scores = [
        r["epochs"] if r["converged"] else DIVERGED_PENALTY * cfg.epochs if r["diverged"] else m
        for r, m in zip(replicates, miss, strict=True)
    ]
    return float(np.mean(scores))


Objective = Callable[[DictConfig, Sequence[ReplicateResult]], float]
OBJECTIVES: dict[str, Objective] = {"loss": mean_final_loss, "epochs": mean_epochs}


def objective(cfg: DictConfig, replicates: Sequence[ReplicateResult]) -> float:
    """The value of ``cfg.objective`` for a job's replicates."""
    return lookup(OBJECTIVES, cfg.objective.name, "objective")(cfg, replicates)
