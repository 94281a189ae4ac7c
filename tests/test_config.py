"""Every option of every config group composes through Hydra and builds a job."""

import inspect

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from nnsweep.config import CONFIG_DIR, GROUPS, ConfigError, check, register
from nnsweep.experiment import build
from nnsweep.lab.experiments import names

register()

OPTIONS = [(group, name) for group, registry in GROUPS.items() for name in registry]


def compose_config(*overrides: str):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("config", overrides=list(overrides))


def test_defaults_are_the_reports_main_run():
    cfg = compose_config()
    assert cfg.dataset.name == "xor"
    assert (cfg.hidden_layers, cfg.hidden_units) == (2, 4)
    assert cfg.activation.name == "sigmoid" and cfg.output_activation.name == "sigmoid"
    assert (cfg.loss.name, cfg.optimizer.name, cfg.lr) == ("mse", "gd", 0.01)
    assert (cfg.epochs, cfg.loss_threshold, cfg.batch_size) == (1_000_000, 0.001, None)
    assert (cfg.init.name, cfg.seed, cfg.replicates, cfg.log_every) == ("normal", 0, 1, 100)


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_every_option_composes_and_builds(group, name):
    extra = ["output_activation=sigmoid"] if group == "loss" else []
    cfg = compose_config(f"{group}={name}", "replicates=2", *extra)
    assert cfg[group].name == name
    experiment = build(cfg)
    assert experiment.params.shape == (2, experiment.net.n_params)
    assert experiment.x.shape[1] == 2 and experiment.y.shape[1] == 1


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_yaml_values_match_the_engine_defaults(group, name):
    """conf/<group>/<name>.yaml shows each hyperparameter; it must equal the engine's default."""
    factory = GROUPS[group][name]
    node = OmegaConf.load(f"{CONFIG_DIR}/{group}/{name}.yaml")
    defaults = {} if factory is None else inspect.signature(factory).parameters
    for key, value in node.items():
        if key != "defaults":
            assert value == defaults[key].default, f"{group}/{name}.yaml: {key}"


@pytest.mark.parametrize("experiment", names())
def test_every_experiment_composes(experiment):
    cfg = compose_config(f"experiment={experiment}")
    assert cfg.replicates == 5
    assert cfg.dataset.name in ("linear", "xor")
    build(cfg)


def test_experiment_settings_override_the_defaults():
    cfg = compose_config("experiment=no_activation")
    assert (cfg.activation.name, cfg.lr, cfg.epochs) == ("none", 0.05, 100_000)
    cfg = compose_config("experiment=activations", "lr=0.5")  # the command line wins
    assert (cfg.optimizer.name, cfg.lr) == ("gd", 0.5)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (["lr=0"], "lr"),
        (["lr=-1"], "lr"),
        (["lr=nan"], "lr"),
        (["lr=inf"], "lr"),
        (["hidden_units=0"], "hidden_units"),
        (["hidden_layers=-1"], "hidden_layers"),
        (["epochs=0"], "epochs"),
        (["replicates=0"], "replicates"),
        (["loss_threshold=-0.1"], "loss_threshold"),
        (["batch_size=0"], "batch_size"),
        (["dataset=linear", "dataset.n=1"], "dataset.n"),
        (["dataset=circle", "dataset.noise=-1"], "dataset.noise"),
        (["optimizer=momentum", "optimizer.beta=1.5"], "optimizer.beta"),
        (["optimizer=adam", "optimizer.eps=0"], "optimizer.eps"),
        (["loss=bce", "output_activation=none"], "output_activation"),
    ],
)
def test_out_of_range_values_name_the_field(overrides, field):
    with pytest.raises(ConfigError, match=rf"^{field}\b.*allowed"):
        check(compose_config(*overrides))
