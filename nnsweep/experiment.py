"""Everything one job trains, built from its config: data, network, parameters, optimizer,
loss and engine. Everything is built before any training, so a bad value fails first."""

from dataclasses import dataclass

import numpy as np
from omegaconf import DictConfig

from nnsweep.activations import make_activation
from nnsweep.config import check, hyperparameters
from nnsweep.data import make_dataset
from nnsweep.engines import Engine, get_engine
from nnsweep.losses import LossFn, get_loss
from nnsweep.network import MLP
from nnsweep.optimizers import Optimizer, make_optimizer
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
    check(cfg)
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
