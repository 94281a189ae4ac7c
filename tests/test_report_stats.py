"""The statistics of the report: censored epochs to the threshold (Kaplan-Meier), shares
(Wilson), paired comparisons by seed (sign test, bootstrap, Wilcoxon) and Holm's
correction, each on small examples worked by hand in the comments and against scipy;
then the answer's verdict on data that produce each of its words, and on real sweeps."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nnsweep import report
from nnsweep.report import answer, paired, survival


def test_kaplan_meier_by_hand_with_two_censored():
    """Epochs 3, 5, 7 reached; 6 and 10 censored (stopped at their caps). At 3, 5 at risk,
    1 reaches it: S = 4/5 = 0.8. At 5, 4 at risk: S = 0.8 x 3/4 = 0.6. At 6 one leaves
    censored. At 7, 2 at risk (7 and 10): S = 0.6 x 1/2 = 0.3. The median is the first
    epoch with S <= 0.5: 7. Its interval: the log-log band at 3 (Greenwood variance
    1/(5 x 4) = 0.05; se of log(-log S) = sqrt(0.05)/|log 0.8| = 1.002) is
    0.8 ** exp(1.96 x 1.002) = 0.204 below, already under 0.5: the lower end is 3. The
    upper band stays above 0.5 (0.72 at 7): the upper end is open."""
    epochs, reached = np.array([3, 5, 7, 6, 10]), np.array([1, 1, 1, 0, 0], bool)
    found = survival.time_to_threshold(epochs, reached, cap=epochs)
    assert (found.median, found.median_low, found.median_high) == (7, 3, np.inf)
    curve = survival.survival_curve(
        pd.DataFrame({"replicate": range(5), "epochs_run": epochs, "converged": reached})
    )
    assert curve["epoch"].tolist() == [0, 3, 5, 6, 7, 10]
    assert curve["share"].tolist() == pytest.approx([1, 0.8, 0.6, 0.6, 0.3, 0.3])
    assert curve["low"].iloc[1] == pytest.approx(
        0.8 ** np.exp(1.96 * np.sqrt(0.05) / -np.log(0.8)), abs=1e-3
    )
    sf = stats.ecdf(stats.CensoredData(uncensored=[3, 5, 7], right=[6, 10])).sf
    assert curve["share"].iloc[1:].tolist() == pytest.approx(sf.probabilities)


def test_every_replicate_reached_it_the_median_is_the_plain_median():
    """3, 5, 7, 8, 9 all reached: S falls by 1/5 at each, to 0.4 at 7, the plain median. With
    5 replicates the upper band never falls to 0.5 (it is undefined where S is 0): open."""
    found = survival.time_to_threshold(np.array([9, 3, 7, 5, 8]), np.ones(5, bool), np.full(5, 20))
    assert (found.median, found.median_low, found.median_high) == (7, 3, np.inf)


@pytest.mark.filterwarnings("ignore:The confidence interval is undefined:RuntimeWarning")
def test_with_ten_replicates_the_interval_closes_as_scipy_gives_it():
    epochs = np.arange(100, 1100, 100)
    found = survival.time_to_threshold(epochs, np.ones(10, bool), np.full(10, 2000))
    band = stats.ecdf(epochs).sf.confidence_interval(0.95, method="log-log")
    high = band.high.quantiles[np.flatnonzero(band.high.probabilities <= 0.5)[0]]
    low = band.low.quantiles[np.flatnonzero(band.low.probabilities <= 0.5)[0]]
    assert found.median == 500  # S = 0.5 at 500: the first epoch at or below a half
    assert (found.median_low, found.median_high) == (low, high)
    assert np.isfinite(found.median_high) and found.median_high > 500


def test_fewer_than_half_reached_it_the_median_is_not_reached():
    """2 of 5 reached it, 3 censored at the cap: S = 0.6 from the second epoch to the cap,
    never 0.5: not reached. Counting the cap as an epoch count would give the cap, 1,000."""
    epochs = np.array([100, 200, 1000, 1000, 1000])
    found = survival.time_to_threshold(epochs, epochs < 1000, np.full(5, 1000))
    assert np.isinf(found.median) and np.median(epochs) == 1000
    assert (found.converged, found.replicates) == (2, 5)


def test_a_diverged_replicate_is_censored_at_the_cap_not_where_it_diverged():
    runs = pd.DataFrame(
        {"replicate": range(3), "epochs_run": [50, 6, 80], "converged": [True, False, True]}
    ).assign(epochs=1000)
    curve = survival.survival_curve(runs)
    assert curve["epoch"].tolist() == [0, 50, 80, 1000]  # not 6


def test_wilson_by_hand():
    """3 of 5: centre (3 + 1.96²/2)/(5 + 1.96²) = 0.5566, half-width
    1.96 sqrt(5 x 0.6 x 0.4 + 1.96²/4)/(5 + 1.96²) = 0.3258: [0.2307, 0.8824]. 0 of 5: the
    upper end is 1.96²/(5 + 1.96²) = 0.4345."""
    assert survival.wilson(3, 5) == pytest.approx((0.2307, 0.8824), abs=1e-4)
    assert survival.wilson(0, 5) == pytest.approx((0.0, 0.4345), abs=1e-4)
    assert np.isnan(survival.wilson(0, 0)).all()


def runs(epochs: list[float], cap: float = 1000, losses: list[float] | None = None) -> pd.DataFrame:
    """One setting's replicates, seeds 0..n-1: a replicate at ``cap`` missed the threshold."""
    epochs = np.asarray(epochs, dtype=float)
    return pd.DataFrame(
        {
            "replicate": range(len(epochs)),
            "replicate_seed": range(len(epochs)),
            "epochs_run": epochs,
            "converged": epochs < cap,
            "final_loss": losses if losses is not None else np.where(epochs < cap, 1e-3, 0.1),
            "epochs": cap,
            "diverged": False,
            "final_accuracy": 1.0,
        }
    )


def test_the_sign_test_counts_firsts_and_leaves_ties_out():
    """5 of 5 first: two-sided p = 2 x 0.5^5 = 0.0625. 3 and 2: p = 1."""
    found = paired.compare(runs([1, 2, 3, 4, 5]), runs([2, 3, 4, 5, 6]), "a", "b")
    assert (found.a_first, found.b_first, found.ties, found.p) == (5, 0, 0, 0.0625)
    assert found.ratio == 4 / 3  # per seed 2, 1.5, 1.33, 1.25, 1.2: the median
    found = paired.compare(runs([1, 5, 3, 9, 5]), runs([2, 3, 4, 5, 5]), "a", "b")
    assert (found.a_first, found.b_first, found.ties) == (2, 2, 1)
    assert found.p == stats.binomtest(2, 4).pvalue == 1.0


def test_a_replicate_censored_before_the_others_epoch_tells_neither():
    a = runs([3993, 3993], cap=20_000)
    b = runs([2000, 2000], cap=2000)  # censored at 2,000: it might have reached it at 3,993
    found = paired.compare(a, b, "a", "b")
    assert (found.a_first, found.b_first, found.ties) == (0, 0, 2)
    c = runs([1500, 2000], cap=2000)  # reached at 1,500 while a had not; a at 3,993 unknown
    found = paired.compare(a, c, "a", "c")
    assert (found.a_first, found.b_first, found.ties) == (0, 1, 1)


def test_the_ratio_interval_is_scipys_paired_bootstrap():
    a, b = runs([100, 200, 300, 400, 500]), runs([210, 380, 660, 800, 1100], cap=5000)
    found = paired.compare(a, b, "a", "b")
    expected = stats.bootstrap(
        (b["epochs_run"].to_numpy(), a["epochs_run"].to_numpy()),
        lambda x, y, axis=-1: np.median(x / y, axis=axis),
        paired=True,
        n_resamples=paired.RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(0),
    ).confidence_interval
    assert found.ratio == 2.1  # 2.1, 1.9, 2.2, 2.0, 2.2: sorted, the third
    assert (found.ratio_low, found.ratio_high) == (expected.low, expected.high)


def test_one_seed_has_its_ratio_and_no_interval():
    found = paired.compare(runs([100]), runs([250], cap=5000), "a", "b")
    assert found.ratio == 2.5
    assert np.isnan(found.ratio_low) and np.isnan(found.ratio_high)


def test_neither_reaching_it_compares_log_final_losses_by_wilcoxon():
    a = runs([1000] * 5, losses=[0.1, 0.2, 0.3, 0.2, 0.25])
    b = runs([1000] * 5, losses=[0.2, 0.3, 0.31, 0.4, 0.5])
    found = paired.compare(a, b, "a", "b")
    assert (found.measure, found.a_first, found.b_first) == (paired.FINAL_LOSS, 5, 0)
    expected = stats.wilcoxon(np.log10(a["final_loss"]), np.log10(b["final_loss"])).pvalue
    assert found.p == pytest.approx(expected) == pytest.approx(0.0625)
    diverged = runs([1000] * 5, losses=[np.nan, 0.3, 0.31, 0.4, 0.5])  # seed 0 diverged
    found = paired.compare(a, diverged, "a", "d")
    assert (found.a_first, found.b_first) == (5, 0)  # a diverged loss is the worst


def test_holm_by_hand():
    """0.01, 0.04, 0.03 of 3 comparisons: sorted 0.01 x 3 = 0.03, 0.03 x 2 = 0.06,
    0.04 x 1 = 0.04 held up to 0.06 (never below the step before)."""
    assert paired.holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert paired.holm([0.5, 0.9]).tolist() == [1.0, 1.0]  # 0.5 x 2 = 1, then 0.9 held up
    assert paired.holm([0.02]).tolist() == [0.02]


def test_the_replicates_that_would_decide():
    """n of n seeds one way: p = 2 x 0.5^n; 6 is the fewest below 0.05 alone, 8 for 5
    Holm-corrected comparisons (5 x 2 x 0.5^8 = 0.039; 0.078 at 7)."""
    assert answer.replicates_to_decide(1) == 6
    assert answer.replicates_to_decide(5) == 8
    for m in range(1, 30):
        n = answer.replicates_to_decide(m)
        assert m * stats.binomtest(n, n).pvalue < 0.05 <= m * stats.binomtest(n - 1, n - 1).pvalue


KEY = ["optimizer.name"]


def settings(**epochs: list[float]) -> pd.DataFrame:
    """Replicate rows of several settings of ``optimizer.name``."""
    return pd.concat([runs(e).assign(**{"optimizer.name": k}) for k, e in epochs.items()])


def lead(**epochs: list[float]) -> tuple[str, str]:
    found = answer.standing(settings(**epochs), ["optimizer.name"])
    return found.word, answer.verdict(found)


def test_the_verdict_likely_winner_and_what_changes_it():
    word, text = lead(adam=[10, 20, 30, 40, 50], gd=[100, 200, 300, 400, 500])
    assert word == answer.LIKELY
    assert text == (
        "adam reaches the threshold first for 5 of 5 seeds (sign test p = 0.062): the likely "
        "winner, but 5 replicates cannot make it certain at 95%; `replicates=6` would, if "
        "every seed again went its way"
    )
    word, text = lead(adam=[10] * 6, gd=[100] * 6)  # a sixth seed the same way: decided
    assert (word, text) == (
        answer.WINNER,
        "adam reaches the threshold first for 6 of 6 seeds (sign test p = 0.031): the winner "
        "at 95%",
    )


def test_the_verdict_cannot_tell_and_what_changes_it():
    word, text = lead(adam=[10, 20, 30, 400, 500], momentum=[100, 200, 300, 40, 50])
    assert word == answer.CANNOT_TELL
    assert text.startswith("cannot tell: adam and momentum are each first for some seeds (3 and 2")
    word, _ = lead(adam=[10, 20, 30, 40, 50], momentum=[100, 200, 300, 400, 500])
    assert word == answer.LIKELY


def test_the_verdict_with_several_others_is_holm_corrected():
    ten = list(range(10, 110, 10))
    word, text = lead(adam=ten, gd=[e * 100 for e in ten], rmsprop=[e * 2 for e in ten])
    assert word == answer.WINNER
    assert "gd 10 to 0, rmsprop 10 to 0; sign test, Holm-corrected over 2 comparisons" in text
    word, text = lead(adam=ten[:5], gd=ten[:5], rmsprop=[e * 2 for e in ten[:5]])
    assert word == answer.CANNOT_TELL
    assert "adam and gd tie for all 5 seeds" in text


def test_no_winner_is_named_that_the_tests_do_not_support():
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(2, 12))
        found = answer.standing(
            settings(a=rng.integers(1, 30, n), b=rng.integers(1, 30, n), c=rng.integers(5, 40, n)),
            ["optimizer.name"],
        )
        ahead = all(c.a_first > c.b_first and c.p_used < 0.05 for c in found.comparisons)
        assert (found.word == answer.WINNER) == ahead
        if found.word == answer.LIKELY:
            assert all(c.b_first == 0 for c in found.comparisons)


# ------------------------------------------------------------- real sweeps


def sweep(folder: Path, *overrides: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nnsweep", "-m", *overrides, "figures=[]",
         f"hydra.sweep.dir={folder}"],
        cwd=folder.parent, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return (folder / "report" / "report.md").read_text()


@pytest.mark.slow
def test_a_real_sweep_of_gd_and_adam_names_adam_5_of_5(tmp_path):
    text = sweep(tmp_path / "sweep", "optimizer=gd,adam", "lr=0.05", "replicates=5")
    assert "best `optimizer`: adam reaches the threshold first for 5 of 5 seeds (sign test " in text
    assert "the likely winner" in text


@pytest.mark.slow
def test_a_real_sweep_of_one_replicate_a_setting_gives_the_ratio_without_an_interval(tmp_path):
    text = sweep(tmp_path / "sweep", "optimizer=gd,adam", "lr=0.05")  # the tour's kind
    assert "gd took " in text and " the epochs of adam (one seed: no interval)" in text
    assert "1 replicate cannot make it certain" in text
    assert " epochs (no interval), 1/1 converged" in text and "[inf" not in text


@pytest.mark.slow
def test_a_real_sweep_of_two_rates_1e_9_apart_cannot_tell(tmp_path):
    args = ("lr=1.0,0.9999999999", "replicates=5", "epochs=20000")
    text = sweep(tmp_path / "sweep", *args)
    assert "best `lr`: cannot tell: " in text and "winner" not in text
    assert "Swept: `lr` (0.9999999999, 1)." in text
    assert isinstance(report.load(tmp_path / "sweep"), report.Sweep)


def test_the_verdict_on_final_losses_where_nothing_reached_the_threshold():
    rows = pd.concat(
        [
            runs([1000] * 6, losses=[0.01, 0.02, 0.03, 0.02, 0.01, 0.02]).assign(lr=1.0),
            runs([1000] * 6, losses=[0.1, 0.2, 0.3, 0.2, 0.1, 0.2]).assign(lr=0.1),
        ]
    )
    found = answer.standing(rows, ["lr"])
    assert answer.verdict(found) == (
        "1 ends with the lower final loss for 6 of 6 seeds (Wilcoxon signed-rank test "
        "p = 0.031): the winner at 95%"
    )
    same = rows.assign(final_loss=0.05)
    assert answer.verdict(answer.standing(same, ["lr"])) == (
        "cannot tell: 1 and 0.1 tie for all 6 seeds (the same final loss)"
    )


def test_the_verdict_where_one_is_first_for_some_seeds_and_the_rest_tie():
    word, text = lead(adam=[10, 20, 1000, 1000, 1000], gd=[100, 200, 1000, 1000, 1000])
    assert word == answer.LIKELY  # 2 to 0, 3 ties: every seed that tells went adam's way
    assert "adam reaches the threshold first for 2 of 5 seeds (sign test p = 0.5)" in text
    word, text = lead(adam=[10, 20, 30, 40, 50], gd=[1000, 200, 300, 400, 500])
    assert word == answer.LIKELY
    # rmsprop ran with a cap of 200: first for 5 seeds, censored before adam's 500 on 5
    rows = pd.concat(
        [
            runs([100] * 5 + [500] * 5).assign(**{"optimizer.name": "adam"}),
            runs([50] * 5 + [200] * 5, cap=200).assign(**{"optimizer.name": "rmsprop"}),
            runs([900] * 10).assign(**{"optimizer.name": "gd"}),
        ]
    )
    found = answer.standing(rows, ["optimizer.name"])  # adam first: 10/10 reached it
    text = answer.verdict(found)
    assert found.word == answer.CANNOT_TELL
    assert "rmsprop is first against adam for 5 of 10 seeds, 5 tied, not decided at 95%" in text
    assert text.endswith("adam is first against gd at 95%")
    tanh = [11, 21, 31, 4, 5]  # first for 2 seeds against adam
    five = answer.standing(settings(adam=[10, 20, 30, 40, 50], gd=[100] * 5, tanh=tanh), KEY)
    assert "tanh is first against gd for 5 of 5 seeds, not decided at 95%" in answer.verdict(five)
