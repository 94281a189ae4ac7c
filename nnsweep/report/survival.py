"""Epochs to the loss threshold as censored data: per setting, the Kaplan-Meier estimate,
its median with a 95% interval, and the share that converged with a Wilson interval.

A replicate that reached the threshold gives its epoch. One that did not (it stopped at
the epoch cap, or diverged) gives no epoch count: it would have taken more than the cap,
so it is censored there (a diverged replicate never reaches the threshold, so it too is
censored at the cap, not at the epoch it diverged). ``scipy.stats.ecdf`` of a
``scipy.stats.CensoredData`` is the Kaplan-Meier estimate of the share still above the
threshold (its ``sf``); the median is the first epoch where that share is at most 0.5,
"not reached" (inf) when fewer than half converged. Its interval is where the pointwise
95% band (log-log, which keeps it inside [0, 1] for few replicates) first drops to 0.5:
the lower band gives the lower end, the upper band the upper end, which is open (inf)
where the upper band never drops that far.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95  # every interval of the report and the discussion
BAND = "log-log"  # the Kaplan-Meier band's method: stays in [0, 1] for a handful of replicates
MEDIAN = 0.5


@dataclass(frozen=True)
class TimeToThreshold:
    """One setting's epochs to the threshold, censored; inf is "not reached" or "open"."""

    replicates: int
    converged: int
    median: float
    median_low: float
    median_high: float
    share_low: float
    share_high: float


def censored(epochs_run: np.ndarray, reached: np.ndarray, cap: np.ndarray) -> stats.CensoredData:
    """The replicates' epochs to the threshold: observed where ``reached``, else censored
    at ``cap`` (each replicate's epoch cap)."""
    reached = np.asarray(reached, dtype=bool)
    times = np.where(reached, epochs_run, cap).astype(float)
    return stats.CensoredData(uncensored=times[reached], right=times[~reached])


def first_below(times: np.ndarray, share: np.ndarray, level: float = MEDIAN) -> float:
    """The first of ``times`` where ``share`` is at most ``level``; inf if none (NaN, an
    undefined band, never counts as below)."""
    below = np.flatnonzero(np.nan_to_num(share, nan=np.inf) <= level)
    return float(times[below[0]]) if below.size else np.inf


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The Wilson 95% interval of a share (``binomtest(...).proportion_ci``); NaN for none."""
    if trials == 0:
        return np.nan, np.nan
    ci = stats.binomtest(successes, trials).proportion_ci(CONFIDENCE, method="wilson")
    return float(ci.low), float(ci.high)


def time_to_threshold(
    epochs_run: np.ndarray, reached: np.ndarray, cap: np.ndarray
) -> TimeToThreshold:
    """Kaplan-Meier median and interval, and the share converged, of one setting."""
    reached = np.asarray(reached, dtype=bool)
    n, k = len(reached), int(reached.sum())
    share = wilson(k, n)
    if k == 0:  # every replicate censored: the share above the threshold never falls
        return TimeToThreshold(n, 0, np.inf, np.inf, np.inf, *share)
    sf = stats.ecdf(censored(epochs_run, reached, cap)).sf
    with warnings.catch_warnings():  # the band is undefined where the share is 0 or 1: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(CONFIDENCE, method=BAND)
    median = first_below(sf.quantiles, sf.probabilities)
    low = first_below(band.low.quantiles, band.low.probabilities)
    high = first_below(band.high.quantiles, band.high.probabilities)
    return TimeToThreshold(n, k, median, low, high, *share)


SURVIVAL_COLUMNS = {  # settings.csv's and the tables' names for TimeToThreshold's fields
    "median": "epochs_km_median",
    "median_low": "epochs_km_low",
    "median_high": "epochs_km_high",
    "share_low": "converged_share_low",
    "share_high": "converged_share_high",
}


def caps(runs: pd.DataFrame) -> pd.Series:
    """Each replicate's epoch cap: the config's ``epochs``, else (a table without the
    config) the epochs it ran."""
    return runs["epochs"] if "epochs" in runs else runs["epochs_run"]


def survival_columns(runs: pd.DataFrame) -> pd.Series:
    """:class:`TimeToThreshold` of the replicate rows ``runs`` (one setting), as a row."""
    rows = runs.dropna(subset=["replicate"])
    found = time_to_threshold(
        rows["epochs_run"].to_numpy(dtype=float),
        rows["converged"].fillna(False).to_numpy(dtype=bool),
        caps(rows).to_numpy(dtype=float),
    )
    return pd.Series({name: getattr(found, key) for key, name in SURVIVAL_COLUMNS.items()})


def survival_curve(runs: pd.DataFrame) -> pd.DataFrame:
    """The Kaplan-Meier share still above the threshold of one setting's replicates, with its
    95% band, as steps: epoch, share, low, high (starting at epoch 0, share 1)."""
    rows = runs.dropna(subset=["replicate"])
    reached = rows["converged"].fillna(False).to_numpy(dtype=bool)
    start = pd.DataFrame({"epoch": [0.0], "share": [1.0], "low": [1.0], "high": [1.0]})
    if not reached.any():
        return start
    data = censored(rows["epochs_run"].to_numpy(float), reached, caps(rows).to_numpy(float))
    sf = stats.ecdf(data).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(CONFIDENCE, method=BAND)
    steps = pd.DataFrame(
        {
            "epoch": sf.quantiles,
            "share": sf.probabilities,
            # an undefined band (the share 0 or 1) is drawn as the share itself
            "low": np.where(
                np.isnan(band.low.probabilities), sf.probabilities, band.low.probabilities
            ),
            "high": np.where(
                np.isnan(band.high.probabilities), sf.probabilities, band.high.probabilities
            ),
        }
    )
    return pd.concat([start, steps], ignore_index=True)
