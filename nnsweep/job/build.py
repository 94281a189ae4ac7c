"""Everything one job trains, built from its config: data, network, parameters, optimizer,
loss and engine. Everything is built before any training, so a bad value fails first, and
a job too large for the memory is refused before anything is allocated."""

from dataclasses import dataclass

import numpy as np
from omegaconf import DictConfig

from nnsweep.data import make_dataset
from nnsweep.engines import Engine, get_engine
from nnsweep.engines.history import History, LogHook, Recording, TrainSettings
from nnsweep.engines.schedule import recorded_epochs, snapshot_epochs
from nnsweep.job.preflight import preflight
from nnsweep.job.schema import arguments, hyperparameters, layer_sizes
from nnsweep.nn.activations import make_activation, make_output_activation
from nnsweep.nn.losses import LossFn, get_loss
from nnsweep.nn.mlp import MLP
from nnsweep.nn.optimizers import Optimizer, make_optimizer


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
    train: Engine  # nnsweep.engines.numpy_loop.train or its compiled twin
    recording: Recording  # what training records besides the loss, held-out data among it
    x_test: np.ndarray | None = None  # (n_test, 2), with dataset.test_n > 0
    y_test: np.ndarray | None = None  # (n_test, 1)

    def run(self, on_log: LogHook | None = None) -> History:
        """Train every replicate with the job's engine; ``on_log(epoch, loss)`` is called
        every ``settings.log_every`` epochs."""
        e = self
        return e.train(
            e.net, e.params, e.optimizer, e.loss_fn, e.x, e.y, e.settings, e.rngs, on_log,
            e.recording,
        )  # fmt: skip


def build(cfg: DictConfig) -> Experiment:
    """Build the job from ``cfg``; raise ConfigError naming the field for any bad value."""
    preflight(cfg)
    rng = np.random.default_rng(cfg.seed)
    x, y = make_dataset(cfg.dataset.name, rng, **arguments(cfg.dataset, "dataset"))
    # one seed per replicate, drawn after the data: replicate r is the same whatever R is
    seeds = [int(s) for s in rng.integers(2**63, size=cfg.replicates)]
    x_test, y_test = held_out(cfg)
    rngs = [np.random.default_rng(s) for s in seeds]
    sizes = layer_sizes(cfg)
    hidden = make_activation(cfg.activation.name, **hyperparameters(cfg.activation))
    net = MLP(sizes, hidden, make_output_activation(cfg.output_activation.name))
    optimizer = make_optimizer(cfg.optimizer.name, cfg.lr, **hyperparameters(cfg.optimizer))
    settings = TrainSettings(cfg.epochs, cfg.loss_threshold, cfg.batch_size, cfg.log_every)
    params = net.init(rngs, cfg.init.name)
    engine = get_engine(cfg.engine.name, cfg.blas_threads)
    loss_fn = get_loss(cfg.loss.name, net.softmax)
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
