"""Choosing components by name: one lookup, one error for every unknown name."""

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from nnsweep.errors import UnknownNameError

T = TypeVar("T")


def lookup(registry: Mapping[str, T], name: str, kind: str) -> T:
    """Return ``registry[name]``, or raise an error naming ``kind`` and the valid names."""
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        raise UnknownNameError(f"unknown {kind} {name!r}; valid choices: {valid}") from None


def settings_of(factory: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Every argument ``factory(*args, **kwargs)`` receives, by name, defaults filled in:
    what a component was made with, for an engine that rebuilds it from its name."""
    bound = inspect.signature(factory).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)
