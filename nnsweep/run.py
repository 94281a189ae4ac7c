"""One job: from a composed config to its files.

Everything is built up front (data, network, loss, optimizer), so a bad
value fails before any training; then the network trains, and the job's
files are written: loss.csv, result.json and three figures.
"""

import logging
import platform
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from threadpoolctl import threadpool_info, threadpool_limits

from nnsweep import __version__, plots, records
from nnsweep.activations import make_activation
from nnsweep.config import PRESENTATION_FIELDS, check, hyperparameters
from nnsweep.data import make_dataset
from nnsweep.engines import Engine, get_engine
from nnsweep.losses import LossFn, get_loss
from nnsweep.network import MLP
from nnsweep.optimizers import Optimizer, make_optimizer
from nnsweep.train import History, TrainSettings, format_epoch_line

log = logging.getLogger(__name__)


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


def run(
    cfg: DictConfig, job_dir: Path, progress: bool = False, overrides: list[str] | None = None
) -> float:
    """Train the job ``cfg`` and write its files into ``job_dir``; return its objective
    (:func:`objective`), the value a Hydra sweeper minimises.

    A job dir whose result.json is complete for the same config is skipped unless
    ``cfg.rerun``. While the job runs its result.json says ``running``; on any error it
    says ``failed`` with the error, and the error is raised again.
    """
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    base = {"version": __version__, "config": resolved(cfg), "overrides": list(overrides or [])}
    previous = previous_result(job_dir, base["config"], rerun=cfg.rerun)
    if previous is not None:
        log.info(f"{job_dir}: complete for the same config, skipped (rerun=true runs it again)")
        return objective(cfg, previous["replicates"])
    records.write_result({"status": "running", **base}, job_dir)
    try:
        experiment = build(cfg)
        with threadpool_limits(limits=cfg.blas_threads), _progress_bar(cfg.epochs, progress) as bar:
            base["environment"] = environment()
            history = _train(experiment, bar)
        replicates = replicate_results(experiment, history)
        write_job_files(cfg, experiment, history, job_dir, {**base, "replicates": replicates})
    except BaseException as error:  # KeyboardInterrupt too: the job must not look complete
        failure = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
        failure["traceback"] = traceback.format_exc()
        records.write_result({**failure, **base}, job_dir)
        raise
    log_summary(cfg, experiment, history)
    return objective(cfg, replicates)


class JobDirTaken(RuntimeError):
    """A job dir that holds a complete result of another config."""


def previous_result(job_dir: Path, config: dict[str, Any], rerun: bool) -> dict[str, Any] | None:
    """The complete result already in ``job_dir`` for ``config``, if there is one to keep."""
    try:
        previous = records.read_result(job_dir)
    except (OSError, ValueError):
        return None  # none yet, or unreadable: the job runs
    if previous.get("status") != "complete" or rerun:
        return None
    same = {k: v for k, v in config.items() if k not in PRESENTATION_FIELDS}
    if {k: v for k, v in previous["config"].items() if k not in PRESENTATION_FIELDS} != same:
        raise JobDirTaken(
            f"{job_dir} holds a complete result of another config; sweep into a new "
            "hydra.sweep.dir, or pass rerun=true to replace it"
        )
    return previous


def objective(cfg: DictConfig, replicates: list[dict[str, Any]]) -> float:
    """What the task returns for a sweeper to minimise, chosen by ``cfg.objective``:

    - ``loss``: the mean final loss; infinite if any replicate diverged.
    - ``epochs``: the mean epochs to reach the loss threshold. A replicate that never
      reached it counts as ``epochs * (1 + log10(final_loss / threshold))``, so it ranks
      after every replicate that did, the nearer misses first; a diverged one counts as
      ``100 * epochs``.
    """
    losses = np.array([np.inf if r["final_loss"] is None else r["final_loss"] for r in replicates])
    if cfg.objective.name == "loss":
        return float(losses.mean())
    miss = cfg.epochs * (
        1 + np.log10(np.maximum(losses, cfg.loss_threshold) / max(cfg.loss_threshold, 1e-300))
    )
    scores = [
        r["epochs"] if r["converged"] else 100 * cfg.epochs if r["diverged"] else m
        for r, m in zip(replicates, miss, strict=True)
    ]
    return float(np.mean(scores))


def environment() -> dict[str, Any]:
    """What the numbers were computed with: versions and the BLAS threads in force."""
    threads = [pool["num_threads"] for pool in threadpool_info()]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": max(threads, default=None),
    }


def resolved(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def _train(experiment: Experiment, bar: Any) -> History:
    e, every = experiment, experiment.settings.log_every

    def on_log(epoch: int, loss: np.ndarray) -> None:
        log.info(format_epoch_line(epoch, loss))
        if bar is not None:
            bar.update(every)

    keep = records.recorded_epochs(e.settings.epochs)
    return e.train(
        e.net,
        e.params,
        e.optimizer,
        e.loss_fn,
        e.x,
        e.y,
        e.settings,
        e.rngs,
        on_log,
        set(keep.tolist()),
    )


@contextmanager
def _progress_bar(total: int, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    with (
        logging_redirect_tqdm(),
        tqdm(total=total, unit="epoch", unit_scale=True, leave=False) as bar,
    ):
        yield bar


def write_job_files(
    cfg: DictConfig, e: Experiment, history: History, job_dir: Path, base: dict
) -> None:
    """loss.csv, the figures, then result.json last: a complete result means complete files.
    ``base`` is result.json's content but its status."""
    table = records.loss_table(history, records.recorded_epochs(cfg.epochs))
    records.write_loss_csv(table, job_dir)
    shown = representative_replicate(history)
    caption = _caption(cfg, shown, len(history.final_loss))
    prediction = _predict(e, history.params[shown : shown + 1], e.x)[0]
    plots.save(plots.prediction_figure(e.x, e.y, prediction, caption), job_dir / "prediction.png")
    plots.save(plots.learning_curve_figure(table, _caption(cfg)), job_dir / "learning_curve.png")
    grid_x, grid_y, output = _output_grid(e, history.params[shown : shown + 1])
    plots.save(
        plots.decision_boundary_figure(grid_x, grid_y, output, e.x, e.y, caption),
        job_dir / "decision_boundary.png",
    )
    records.write_result({"status": "complete", **base}, job_dir)


def replicate_results(e: Experiment, history: History) -> list[dict[str, Any]]:
    """Per replicate what result.json keeps, non-finite losses as None (JSON's null)."""
    rows = [
        {
            "replicate": r,
            "seed": e.seeds[r],
            "final_loss": history.final_loss[r],
            "final_accuracy": history.final_accuracy[r],
            "epochs": history.epochs_run[r],
            "converged": history.converged[r],
            "diverged": history.diverged[r],
            "seconds": history.seconds[r],
        }
        for r in range(len(e.seeds))
    ]
    return records.json_safe(rows)


def representative_replicate(history: History) -> int:
    """The replicate of median final loss (diverged ones count as worst): the one drawn."""
    loss = np.nan_to_num(history.final_loss, nan=np.inf)
    return int(np.argsort(loss, kind="stable")[(len(loss) - 1) // 2])


def _caption(cfg: DictConfig, shown: int | None = None, replicates: int = 1) -> str:
    text = (
        f"{cfg.dataset.name}, {cfg.hidden_layers}x{cfg.hidden_units} {cfg.activation.name}, "
        f"{cfg.optimizer.name} lr={cfg.lr}"
    )
    if shown is not None and replicates > 1:
        text += f"\nreplicate {shown} of {replicates} (median final loss)"
    return text


def _output_grid(e: Experiment, params: np.ndarray, steps: int = 200) -> tuple[np.ndarray, ...]:
    low, high = e.x.min(axis=0) - 0.1, e.x.max(axis=0) + 0.1
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps)
    )
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    return grid_x, grid_y, _predict(e, params, points)[0].reshape(grid_x.shape)


def _predict(e: Experiment, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # a diverged replicate's parameters may be inf or NaN
        return e.net.predict(params, x)


def log_summary(cfg: DictConfig, e: Experiment, history: History) -> None:
    """The lab's test print-out for one replicate; a short table for several."""
    if len(history.final_loss) == 1:
        if cfg.print_predictions:
            for i, p in enumerate(_predict(e, history.params, e.x)[0, :, 0]):
                log.info(f"Prediction {i}: {p:.5f}")
        log.info(f"loss={history.final_loss[0]:.5f} accuracy={history.final_accuracy[0]:.2%}")
        return
    log.info("replicate  final loss  accuracy   epochs  stopped")
    h = history
    for r, (loss, acc) in enumerate(zip(h.final_loss, h.final_accuracy, strict=True)):
        stopped = "converged" if h.converged[r] else "diverged" if h.diverged[r] else "epoch cap"
        log.info(f"{r:9d}  {loss:10.5f}  {acc:8.2%}  {h.epochs_run[r]:7d}  {stopped}")
