"""scripts/discussion.py end to end on a tiny budget: it runs, reuses shared jobs, and
writes no finding the data cannot support."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from synthetic import config, write_job

from nnsweep import report
from nnsweep.job.schema import CONFIG_DIR, register
from nnsweep.lab import discussion, experiments

ROOT = Path(__file__).resolve().parent.parent


# The lab report's experiments, written out: name -> the number of jobs its sweep runs
# (each sweeps dataset=linear,xor against: nothing, 4 rates, 4 widths, 4 activations,
# 2 output activations, 6 optimizers).
LAB_EXPERIMENTS = {
    "activations": 8,
    "hidden_units": 8,
    "learning_rates": 8,
    "no_activation": 4,
    "optimizers": 12,
    "results": 2,
}


def test_the_experiments_are_the_lab_reports():
    assert experiments.names() == sorted(LAB_EXPERIMENTS)


def test_every_experiment_composes_with_hydra_into_its_sweep():
    register()
    for name, count in LAB_EXPERIMENTS.items():
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = compose("config", [f"experiment={name}"], return_hydra_config=True)
        params = cfg.hydra.sweeper.params
        assert params.dataset == "linear,xor", name
        assert len(experiments.jobs(name, [])) == count, name


def test_the_discussion_analyses_every_experiment():
    analysed = {needed for needs, _ in discussion.ANALYSES for needed in needs}
    assert analysed == set(LAB_EXPERIMENTS)


def test_jobs_come_in_hydras_order_and_shared_configs_have_one_key():
    lr = experiments.jobs("learning_rates", ["epochs=400"])
    assert [j[:2] for j in lr[:2]] == [
        ["dataset=linear", "lr=0.001"],
        ["dataset=linear", "lr=0.01"],
    ]
    main = experiments.jobs("results", ["epochs=400"])
    assert experiments.config_key(lr[1]) == experiments.config_key(main[0])
    assert experiments.config_key(lr[0]) != experiments.config_key(main[0])


@pytest.mark.slow
def test_a_tiny_discussion_reuses_shared_jobs_and_claims_nothing_unsupported(tmp_path):
    cmd = [
        sys.executable, str(ROOT / "scripts" / "discussion.py"),
        "--only", "results", "learning_rates", "--epochs", "400", "--replicates", "2",
        "--work", str(tmp_path / "work"), "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "learning_rates: started, 8 jobs (2 shared with an earlier experiment)" in done.stderr
    assert "learning_rates: its 8 jobs done in " in done.stderr and "2 jobs reused" in done.stderr
    timings = json.loads((tmp_path / "out" / "timings.json").read_text())  # the last run's too
    assert len([key for key in timings if "epochs=400" in key]) == 8  # and each figures'
    assert {"figures results", "figures learning_rates"} <= set(timings)
    copied = json.loads((tmp_path / "work" / "learning_rates" / "1" / "result.json").read_text())
    original = json.loads((tmp_path / "work" / "results" / "0" / "result.json").read_text())
    assert copied["replicates"] == original["replicates"]  # the same job, not trained again
    text = (tmp_path / "out" / "discussion.md").read_text()
    assert "| linear | 0/2 (0%-66%) |" in text  # Wilson: 1.96²/(2 + 1.96²) = 0.66
    assert "Cannot tell with 2 replicates: on linear, undecided at some step up" in text  # 4A
    for unsupported in ("1/lr", "one path", "plateau, then a fall", "must have kept"):
        assert unsupported not in text, unsupported
    assert "training" in text and "figures" in text  # the time, broken down
    assert "The critical path: the longest job (" in text
    assert "The critical path: the longest job (" in done.stdout  # said at the end too
    assert (tmp_path / "out" / "learning_rates" / "curves_lr.png").is_file()
    assert "](learning_rates/curves_lr.png)" in text
    assert (tmp_path / "out" / "index.html").is_file()  # the same, a web page (test_web.py)


def activations_discussion(tmp_path: Path, gradients: bool) -> str:
    """discussion.md of a synthetic activations sweep (sigmoid slowest, its layer-1 gradient
    a quarter of tanh's and relu's), with or without layers.csv."""
    folder, out = tmp_path / "activations", tmp_path / "out"
    runs = {"sigmoid": (180_000, 0.002, 0.2), "tanh": (23_000, 0.008, 0.75)}
    runs |= {"relu": (21_000, 0.008, 0.5)}
    for job, (name, (epochs, norm, derivative)) in enumerate(runs.items()):
        cfg = config(dataset="linear", activation=name, lr=0.05, epochs=10**6, replicates=8)
        write_job(
            folder / str(job),
            cfg,
            [epochs + 1_000 * k for k in range(8)],  # 8 seeds: enough to decide
            gradient=(norm, derivative) if gradients else None,
        )
    sweeps = {"activations": report.load(folder)}
    (out / "activations").mkdir(parents=True)
    figures = {"activations": report.draw_sweep_figures(sweeps["activations"], out / "activations")}
    return discussion.markdown(discussion.findings(sweeps), figures, out, "header")


def test_the_activations_section_explains_sigmoid_from_the_gradients(tmp_path):
    text = activations_discussion(tmp_path, gradients=True)
    ranking, why = text.split("## Section 5: ")[1:]
    assert ranking.startswith("activations, gd, lr 0.05") and "![" not in ranking
    assert why.startswith("why sigmoid learns slowest")
    assert "| linear | tanh | 1 to 21,000 | 8 |" in why
    assert "Agrees: on linear, over epochs 1 to 21,000, sigmoid's layer-1 gradient norm" in why
    assert "as multiples of them, tanh 4x and 3.7x, relu 4x and 2.5x." in why
    assert "tanh first for 8, sigmoid for 0 of 8 (sign test p = 0.016, Holm-corrected)" in why
    figures = why[why.index("![curves_activation]") :]
    assert "](activations/gradients_activation.png)" in figures


def test_without_layers_csv_the_explanation_cannot_tell(tmp_path):
    text = activations_discussion(tmp_path, gradients=False)
    why = text.split("## Section 5: ")[2]
    assert "Cannot tell: no gradient per layer was recorded for sigmoid" in why
    assert "gradients_activation" not in why and "![curves_activation]" in why


@pytest.mark.parametrize(
    "args, said",
    [
        (["--replicates", "0"], "replicates=0 is out of range; allowed: an integer from 1"),
        (["--epochs", "-5"], "epochs=-5 is out of range; allowed: an integer from 1"),
    ],
)
def test_a_bad_setting_is_one_line_before_any_job_starts(tmp_path, args, said):
    """Checked as each job's config is composed, before the workers train anything."""
    work, out = tmp_path / "work", tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "scripts" / "discussion.py"), *args, "--only", "results"]
    done = subprocess.run([*cmd, "--work", str(work), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("discussion.py: ") and said in last
    assert "Traceback" not in done.stderr
    assert not work.exists() and not out.exists()


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (166_799, 188_769, "181,174 [166,799, 188,769]"),
        (166_799, float("inf"), "181,174 [166,799, open)"),
        (float("nan"), float("nan"), "181,174 (no interval)"),  # one replicate
    ],
)
def test_the_epochs_to_threshold_cell_gives_the_interval_kaplan_meier_gives(low, high, shown):
    row = {"epochs_km_median": 181_174.0, "epochs_km_low": low, "epochs_km_high": high}
    assert discussion._censored(pd.Series(row)) == shown
