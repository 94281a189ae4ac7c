"""Which epochs an engine records: loss.csv's epochs (every one up to a cap, then
log- and evenly spaced) and the snapshots' (log-spaced); and how many minibatch sample
orders the compiled engine draws at once."""

import numpy as np

# loss.csv keeps every epoch up to this cap, and beyond it a thinned set of epochs.
EVERY_EPOCH_UP_TO = 2000


LOG_SPACED, EVENLY_SPACED = 500, 1000


def recorded_epochs(
    epochs: int,
    every_up_to: int = EVERY_EPOCH_UP_TO,
    log_spaced: int = LOG_SPACED,
    evenly_spaced: int = EVENLY_SPACED,
) -> np.ndarray:
    """The epochs kept of a run of at most ``epochs``: all of them up to ``every_up_to``;
    else ``log_spaced`` log-spaced (the early descent) and ``evenly_spaced`` evenly spaced
    (the long tail) epochs, the first and the last always included. With the defaults,
    loss.csv's: a 1,000,000-epoch replicate keeps about 1,500 rows. The report draws its
    figures on a coarser grid of the same kind."""
    if epochs <= every_up_to:
        return np.arange(1, epochs + 1)
    spaced = [np.geomspace(1, epochs, log_spaced), np.linspace(1, epochs, evenly_spaced)]
    return np.unique(np.rint(np.concatenate(spaced)).astype(np.int64))


def snapshot_epochs(epochs: int, count: int) -> np.ndarray:
    """``count`` distinct epochs from 1 to ``epochs``, log-spaced, the first and the last
    included (every epoch when ``count`` >= ``epochs``; none when ``count`` is 0): each step
    is the ratio still to go spread evenly over the snapshots left, and at least one epoch."""
    if count >= epochs:
        return np.arange(1, epochs + 1)
    chosen = [1] if count > 1 else []
    for left in range(count - len(chosen), 0, -1):
        previous = chosen[-1] if chosen else 1
        step = round(previous * (epochs / previous) ** (1 / left))
        chosen.append(max(previous + 1, min(step, epochs - left + 1)))
    return np.array(chosen, dtype=np.int64)


# The compiled engine draws the minibatch sample orders of a block of epochs at once, for
# at most this many samples (32 MB), or one epoch's where that is more.
ORDER_ENTRIES_PER_BLOCK = 2**22
