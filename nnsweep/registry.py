"""Choosing components by name: one lookup, one error for every unknown name."""

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class UnknownNameError(ValueError):
    """A name that is not in a registry; the message lists the valid names."""


def lookup(registry: Mapping[str, T], name: str, kind: str) -> T:
    """Return ``registry[name]``, or raise an error naming ``kind`` and the valid names."""
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        raise UnknownNameError(f"unknown {kind} {name!r}; valid choices: {valid}") from None
