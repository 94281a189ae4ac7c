"""Every option of every config group composes through Hydra and builds a job."""

import inspect
import json
import os
import re
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from nnsweep.errors import ConfigError
from nnsweep.job import figures
from nnsweep.job.build import build
from nnsweep.job.conf_files import check_conf_files
from nnsweep.job.preflight import cap_blas_threads, cpu_count, estimate_bytes, preflight
from nnsweep.job.ranges import OPTION_RANGES, check
from nnsweep.job.run import run
from nnsweep.job.schema import CONFIG_DIR, GROUP_FIELDS, GROUPS, option_fields, register
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
    outputs = {"bce": "sigmoid", "cross_entropy": "softmax"}  # what each loss needs
    extra = [f"output_activation={outputs.get(name, 'sigmoid')}"] if group == "loss" else []
    cfg = compose_config(f"{group}={name}", "replicates=2", *extra)
    assert cfg[group].name == name
    experiment = build(cfg)
    assert experiment.params.shape == (2, experiment.net.n_params)
    assert experiment.x.shape[1] == 2 and experiment.y.shape[1] == 1


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_yaml_values_match_the_engine_defaults(group, name):
    """conf/<group>/<name>.yaml shows each hyperparameter; it must equal the engine's default
    (or the group's own field's, GROUP_FIELDS)."""
    factory = GROUPS[group][name]
    node = OmegaConf.load(f"{CONFIG_DIR}/{group}/{name}.yaml")
    parameters = {} if factory is None else inspect.signature(factory).parameters
    defaults = {key: p.default for key, p in parameters.items()}
    defaults |= {key: default for key, (_, default) in GROUP_FIELDS.get(group, {}).items()}
    for key, value in node.items():
        if key != "defaults":
            assert value == defaults[key], f"{group}/{name}.yaml: {key}"


@pytest.mark.parametrize("experiment", names())
def test_every_experiment_composes(experiment):
    cfg = compose_config(f"experiment={experiment}")
    if experiment == "spirals":  # beyond the lab: 3 classes, softmax, cross-entropy
        assert (cfg.dataset.name, cfg.dataset.classes, cfg.replicates) == ("spiral", 3, 3)
        assert (cfg.output_activation.name, cfg.loss.name) == ("softmax", "cross_entropy")
    else:  # the lab report's: 5 replicates on its two datasets
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


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["+optimiser=adam"],
            "optimiser='adam' is not a field of nnsweep's config; did you mean optimizer?",
        ),
        (
            ["+hidden_unit=8"],
            "hidden_unit=8 is not a field of nnsweep's config; did you mean hidden_units?",
        ),
        (
            ["+colour=1"],
            "colour=1 is not a field of nnsweep's config; allowed: dataset, activation",
        ),
        (
            ["+activation.alpha=0.1"],
            "activation.alpha=0.1 is not a field of activation=sigmoid; allowed: no fields "
            "(alpha is a field of activation=leaky_relu)",
        ),
        (
            ["optimizer=adam", "+optimizer.beta=0.9"],
            "optimizer.beta=0.9 is not a field of optimizer=adam; allowed: beta1, beta2, eps "
            "(beta is a field of optimizer=momentum, nesterov)",
        ),
    ],
)
def test_keys_added_with_plus_that_are_not_fields_are_refused(overrides, message):
    with pytest.raises(ConfigError) as refused:
        check(compose_config(*overrides))
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("overrides", "allowed"),
    [
        (["seed=-1"], "an integer from 0 to 9,223,372,036,854,775,807"),
        ([f"seed={2**63}"], "an integer from 0 to 9,223,372,036,854,775,807"),
        (["epochs=100000000000000000000"], "an integer from 1 to 1,000,000,000"),
        (["activation=leaky_relu", "activation.alpha=nan"], "a finite number >= 0 and <= 1"),
        (["activation=leaky_relu", "activation.alpha=inf"], "a finite number >= 0 and <= 1"),
        (["activation=leaky_relu", "activation.alpha=-0.1"], "a finite number >= 0 and <= 1"),
        (["optimizer=adam", "optimizer.eps=nan"], "a finite number > 0"),
        (["dataset=circle", "dataset.noise=inf"], "a finite number >= 0 and <= 1"),
    ],
)
def test_each_range_is_stated_in_the_refusal(overrides, allowed):
    field, _, value = overrides[-1].partition("=")
    with pytest.raises(ConfigError) as refused:
        check(compose_config(*overrides))
    shown = float(value) if "." in field else int(value)
    assert str(refused.value) == f"{field}={shown!r} is out of range; allowed: {allowed}"


@pytest.mark.parametrize(("group", "name"), OPTIONS)
def test_every_hyperparameter_of_every_option_has_a_range(group, name):
    for key in option_fields(group, name):
        assert key in OPTION_RANGES[group], f"{group}={name}: {key} has no range"


def test_a_job_too_large_for_the_memory_is_refused_with_its_estimate():
    cfg = compose_config("hidden_units=100000", "replicates=100000")
    with pytest.raises(ConfigError) as refused:
        preflight(cfg)
    message = str(refused.value)
    assert message.startswith(
        "hidden_units=100000, hidden_layers=2, replicates=100000, snapshots=40 needs about"
    )
    assert "of it the parameters and snapshots;" in message
    needed, limit = re.findall(r"([\d,.]+) GB", message)
    assert float(needed.replace(",", "")) > float(limit.replace(",", "")) > 0


@pytest.mark.parametrize(
    ("overrides", "named", "part"),
    [
        (["replicates=1000", "epochs=100000000"], "replicates=1000, epochs=100000000",
         "the loss history"),
        (["dataset=linear", "dataset.n=10000000", "replicates=1000"],
         "dataset.n=10000000, dataset.test_n=0", "the activations"),
        (["dataset=linear", "dataset.test_n=10000000", "replicates=1000"],
         "dataset.n=100, dataset.test_n=10000000", "the activations"),
        (["snapshots=10000", "hidden_units=1000", "replicates=100", "epochs=100000"],
         "replicates=100, snapshots=10000", "the parameters and snapshots"),
    ],
)  # fmt: skip
def test_the_memory_refusal_names_the_fields_that_dominate(overrides, named, part):
    with pytest.raises(ConfigError) as refused:
        preflight(compose_config(*overrides))
    assert named in str(refused.value) and f"of it {part};" in str(refused.value)


def test_the_estimate_counts_parameters_history_and_minibatch_orders():
    def more(*overrides: str) -> int:
        return estimate_bytes(compose_config("epochs=1000", *overrides)) - base

    base = estimate_bytes(compose_config("epochs=1000"))
    weights = 3 * 400 + 401 * 400 + 401  # 2-400-400-1, biases included
    assert more("hidden_units=400") >= 4 * 8 * (weights - 41)  # params, grads, state x2
    assert more("epochs=100000") >= 2 * 8 * 99_000  # loss and accuracy per epoch
    assert more("batch_size=4") >= 8 * 1000 * 21  # every epoch's order of the 21 points


def test_the_default_job_fits_and_a_refused_one_allocates_nothing(monkeypatch):
    preflight(compose_config())  # the lab's run fits anywhere
    monkeypatch.setattr("nnsweep.job.preflight.available_memory", lambda: 1000)
    monkeypatch.setattr("nnsweep.job.build.make_dataset", None)  # building would call it
    with pytest.raises(ConfigError, match="allowed: at most the 0.0 GB of memory available"):
        build(compose_config("dataset=linear"))


def test_blas_threads_above_the_cores_are_capped_with_a_warning(caplog):
    cfg = compose_config("blas_threads=100000")
    cap_blas_threads(cfg)
    assert cfg.blas_threads == cpu_count()
    assert (
        f"blas_threads=100000 exceeds the {cpu_count()} cores; using {cpu_count()}" in caplog.text
    )


def test_no_hidden_layer_is_a_logistic_regression_and_the_log_says_so(tmp_path, caplog):
    cfg = compose_config("hidden_layers=0", "epochs=20", "engine=numpy", "print_predictions=false")
    caplog.set_level("INFO")
    run(cfg, tmp_path)
    assert (
        "hidden_layers=0: a logistic regression; hidden_units and activation unused" in caplog.text
    )
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "complete"
    caption = figures.caption(cfg)  # the figures' caption: no "0x4 sigmoid"
    assert caption == "xor, 2-1 (no hidden layer), gd lr=0.01"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"n: [100\n", "not valid YAML (did not find expected ',' or ']' at line 2)"),
        (b"# caf\xe9\nn: 100\n", "not UTF-8 text (invalid continuation byte at byte 5)"),
    ],
)
def test_a_broken_config_file_is_named(tmp_path, content, message):
    (tmp_path / "dataset").mkdir()
    (tmp_path / "config.yaml").write_text("lr: 0.1\n")
    (tmp_path / "dataset" / "linear.yaml").write_bytes(content)
    with pytest.raises(ConfigError) as refused:
        check_conf_files(tmp_path)
    assert str(refused.value) == f"{tmp_path / 'dataset' / 'linear.yaml'}: {message}"
    check_conf_files(CONFIG_DIR)  # nnsweep's own files pass


@pytest.mark.parametrize(
    ("optimizer", "field", "value"),
    [
        ("adam", "eps", -1.0),
        ("adam", "eps", 0.0),
        ("rmsprop", "decay", 1.0),
        ("momentum", "beta", -0.1),
    ],
)
def test_an_optimizer_made_directly_refuses_what_the_config_refuses(optimizer, field, value):
    """One range table: the config's check and the optimizer's own agree, word for word."""
    from nnsweep.nn.optimizers import make_optimizer

    cfg = compose_config(f"optimizer={optimizer}", f"optimizer.{field}={value}")
    with pytest.raises(ConfigError) as from_config:
        check(cfg)
    with pytest.raises(ConfigError) as made:
        make_optimizer(optimizer, 0.1, **{field: value})
    assert str(from_config.value) == f"optimizer.{made.value}"


# The job's own peak: Linux carries a process's peak resident memory across fork and exec,
# so a job started from a pytest worker grown to 430 MB by the full suite read 430 MB
# however small it was. Writing 5 to clear_refs resets the peak to what is resident now.
PEAK = """import runpy, sys
from pathlib import Path
Path("/proc/self/clear_refs").write_text("5")
sys.argv = ["nnsweep", *sys.argv[1:]]
try:
    runpy.run_module("nnsweep", run_name="__main__")
finally:
    status = Path("/proc/self/status").read_text().split()
    print("PEAK", status[status.index("VmHWM:") + 1], file=sys.stderr)
"""


def _peak_bytes(overrides: list[str], folder, cache=None) -> int:
    """The peak resident memory of a real job with ``overrides`` (figures off), loading the
    compiled kernels from numba's cache in ``cache`` (a folder of its own: see numba_cache)."""
    command = [sys.executable, "-c", PEAK, *overrides, "figures=[]", "print_predictions=false",
               f"hydra.run.dir={folder}"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=_clean_env(cache))  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return 1024 * int(done.stderr.split("PEAK")[-1].split()[0])  # Linux: kilobytes


def _clean_env(cache) -> dict[str, str]:
    """A fresh shell's environment: in the full suite the worker's own holds what other
    tests' in-process sweeps set (the sweeper's pid among it), and jobs started from it
    peaked 140 MB higher, the tiny one included."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**keep, **({"NUMBA_CACHE_DIR": str(cache)} if cache else {})}


@pytest.fixture(scope="module")
def numba_cache(tmp_path_factory):
    """numba's cache for these jobs alone, written once here. In the full suite other tests
    compile into the shared cache as these jobs start; a job that cannot load it compiles,
    and the compiler's 100+ MB made the tiny job's peak (400 MB against 290 alone) hide
    what the large jobs add."""
    folder = tmp_path_factory.mktemp("numba_cache")
    warm = "from nnsweep.engines.compiled import warm_up; warm_up()"
    subprocess.run([sys.executable, "-c", warm], env=_clean_env(folder), check=True, timeout=600)
    return folder


def _added_bytes(overrides: list[str], folder, cache) -> tuple[int, int]:
    """What a job adds to a tiny job's peak, measured just before it, and the tiny peak."""
    tiny = _peak_bytes(["epochs=10"], folder / "tiny", cache)
    return _peak_bytes([*overrides, "rerun=true"], folder / "job", cache) - tiny, tiny


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        ["replicates=1000", "epochs=2000"],  # the tables
        ["replicates=50", "epochs=400000", "loss_threshold=0"],  # the loss history
        ["dataset=linear", "dataset.n=200000", "replicates=20", "epochs=20"],  # activations
        ["engine=numpy", "dataset=linear", "dataset.n=200000", "replicates=20", "epochs=10"],
        ["dataset=linear", "replicates=200", "epochs=20000", "batch_size=50", "loss_threshold=0"],
    ],
    ids=["tables", "history", "activations", "activations-numpy", "minibatches"],
)
def test_the_memory_estimate_is_within_20_percent_of_the_measured_peak(
    tmp_path, overrides, numba_cache
):
    """What a job adds to a tiny job's peak (the interpreter and libraries, loaded before
    the check reads the memory available), against estimate_bytes, for jobs of hundreds of
    MB to GB, where a refusal matters. Smaller jobs are estimated more generously (up to
    1.5x): the allocator reuses what the first steps freed.

    The jobs load the kernels from a cache of their own (numba_cache)."""
    added, tiny = _added_bytes(overrides, tmp_path, numba_cache)
    estimate = estimate_bytes(compose_config(*overrides))
    megabytes = {"estimate": estimate / 1e6, "added": added / 1e6, "tiny": tiny / 1e6}
    assert 0.8 * added <= estimate <= 1.2 * added, megabytes
