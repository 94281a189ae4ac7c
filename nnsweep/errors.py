"""The errors a user's input raises: each message names the field, the value and what is
allowed, and the command line prints it as one line."""


class ConfigError(ValueError):
    """A config value out of range: the message names the field, the value and what is allowed."""


class UnknownNameError(ValueError):
    """A name that is not in a registry; the message lists the valid names."""
