"""discussion.md: each claim of the lab report beside the measurements of this run.

:func:`findings` turns the loaded sweeps (one per experiment of conf/experiment/) into
:class:`Finding`\\ s through :mod:`nnsweep.lab.claims`; :func:`markdown` writes them with
the figures the report's figure writer returned.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nnsweep.lab import claims, vanishing_gradient, without_activation
from nnsweep.lab.claims import DATASET, Verdict
from nnsweep.lab.measures import steepest_fall
from nnsweep.report import Sweep, markdown_table, setting_table, short_name
from nnsweep.report.early_gradients import WINDOW_POINTS, early_gradients
from nnsweep.report.markdown import interval

EPOCHS_RULE = (
    "Final loss and accuracy are median [min, max] over the replicates. Epochs to the "
    "threshold are censored (a replicate stopped at the epoch cap, or diverged, would have "
    "needed more): the Kaplan-Meier median with its 95% interval (open where no finite end "
    "is bounded; not reached where fewer than half converged), and the share that "
    "converged with its Wilson 95% interval. Replicate r of every setting starts from the "
    "same seed, so orderings are judged seed by seed: the sign test on which reached the "
    "threshold first (the Wilcoxon signed-rank test on log final loss where neither did), "
    "Holm-corrected for the comparisons one verdict makes. A verdict is decided at 95%; "
    'what the tests cannot decide is "cannot tell with N replicates".'
)
SMOOTHNESS_COLUMNS = (
    "Per dataset and over its replicates: *steepest fall*, the largest fall of log10(loss) "
    "within 1% of a run (small for a steady descent, large where a plateau ends in a sudden "
    "drop); *ends at*, where that fall ends, as a share of the run; *rises*, the share of "
    "recorded epochs at which the loss went up (noise); *decades*, how far the loss fell "
    "over the run, in powers of ten (a shape is judged once it fell tenfold)."
)

GRADIENT_CLAIM = (
    "why sigmoid learns slowest: its derivative, at most 0.25, shrinks the gradient reaching "
    "layer 1 (the report gives no reason; its derivatives suggest this one)"
)
GRADIENT_COLUMNS = (
    "The report shows these curves and gives no reason. Its derivatives, written from a "
    "layer's output y, suggest one: sigmoid's y(1-y) is at most 0.25, tanh's 1-y² at most 1, "
    "relu's 0 or 1, and back-propagation multiplies the gradient by them at every layer it "
    "passes on its way to layer 1. Per dataset and activation, from each job's layers.csv: "
    "*gradient norm*, of the loss gradient of layer 1's weights; *mean |f'|*, of layer "
    "1's units over the training points; each over the same early epochs, 1 to the shortest "
    "run on the dataset (every replicate compared still training; diverged ones left out): a "
    "replicate's median over {points} log-spaced epochs of them, then median [min, max] over "
    "the replicates; *x sigmoid's*, the median as a multiple of sigmoid's."
)


@dataclass
class Finding:
    """One claim of the report, the table it is judged on, the verdict, the experiment
    whose figures show it."""

    section: str
    claim: str
    table: pd.DataFrame
    verdicts: list[Verdict | str]
    experiment: str
    note: str = ""


def spread_table(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per setting, as discussion.md prints it: converged with its Wilson interval, diverged,
    final loss and accuracy as median [min, max], and the Kaplan-Meier median epochs to the
    threshold with its 95% interval."""
    table = setting_table(runs, keys)
    shown = table[keys].rename(columns=short_name)
    shown["converged"] = [
        f"{r.converged}/{r.replicates} ({r.converged_share_low:.0%}-{r.converged_share_high:.0%})"
        for r in table.itertuples()
    ]
    shown["diverged"] = table["diverged"]
    for name, stat, fmt in [
        ("final loss", "final_loss", ".4f"),
        ("accuracy", "final_accuracy", ".3f"),
    ]:
        shown[name] = [_spread(r, stat, fmt) for _, r in table.iterrows()]
    shown["epochs to threshold"] = [_censored(r) for _, r in table.iterrows()]
    return shown


def _spread(row: pd.Series, stat: str, fmt: str) -> str:
    median = row[f"{stat}_median"]
    if pd.isna(median):
        return "-"
    return f"{median:{fmt}} [{row[f'{stat}_min']:{fmt}}, {row[f'{stat}_max']:{fmt}}]"


def _censored(row: pd.Series) -> str:
    """``181,174 [166,799, 188,769]``, ``884,641 [880,784, open)``, ``1,200 (no
    interval)`` (one replicate) or ``not reached``."""
    median = row["epochs_km_median"]
    if not np.isfinite(median):
        return "not reached"
    return f"{median:,.0f} " + (
        interval(row["epochs_km_low"], row["epochs_km_high"]) or "(no interval)"
    )


def results(s: dict[str, Sweep]) -> list[Finding]:
    runs = s["results"].done
    claim = "linear and XOR, 2-4-4-1 sigmoid, gd, lr 0.01: accuracy 1.0"
    verdict = claims.accuracy(runs)
    found = [Finding("3", claim, spread_table(runs, [DATASET]), [verdict], "results")]
    falls = steepest_fall(s["results"].curves).reset_index()
    falls = falls.merge(runs[["job", "replicate", DATASET]], on=["job", "replicate"])
    table = falls.groupby(DATASET).agg(
        replicates=("fall", "size"),
        steepest_fall=("fall", "median"),
        fall_min=("fall", "min"),
        fall_max=("fall", "max"),
        ends_at=("at", "median"),
        rises=("rises", "median"),
        decades=("total", "median"),
    )
    claim = "linear's learning curve is smoother than XOR's"
    verdict = claims.smoothness(falls)
    table = table.reset_index().rename(columns=short_name)
    found.append(Finding("3", claim, table, [verdict], "results", SMOOTHNESS_COLUMNS))
    return found


def swept(s: dict[str, Sweep], name: str, field: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table discussion.md prints, and the replicates the claims are judged on."""
    runs = s[name].done
    return spread_table(runs, [DATASET, field]), runs


def learning_rates(s: dict[str, Sweep]) -> list[Finding]:
    shown, runs = swept(s, "learning_rates", "lr")
    claim = (
        "a higher learning rate does not always converge faster; on XOR 0.1 and 0.01 "
        "behave about the same, 0.1 slightly worse"
    )
    return [Finding("4A", claim, shown, [claims.learning_rates(runs)], "learning_rates")]


def hidden_units(s: dict[str, Sweep]) -> list[Finding]:
    shown, runs = swept(s, "hidden_units", "hidden_units")
    claim = "more hidden units are not always better; on linear, more units gave a higher loss"
    return [Finding("4B", claim, shown, [claims.hidden_units(runs)], "hidden_units")]


def no_activation(s: dict[str, Sweep]) -> list[Finding]:
    runs, keys = s["no_activation"].done, [DATASET, without_activation.OUTPUT]
    sigmoid = s["activations"].done
    sigmoid = sigmoid[sigmoid["activation.name"] == "sigmoid"]
    baseline = spread_table(sigmoid, [DATASET]).assign(
        output_activation="sigmoid, sigmoid hidden layers"
    )
    table = pd.concat([spread_table(runs, keys), baseline], ignore_index=True)
    linear = without_activation.linear(runs, sigmoid)
    xor = without_activation.xor(runs[runs[DATASET] == "xor"])
    claim = (
        "without activation functions (lr 0.05, 4 units): linear still reaches accuracy 1.0 "
        "and converges faster than with sigmoid; XOR stalls at loss 0.238, accuracy 0.761"
    )
    return [Finding("4C", claim, table, [linear, xor], "no_activation")]


def gradient_table(early: pd.DataFrame) -> pd.DataFrame:
    """:func:`early_gradients` as discussion.md prints it: per dataset and activation, the
    epochs compared, replicates, and each measure as median [min, max] and x sigmoid's."""
    shown = early[[DATASET, vanishing_gradient.ACTIVATION]].rename(columns=short_name)
    shown["epochs"] = [f"1 to {u:,}" for u in early["until"]]
    shown["replicates"] = early["replicates"]
    is_sigmoid = early[vanishing_gradient.ACTIVATION] == vanishing_gradient.SIGMOID
    for name, measure in [("gradient norm", "grad_norm"), ("mean |f'|", "mean_abs_derivative")]:
        median, low, high = (early[f"{measure}_{how}"] for how in ("median", "min", "max"))
        sigmoid = median.where(is_sigmoid).groupby(early[DATASET]).transform("max")
        shown[name] = [
            f"{m:.3g} [{lo:.3g}, {hi:.3g}]" for m, lo, hi in zip(median, low, high, strict=True)
        ]
        shown[f"{name} x sigmoid's"] = (median / sigmoid).map("{:.2g}".format)
    return shown


def activations(s: dict[str, Sweep]) -> list[Finding]:
    """The ranking of the activations, then why sigmoid is slowest, from the gradients."""
    name, field = "activations", vanishing_gradient.ACTIVATION
    shown, runs = swept(s, name, field)
    ranking = Finding("5", "activations, gd, lr 0.05", shown, [claims.ranking(runs, field)], name)
    early = early_gradients(s[name], [DATASET, field])
    verdict = vanishing_gradient.sigmoid_gradient(runs, early)
    note = GRADIENT_COLUMNS.format(points=WINDOW_POINTS)
    why = Finding("5", GRADIENT_CLAIM, gradient_table(early), [verdict], name, note)
    return [ranking, why]


def measured(name: str, field: str, claim: str) -> Callable[[dict[str, Sweep]], list[Finding]]:
    def finding(s: dict[str, Sweep]) -> list[Finding]:
        shown, runs = swept(s, name, field)
        return [Finding("5", claim, shown, [claims.ranking(runs, field)], name)]

    return finding


# each analysis, the experiments it reads, in the report's order
ANALYSES: list[tuple[tuple[str, ...], Callable[[dict[str, Sweep]], list[Finding]]]] = [
    (("results",), results),
    (("learning_rates",), learning_rates),
    (("hidden_units",), hidden_units),
    (("no_activation", "activations"), no_activation),
    (("optimizers",), measured("optimizers", "optimizer.name", "optimizers at lr 0.05")),
    (("activations",), activations),
]


def findings(sweeps: dict[str, Sweep]) -> list[Finding]:
    """Every claim whose experiments are loaded."""
    return [f for needs, analyse in ANALYSES if set(needs) <= set(sweeps) for f in analyse(sweeps)]


def markdown(found: list[Finding], figures: dict[str, list[Path]], out: Path, header: str) -> str:
    """discussion.md; ``figures``: per experiment, the paths the figure writer returned."""
    lines = ["# The lab report's claims, measured again", "", header, "", EPOCHS_RULE, ""]
    last = {f.experiment: i for i, f in enumerate(found)}
    for i, f in enumerate(found):
        lines += [f"## Section {f.section}: {f.claim}", ""]
        if not f.table.empty:
            lines += [markdown_table(f.table), ""]
        lines += [f.note, ""] if f.note else []
        lines += [line for v in f.verdicts for line in (str(v), "")]
        if last[f.experiment] == i:  # an experiment's figures once, under its last claim
            paths = [p.relative_to(out).as_posix() for p in figures.get(f.experiment, [])]
            lines += [f"![{Path(p).stem}]({p})" for p in paths] + [""]
    return "\n".join(lines)
