"""Two settings compared seed by seed.

Replicate r of every job starts from the same seed, so two settings are compared as
pairs of replicates with the same ``replicate_seed``. Per seed, the one that reached the
loss threshold in fewer epochs is first; a seed where neither reached it (both
censored), both took the same epochs, or one was censored before the other's epoch (it
might have got there first had it run on) is a tie: it tells neither. The sign test
(``binomtest`` of the firsts over the seeds that were not ties) says how sure the count
is. Where both
reached the threshold for every seed, the per-seed ratio of epochs gets its median and
a paired bootstrap 95% interval. Where neither reached it for any seed, the final
losses are compared the same way: the lower per seed, with a Wilcoxon signed-rank test
on log final loss. :func:`holm` corrects several comparisons' p-values.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nnsweep.report.survival import CONFIDENCE, caps

ALPHA = 1 - CONFIDENCE
THRESHOLD, FINAL_LOSS = "threshold", "final loss"  # what a comparison is decided on
SIGN_TEST, WILCOXON = "sign test", "Wilcoxon signed-rank test"
RESAMPLES = 9999  # the bootstrap's; its generator is seeded: the report is reproducible


@dataclass(frozen=True)
class Paired:
    """``a`` against ``b`` over their common seeds. ``a_first``: seeds where a reached the
    threshold first (or, ``measure`` final loss, ended lower); ``ratio``: b's epochs over
    a's per seed, median and interval (NaN unless both reached it for every seed)."""

    a: str
    b: str
    measure: str
    seeds: int
    a_first: int
    b_first: int
    ties: int
    test: str
    p: float
    ratio: float = np.nan
    ratio_low: float = np.nan
    ratio_high: float = np.nan
    p_holm: float = np.nan  # set by :func:`against`: corrected over ``comparisons``
    comparisons: int = 1

    @property
    def p_used(self) -> float:
        """The p-value that decides: Holm's where several comparisons were made."""
        return self.p if np.isnan(self.p_holm) else self.p_holm

    @property
    def decided(self) -> bool:
        return self.p_used < ALPHA


def pairs(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Replicates of two settings joined on their seed: ``time_a``, ``time_b`` (epochs to
    the threshold, or the cap where it was not reached), ``reached_a``, ``reached_b`` and
    ``loss_a``, ``loss_b``."""

    def side(runs: pd.DataFrame, name: str) -> pd.DataFrame:
        runs = runs.dropna(subset=["replicate"]).drop_duplicates("replicate_seed")
        reached = runs["converged"].fillna(False).astype(bool)
        time = runs["epochs_run"].astype(float).where(reached, caps(runs).astype(float))
        return pd.DataFrame(
            {
                "seed": runs["replicate_seed"],
                f"time_{name}": time,
                f"reached_{name}": reached,
                f"loss_{name}": runs["final_loss"].astype(float),
            }
        )

    return side(a, "a").merge(side(b, "b"), on="seed").sort_values("seed")


def first(time: pd.Series, reached: pd.Series, other: pd.Series, other_reached: pd.Series):
    """Seeds where one side is known to have reached the threshold first: it reached it,
    and the other reached it later or was still above it at that epoch (censored there or
    after). A replicate censored at a cap below the other's epoch might have reached it
    first had it run on: that seed tells neither."""
    return reached & ((other_reached & (time < other)) | (~other_reached & (time <= other)))


def sign_test(a_first: int, b_first: int) -> float:
    """Two-sided sign test of the firsts (ties left out); 1 when every seed was a tie."""
    n = a_first + b_first
    return float(stats.binomtest(a_first, n).pvalue) if n else 1.0


def ratio_interval(time_a: np.ndarray, time_b: np.ndarray) -> tuple[float, float, float]:
    """Median of b's epochs over a's per seed, and its paired bootstrap 95% interval; with
    one seed its ratio and no interval (NaN: one pair resampled is always itself)."""
    ratio = lambda b, a, axis=-1: np.median(b / a, axis=axis)  # noqa: E731
    if len(time_a) < 2:
        return float(ratio(time_b, time_a)), np.nan, np.nan
    found = stats.bootstrap(
        (time_b, time_a),
        ratio,
        paired=True,
        vectorized=True,  # every resample at once: thousands of Python calls otherwise
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",  # BCa is undefined for identical ratios; percentile is not
        rng=np.random.default_rng(0),
    ).confidence_interval
    return float(ratio(time_b, time_a)), float(found.low), float(found.high)


def log_losses(loss_a: np.ndarray, loss_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log10 of the final losses; a diverged one (not finite) above every finite one. The
    signed-rank test uses only the ranks of the differences, so any value larger than
    the rest gives the test it would give a diverged loss's infinite difference."""
    logs = np.log10(np.concatenate([loss_a, loss_b]))
    finite = logs[np.isfinite(logs)]
    top = (finite.max() - finite.min() + 1) * 10 + finite.max() if finite.size else 0.0
    logs = np.where(np.isfinite(logs), logs, top)
    return logs[: len(loss_a)], logs[len(loss_a) :]


def loss_test(loss_a: np.ndarray, loss_b: np.ndarray) -> float:
    """Wilcoxon signed-rank p-value of log final losses, two-sided; 1 when all equal."""
    la, lb = log_losses(loss_a, loss_b)
    if np.all(la == lb):
        return 1.0
    return float(stats.wilcoxon(la, lb).pvalue)


def compare(a: pd.DataFrame, b: pd.DataFrame, a_name: str, b_name: str) -> Paired:
    """Setting ``a``'s replicates against ``b``'s, paired by seed."""
    joined = pairs(a, b)
    ta, tb = joined["time_a"], joined["time_b"]
    ra, rb = joined["reached_a"], joined["reached_b"]
    seeds = len(joined)
    if seeds and not (ra.any() or rb.any()):  # neither reached it: the final loss decides
        la, lb = log_losses(joined["loss_a"].to_numpy(), joined["loss_b"].to_numpy())
        a_first, b_first = int((la < lb).sum()), int((lb < la).sum())
        p = loss_test(joined["loss_a"].to_numpy(), joined["loss_b"].to_numpy())
        return Paired(a_name, b_name, FINAL_LOSS, seeds, a_first, b_first,
                      seeds - a_first - b_first, WILCOXON, p)  # fmt: skip
    a_first, b_first = int(first(ta, ra, tb, rb).sum()), int(first(tb, rb, ta, ra).sum())
    found = Paired(a_name, b_name, THRESHOLD, seeds, a_first, b_first,
                   seeds - a_first - b_first, SIGN_TEST, sign_test(a_first, b_first))  # fmt: skip
    if seeds and ra.all() and rb.all():
        ratio, low, high = ratio_interval(ta.to_numpy(), tb.to_numpy())
        found = _with(found, ratio=ratio, ratio_low=low, ratio_high=high)
    return found


def _with(found: Paired, **changes: float) -> Paired:
    return Paired(**{**found.__dict__, **changes})


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down correction: the i-th smallest of m p-values times (m - i + 1),
    never below the one before it, at most 1."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    corrected = np.empty(m)
    corrected[order] = np.minimum(stepped, 1.0)
    return corrected


def corrected(found: list[Paired]) -> list[Paired]:
    """``found`` with Holm's correction over all of them (one comparison: as it is)."""
    if len(found) < 2:
        return found
    ps = holm([f.p for f in found])
    return [_with(f, p_holm=c, comparisons=len(found)) for f, c in zip(found, ps, strict=True)]


def against(best: str, settings: dict[str, pd.DataFrame]) -> list[Paired]:
    """``best`` against each other setting, Holm-corrected over those comparisons."""
    found = [compare(settings[best], runs, best, name) for name, runs in settings.items()
             if name != best]  # fmt: skip
    return corrected(found)


def median_interval(values: np.ndarray) -> tuple[float, float, float]:
    """The median of ``values`` (the finite ones) and its bootstrap 95% interval."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan, np.nan
    if np.all(values == values[0]):  # nothing to resample: the interval is the value
        return float(values[0]), float(values[0]), float(values[0])
    ci = stats.bootstrap(
        (values,), np.median, n_resamples=RESAMPLES, confidence_level=CONFIDENCE,
        method="percentile", rng=np.random.default_rng(0),
    ).confidence_interval  # fmt: skip
    return float(np.median(values)), float(ci.low), float(ci.high)
