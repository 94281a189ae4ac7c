"""Each claim of the lab report on tables built so that its verdict must be agrees,
disagrees or cannot tell; the sentence changes with the data."""

import numpy as np
import pandas as pd
import pytest

from nnsweep.lab import claims, vanishing_gradient, without_activation
from nnsweep.lab.claims import AGREES, CANNOT_TELL, DISAGREES, PARTLY
from nnsweep.lab.measures import best_affine_fit_on_xor, steepest_fall
from nnsweep.report import setting_table

DATASET = "dataset.name"
ACTIVATION = "activation.name"


def table(field: str, rows: list[tuple]) -> pd.DataFrame:
    """A setting table from (dataset, value, epochs of each replicate, cap): a replicate at
    the cap missed the threshold and ends at loss 0.01, the others at 0.001."""
    runs = []
    for dataset, value, epochs, cap in rows:
        for r, e in enumerate(epochs):
            hit = e < cap
            runs.append(
                {DATASET: dataset, field: value, "replicate": r, "epochs_run": e}
                | {"converged": hit, "diverged": False, "final_loss": 0.001 if hit else 0.01}
                | {"final_accuracy": 1.0 if hit else 0.9}
            )
    return setting_table(pd.DataFrame(runs), [DATASET, field])


def lr_table(xor_epochs: dict[float, list[int]], cap: int = 10**6) -> pd.DataFrame:
    linear = [("linear", lr, [round(9_000 / lr)] * 3, cap) for lr in (0.01, 0.1, 1)]
    return table("lr", linear + [("xor", lr, e, cap) for lr, e in xor_epochs.items()])


def test_learning_rates_disagree_when_every_higher_rate_is_faster():
    verdict = claims.learning_rates(lr_table({0.01: [400_000] * 3, 0.1: [40_000] * 3}))
    assert verdict.word == DISAGREES
    assert "On XOR 0.1 needs 0.10 times the epochs of 0.01" in verdict.sentence
    assert "epochs x lr is 9,000 to 9,000 over 3 rates, 0% apart (one path" in verdict.sentence


def test_learning_rates_agree_when_0_1_is_slightly_slower_on_xor():
    verdict = claims.learning_rates(lr_table({0.01: [400_000] * 3, 0.1: [480_000] * 3}))
    assert verdict.word in (AGREES, PARTLY)  # linear still speeds up with the rate: partly
    assert "On XOR 0.1 needs 1.20 times the epochs of 0.01" in verdict.sentence
    xor_only = table(
        "lr", [("xor", 0.01, [400_000] * 3, 10**6), ("xor", 0.1, [480_000] * 3, 10**6)]
    )
    assert claims.learning_rates(xor_only).word == AGREES


def test_learning_rates_cannot_tell_when_nothing_converged():
    verdict = claims.learning_rates(lr_table({0.01: [400] * 3, 0.1: [400] * 3}, cap=400))
    assert verdict.word == CANNOT_TELL
    assert "too few reached it" in verdict.sentence
    assert "epochs x lr" not in verdict.sentence and "one path" not in verdict.sentence


def test_the_1_over_lr_sentence_follows_the_data():
    rows = [("linear", lr, [e] * 3, 10**6) for lr, e in [(0.01, 900_000), (0.1, 20_000)]]
    sentence = claims.learning_rates(table("lr", rows)).sentence
    assert "epochs x lr is 2,000 to 9,000 over 2 rates, 350% apart." in sentence
    assert "one path" not in sentence


def test_hidden_units_words():
    steady = [("xor", u, [100_000 // u] * 3, 10**6) for u in (2, 4, 8)]
    assert claims.hidden_units(table("hidden_units", steady)).word == DISAGREES
    bumpy = [("xor", u, [e] * 3, 10**6) for u, e in [(2, 9000), (4, 4000), (8, 5000)]]
    assert claims.hidden_units(table("hidden_units", bumpy)).word == AGREES
    missed = [("xor", u, [400] * 3, 400) for u in (2, 4, 8)]
    assert claims.hidden_units(table("hidden_units", missed)).word == CANNOT_TELL


def test_accuracy():
    reached = table("x", [("linear", 0, [100] * 2, 400), ("xor", 0, [100] * 2, 400)])
    assert claims.accuracy(reached).word == AGREES
    short = table("x", [("linear", 0, [400] * 2, 400), ("xor", 0, [100] * 2, 400)])
    verdict = claims.accuracy(short)  # stopped by the cap on linear: not finished there
    assert verdict.word == CANNOT_TELL and "within the epoch cap on linear:" in verdict.sentence
    mixed = table("x", [("linear", 0, [100, 400], 400), ("xor", 0, [100, 400], 400)])
    verdict = claims.accuracy(mixed)
    assert verdict.word == DISAGREES and "median accuracy 0.950" in verdict.sentence
    assert claims.accuracy(short.iloc[:0]).word == CANNOT_TELL


def falls(linear: tuple, xor: tuple) -> pd.DataFrame:
    columns = ["fall", "at", "rises", "total"]
    return pd.DataFrame([linear, xor], index=["linear", "xor"], columns=columns)


def test_smoothness():
    assert claims.smoothness(falls((0.05, 0.5, 0, 2), (0.5, 0.9, 0, 2))).word == AGREES
    verdict = claims.smoothness(falls((0.5, 0.3, 0, 2), (0.05, 0.9, 0, 2)))
    assert (
        verdict.word == DISAGREES and "median 0.500 on linear and 0.050 on XOR" in verdict.sentence
    )
    flat = claims.smoothness(falls((0.001, 0.01, 0, 0.02), (0.001, 0.01, 0, 0.01)))
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
    return frame.assign(diverged=False)


def test_xor_without_activation_names_the_output_that_gives_the_reports_numbers():
    verdict = without_activation.xor(
        xor_runs([(0.2381, 0.762), (0.2494, 0.524)], [(0.2494, 0.524)])
    )
    assert verdict.word == AGREES
    assert "0 of 1 with a none output, 1 of 2 with a sigmoid output" in verdict.sentence
    assert "only a sigmoid output gives the report's numbers" in verdict.sentence
    other = without_activation.xor(xor_runs([(0.2494, 0.524)], [(0.2494, 0.524)]))
    assert other.word == DISAGREES and "only a" not in other.sentence


def test_linear_without_activation():
    noact = table("output_activation", [("linear", "sigmoid", [27_000] * 3, 10**5)])
    faster = table("x", [("linear", 0, [181_000] * 3, 10**6)])
    assert without_activation.linear(noact, faster).word == AGREES
    slower = table("x", [("linear", 0, [1_000] * 3, 10**6)])
    assert without_activation.linear(noact, slower).word == DISAGREES
    missed = table("output_activation", [("linear", "sigmoid", [400] * 3, 400)])
    none = table("x", [("linear", 0, [400] * 3, 400)])
    assert without_activation.linear(missed, none).word == CANNOT_TELL


def early(rows: list[tuple], until: int = 7_500) -> pd.DataFrame:
    """An early-gradients table from (dataset, activation, gradient norm, mean |f'|)."""
    frame = pd.DataFrame(
        rows, columns=[DATASET, ACTIVATION, "grad_norm_median", "mean_abs_derivative_median"]
    )
    return frame.assign(until=until, replicates=3)


def speeds(epochs: dict[str, list[int]], cap: int = 10**6) -> pd.DataFrame:
    rows = [("linear", name, e, cap) for name, e in epochs.items()]
    return table(ACTIVATION, rows)


SLOWEST = {"sigmoid": [180_000] * 3, "tanh": [23_000] * 3, "relu": [21_000] * 3}


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
    assert "against tanh and relu, which sigmoid ranks behind, both are 1.5x or more" in (
        verdict.sentence
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
    fast_sigmoid = {"sigmoid": [9_000] * 3, "tanh": [23_000] * 3, "relu": [21_000] * 3}
    gradients = early(
        [
            ("linear", "sigmoid", 0.002, 0.2),
            ("linear", "tanh", 0.009, 0.75),
            ("linear", "relu", 0.012, 0.5),
        ]
    )
    verdict = vanishing_gradient.sigmoid_gradient(speeds(fast_sigmoid), gradients)
    assert verdict.word == CANNOT_TELL
    assert "tanh and relu not counted: sigmoid does not rank behind them" in verdict.sentence
    # relu reached the threshold in fewer replicates: ranked behind sigmoid, not counted
    stuck = {**SLOWEST, "relu": [8_000, 10**6, 10**6]}
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
