"""What a value may be: a test and the words for it, declared once beside the field and
checked in one place, with one message that names the field, the value and what is
allowed (as scikit-learn's ``_parameter_constraints``)."""

import math
from collections.abc import Callable
from typing import Any

from nnsweep.errors import ConfigError

Range = tuple[Callable[[Any], bool], str]  # (is the value allowed, what is allowed)

MAX_COUNT = 2**31 - 1  # counts stay far inside the engines' int64 arithmetic


def count(low: int, high: int = MAX_COUNT) -> Range:
    """An integer from ``low`` to ``high``."""
    return lambda v: low <= v <= high, f"an integer from {low:,} to {high:,}"


def finite(low: float, high: float = math.inf, low_open: bool = False) -> Range:
    """A finite number from ``low`` (excluded if ``low_open``) to ``high``."""
    above = (lambda v: v > low) if low_open else (lambda v: v >= low)
    text = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}" if high < math.inf else "")
    return lambda v: math.isfinite(v) and above(v) and v <= high, f"a finite number {text}"


RATE: Range = (lambda v: math.isfinite(v) and 0 <= v < 1, "a number from 0 to 1, 1 excluded")


def require(name: str, value: Any, allowed: Range) -> None:
    """Raise ConfigError naming ``name``, ``value`` and what is allowed, unless allowed."""
    ok, text = allowed
    if not ok(value):
        raise ConfigError(f"{name}={value!r} is out of range; allowed: {text}")
