"""Each claim of the lab report on replicates built so that its verdict must be agrees,
disagrees or cannot tell, decided by the test the verdict names; the sentence changes
with the data."""

import numpy as np
import pandas as pd
import pytest

from nnsweep.lab import claims, vanishing_gradient, without_activation
from nnsweep.lab.claims import AGREES, CANNOT_TELL, DISAGREES, PARTLY
from nnsweep.lab.measures import best_affine_fit_on_xor, steepest_fall

DATASET = "dataset.name"
ACTIVATION = "activation.name"
SEEDS = 8  # enough for 8 of 8 seeds one way to decide 3 Holm-corrected comparisons


def table(field: str, rows: list[tuple], accuracy: float = 1.0) -> pd.DataFrame:
    """Replicate rows from (dataset, value, epochs of each replicate, cap): replicate r has
    seed r; one at the cap missed the threshold and ends at loss 0.01 and accuracy 0.9,
    the others at 0.001 and ``accuracy``."""
    runs = []
    for job, (dataset, value, epochs, cap) in enumerate(rows):
        for r, e in enumerate(epochs):
            hit = e < cap
            runs.append(
                {"job": job, DATASET: dataset, field: value, "replicate": r, "epochs_run": e}
                | {"replicate_seed": r, "epochs": cap, "converged": hit, "diverged": False}
                | {"final_loss": 0.001 if hit else 0.01, "final_accuracy": accuracy if hit else 0.9}
            )
    return pd.DataFrame(runs)


def seeds(epochs: int, n: int = SEEDS) -> list[int]:
    """``n`` replicates near ``epochs``, each seed a little apart."""
    return [epochs + 10 * s for s in range(n)]


def lr_table(xor_epochs: dict[float, list[int]], cap: int = 10**6) -> pd.DataFrame:
    linear = [("linear", lr, seeds(round(9_000 / lr)), cap) for lr in (0.01, 0.1, 1)]
    return table("lr", linear + [("xor", lr, e, cap) for lr, e in xor_epochs.items()])


def test_learning_rates_disagree_when_every_higher_rate_is_first_for_every_seed():
    verdict = claims.learning_rates(lr_table({0.01: seeds(400_000), 0.1: seeds(40_000)}))
    assert verdict.word == DISAGREES
    assert "0.01 to 0.1: 0.1 first for 8, 0.01 for 0 of 8 seeds (sign test p = 0.023, " in (
        verdict.sentence
    )  # 2 x 0.5^8 = 0.0078, Holm over 3 steps
    assert "per seed 0.1 needs 0.10 times the epochs of 0.01" in verdict.sentence
    assert "on linear epochs x lr is 9,000 to 9,030 over 3 rates, 0% apart (one path" in (
        verdict.sentence
    )  # Kaplan-Meier's median of 8: the 4th, 10 x 3 epochs above the first


def test_learning_rates_agree_when_0_1_is_slightly_slower_on_xor():
    verdict = claims.learning_rates(lr_table({0.01: seeds(400_000), 0.1: seeds(480_000)}))
    assert verdict.word == PARTLY  # linear still speeds up with the rate
    assert "per seed 0.1 needs 1.20 times the epochs of 0.01" in verdict.sentence
    xor_only = table(
        "lr", [("xor", 0.01, seeds(400_000), 10**6), ("xor", 0.1, seeds(480_000), 10**6)]
    )
    assert claims.learning_rates(xor_only).word == AGREES
    much = table("lr", [("xor", 0.01, seeds(400_000), 10**6), ("xor", 0.1, seeds(900_000), 10**6)])
    assert claims.learning_rates(much).word == PARTLY  # slower, but not slightly


def test_learning_rates_cannot_tell_when_nothing_converged():
    verdict = claims.learning_rates(lr_table({0.01: [400] * 3, 0.1: [400] * 3}, cap=400))
    assert verdict.word == CANNOT_TELL
    assert str(verdict).startswith("Cannot tell with 8 replicates: on linear, undecided")
    assert "epochs x lr" not in verdict.sentence and "one path" not in verdict.sentence


def test_five_seeds_one_way_are_undecided_and_the_verdict_says_what_would_decide():
    five = table(
        "lr", [("xor", 0.01, seeds(400_000, 5), 10**6), ("xor", 0.1, seeds(40_000, 5), 10**6)]
    )
    verdict = claims.learning_rates(five)
    assert verdict.word == CANNOT_TELL
    assert "(sign test p = 0.062): undecided at 95%" in verdict.sentence
    assert "`replicates=6` would decide it" in verdict.sentence
    split = table(
        "lr", [("xor", 0.01, [1, 2, 3, 40, 50], 10**6), ("xor", 0.1, [10, 20, 30, 4, 5], 10**6)]
    )
    assert "would decide" not in claims.learning_rates(split).sentence  # 3 and 2: no


def test_the_1_over_lr_sentence_follows_the_data():
    rows = [("linear", lr, [e] * 3, 10**6) for lr, e in [(0.01, 900_000), (0.1, 20_000)]]
    sentence = claims.learning_rates(table("lr", rows)).sentence
    assert "epochs x lr is 2,000 to 9,000 over 2 rates, 350% apart." in sentence
    assert "one path" not in sentence


def test_hidden_units_words():
    steady = [("xor", u, seeds(100_000 // u), 10**6) for u in (2, 4, 8)]
    assert claims.hidden_units(table("hidden_units", steady)).word == DISAGREES
    bumpy = [("xor", u, seeds(e), 10**6) for u, e in [(2, 9000), (4, 4000), (8, 5000)]]
    assert claims.hidden_units(table("hidden_units", bumpy)).word == AGREES
    missed = [("xor", u, [400] * 3, 400) for u in (2, 4, 8)]
    assert claims.hidden_units(table("hidden_units", missed)).word == CANNOT_TELL


def test_hidden_units_loss_on_linear_by_wilcoxon():
    runs = table(
        "hidden_units", [("linear", 2, seeds(500), 1000), ("linear", 16, [1000] * 8, 1000)]
    )
    verdict = claims.hidden_units(runs)  # 16 units never reached it: its loss the higher
    assert "16 units ended with the higher final loss for 8 of 8 seeds, 2 units for 0" in (
        verdict.sentence
    )
    assert "Wilcoxon signed-rank test p = 0.0078" in verdict.sentence  # 2 x 0.5^8
    assert verdict.word == AGREES
    both = table(
        "hidden_units", [("linear", 2, seeds(500), 1000), ("linear", 16, seeds(400), 1000)]
    )
    assert "the final loss cannot tell the sizes apart" in claims.hidden_units(both).sentence


def test_accuracy():
    reached = table("x", [("linear", 0, [100] * 5, 400), ("xor", 0, [100] * 5, 400)])
    verdict = claims.accuracy(reached)
    assert verdict.word == AGREES  # 5 of 5: Wilson 57%-100%, above a half
    assert "linear: 5 of 5 replicates at accuracy 1.0 (Wilson 95% 57%-100%)" in verdict.sentence
    short = table("x", [("linear", 0, [400] * 2, 400), ("xor", 0, [100] * 2, 400)])
    verdict = claims.accuracy(short)  # stopped by the cap on linear: not finished there
    assert verdict.word == CANNOT_TELL and "within the epoch cap on linear:" in verdict.sentence
    mixed = table("x", [("linear", 0, [100, 400], 400), ("xor", 0, [100, 400], 400)])
    verdict = claims.accuracy(mixed)  # 1 of 2: Wilson 9%-91%
    assert str(verdict).startswith("Cannot tell with 2 replicates: linear: 1 of 2")
    short_of_1 = table("x", [("linear", 0, [100] * 5, 400)], accuracy=0.95)
    assert claims.accuracy(short_of_1).word == DISAGREES  # 0 of 5: Wilson 0%-43%
    assert claims.accuracy(short.iloc[:0]).word == CANNOT_TELL


def falls(
    linear: list[float], xor: list[float], rises: float = 0, total: float = 2
) -> pd.DataFrame:
    rows = [("linear", f) for f in linear] + [("xor", f) for f in xor]
    frame = pd.DataFrame(rows, columns=[DATASET, "fall"])
    return frame.assign(at=0.5, rises=rises, total=total)


def test_smoothness_by_mann_whitney():
    """5 against 5, every linear fall below every XOR fall: exact two-sided p = 2/252."""
    verdict = claims.smoothness(falls([0.05, 0.06, 0.04, 0.07, 0.03], [0.5, 0.4, 0.6, 0.55, 0.7]))
    assert verdict.word == AGREES and "p = 0.0079): yes, at 95%" in verdict.sentence
    verdict = claims.smoothness(falls([0.5, 0.4, 0.6, 0.55, 0.7], [0.05, 0.06, 0.04, 0.07, 0.03]))
    assert (
        verdict.word == DISAGREES and "median 0.550 on linear and 0.050 on XOR" in verdict.sentence
    )
    mixed = claims.smoothness(falls([0.05, 0.5, 0.06], [0.4, 0.04, 0.6]))
    assert mixed.word == CANNOT_TELL and str(mixed).startswith("Cannot tell with 3 replicates")
    flat = claims.smoothness(falls([0.001], [0.001], total=0.02))
    assert flat.word == CANNOT_TELL and "0.02 decades" in flat.sentence


def test_steepest_fall_tells_a_plateau_and_drop_from_a_steady_descent():
    epochs = np.arange(1, 1001)
    steady = 0.25 * np.exp(-epochs / 200)
    plateau = np.where(epochs < 800, 0.25, np.maximum(0.25 * np.exp(-(epochs - 800) / 5), 1e-3))
    curves = pd.concat(
        [
            pd.DataFrame({"job": "a", "replicate": 0, "epoch": epochs, "loss": steady}),
            pd.DataFrame({"job": "b", "replicate": 0, "epoch": epochs, "loss": plateau}),
        ]
    )
    measured = steepest_fall(curves)
    assert measured.loc[("b", 0), "fall"] > 10 * measured.loc[("a", 0), "fall"]
    assert measured.loc[("b", 0), "at"] == pytest.approx(0.81, abs=0.02)
    assert measured.loc[("a", 0), "rises"] == 0


def test_the_affine_fit_to_xor_is_the_constant_mean():
    """Identity everywhere is an affine map: its best MSE on the lab's XOR is the constant
    10/21, loss 10/21 * 11/21, accuracy 11/21 (the label-0 share)."""
    loss, accuracy = best_affine_fit_on_xor()
    assert loss == pytest.approx(10 / 21 * 11 / 21)
    assert accuracy == pytest.approx(11 / 21)


def xor_runs(sigmoid: list[tuple], none: list[tuple]) -> pd.DataFrame:
    rows = [("sigmoid", *r) for r in sigmoid] + [("none", *r) for r in none]
    frame = pd.DataFrame(rows, columns=["output_activation", "final_loss", "final_accuracy"])
    return frame.assign(diverged=False, job=frame["output_activation"], replicate=0)


def test_xor_without_activation_by_the_share_at_the_reports_numbers():
    at_lab, constant = (0.2381, 0.762), (0.2494, 0.524)
    verdict = without_activation.xor(xor_runs([at_lab] * 5, [constant] * 5))
    assert verdict.word == AGREES  # 5 of 5 with a sigmoid output: Wilson 57%-100%
    assert "with a sigmoid output, 5 of 5 replicates at them (Wilson 95% 57%-100%)" in (
        verdict.sentence
    )
    assert "final loss median 0.2381 [0.2381, 0.2381] (bootstrap 95%)" in verdict.sentence
    split = without_activation.xor(xor_runs([at_lab] * 2 + [constant] * 3, [constant] * 5))
    assert split.word == CANNOT_TELL  # 2 of 5: Wilson 12%-77%
    other = without_activation.xor(xor_runs([constant] * 5, [constant] * 5))
    assert other.word == DISAGREES  # 0 of 5 for each: Wilson 0%-43%


def test_linear_without_activation_says_how_many_diverged():
    noact = table("output_activation", [("linear", "sigmoid", seeds(27_000), 10**5)])
    faster = table("x", [("linear", 0, seeds(181_000), 10**6)])
    verdict = without_activation.linear(noact, faster)
    assert verdict.word == AGREES
    assert "first for 8 of 8 seeds, they for 0 (sign test p = 0.0078)" in verdict.sentence
    slower = table("x", [("linear", 0, seeds(1_000), 10**6)])
    assert without_activation.linear(noact, slower).word == DISAGREES
    missed = table("output_activation", [("linear", "sigmoid", [400] * 3, 400)])
    none = table("x", [("linear", 0, [400] * 3, 400)])
    assert without_activation.linear(missed, none).word == CANNOT_TELL
    diverging = table("output_activation", [("linear", "none", [10**5] * 5, 10**5)])
    diverging = diverging.assign(diverged=[True] * 4 + [False])
    diverging["final_accuracy"] = [np.nan] * 4 + [0.99]
    both = pd.concat([noact, diverging.assign(job=1)])
    verdict = without_activation.linear(both, faster)
    assert verdict.word == PARTLY
    assert "with a none output, 0 of 5 replicates at accuracy 1.0" in verdict.sentence
    assert "4 of 5 diverged; median accuracy 0.990 over the 1 that did not diverge" in (
        verdict.sentence
    )


def early(rows: list[tuple], until: int = 7_500) -> pd.DataFrame:
    """An early-gradients table from (dataset, activation, gradient norm, mean |f'|)."""
    frame = pd.DataFrame(
        rows, columns=[DATASET, ACTIVATION, "grad_norm_median", "mean_abs_derivative_median"]
    )
    return frame.assign(until=until, replicates=3)


def speeds(epochs: dict[str, list[int]], cap: int = 10**6) -> pd.DataFrame:
    rows = [("linear", name, e, cap) for name, e in epochs.items()]
    return table(ACTIVATION, rows)


SLOWEST = {"sigmoid": seeds(180_000), "tanh": seeds(23_000), "relu": seeds(21_000)}


def test_sigmoid_gradient_agrees_when_its_gradient_is_clearly_the_smaller():
    gradients = early(
        [
            ("linear", "sigmoid", 0.002, 0.2),
            ("linear", "tanh", 0.009, 0.75),
            ("linear", "relu", 0.012, 0.5),
        ]
    )
    verdict = vanishing_gradient.sigmoid_gradient(speeds(SLOWEST), gradients)
    assert verdict.word == AGREES
    assert verdict.sentence.startswith(
        "on linear, over epochs 1 to 7,500, sigmoid's layer-1 gradient norm is 0.002 and its "
        "mean |f'| 0.2; as multiples of them, tanh 4.5x and 3.8x, relu 6x and 2.5x."
    )
    assert (
        "against tanh and relu, first to the threshold for more seeds than sigmoid at 95%, "
        "both are 1.5x or more" in verdict.sentence
    )


def test_sigmoid_gradient_disagrees_or_partly_as_the_gradients_say():
    larger = early([("linear", "sigmoid", 0.01, 0.2), ("linear", "tanh", 0.008, 0.75)])
    verdict = vanishing_gradient.sigmoid_gradient(speeds(SLOWEST), larger)
    assert verdict.word == DISAGREES and "the gradient norm is no larger" in verdict.sentence
    close = early([("linear", "sigmoid", 0.01, 0.2), ("linear", "tanh", 0.012, 0.75)])
    verdict = vanishing_gradient.sigmoid_gradient(speeds(SLOWEST), close)
    assert verdict.word == PARTLY and "tanh 1.2x and 3.8x" in verdict.sentence
    mixed = early([*close.iloc[:, :4].itertuples(index=False), ("linear", "relu", 0.05, 0.5)])
    assert vanishing_gradient.sigmoid_gradient(speeds(SLOWEST), mixed).word == PARTLY


def test_sigmoid_gradient_counts_only_the_activations_sigmoid_ranks_behind():
    fast_sigmoid = {"sigmoid": seeds(9_000), "tanh": seeds(23_000), "relu": seeds(21_000)}
    gradients = early(
        [
            ("linear", "sigmoid", 0.002, 0.2),
            ("linear", "tanh", 0.009, 0.75),
            ("linear", "relu", 0.012, 0.5),
        ]
    )
    verdict = vanishing_gradient.sigmoid_gradient(speeds(fast_sigmoid), gradients)
    assert verdict.word == CANNOT_TELL
    assert (
        "tanh and relu not counted: not shown faster than sigmoid seed by seed at 95%"
        in verdict.sentence
    )
    # relu first for 4 seeds, sigmoid for 4: not shown faster, not counted
    stuck = {**SLOWEST, "relu": [8_000] * 4 + [10**6] * 4}
    verdict = vanishing_gradient.sigmoid_gradient(speeds(stuck), gradients)
    assert verdict.word == AGREES and "relu not counted" in verdict.sentence


def test_sigmoid_gradient_cannot_tell_without_layers_csv():
    verdict = vanishing_gradient.sigmoid_gradient(speeds(SLOWEST), early([]))
    assert verdict.word == CANNOT_TELL and "no layers.csv" in verdict.sentence
    only_tanh = early([("linear", "tanh", 0.009, 0.75)])
    assert vanishing_gradient.sigmoid_gradient(speeds(SLOWEST), only_tanh).word == CANNOT_TELL
    missing = early([("linear", "sigmoid", np.nan, 0.2), ("linear", "tanh", 0.009, 0.75)])
    verdict = vanishing_gradient.sigmoid_gradient(speeds(SLOWEST), missing)
    assert verdict.word == CANNOT_TELL and "no other activation's gradients" in verdict.sentence
