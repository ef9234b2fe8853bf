"""Errors a user can act on.

The CLI prints a `BenchError` as a message (no traceback): its text must say what is wrong and
what to provide instead (a path, an environment variable, a flag).
"""

from __future__ import annotations


class BenchError(Exception):
    """An error caused by the user's input or environment, with an actionable message."""


class ConfigError(BenchError):
    """A configuration file or option is invalid."""


class MissingResourceError(BenchError):
    """A checkpoint, dataset root or store that the command needs is not there."""
