"""The errors coopsim raises on purpose, under one base class.

Every error that means "this input (a scenario, an experiment, a results folder,
an argument) cannot be used, and here is why" derives from :class:`CoopsimError`.
Library users catch that one class; the command line turns it into one line on
stderr and exit code 2. Any other exception is a bug (the CLI writes a crash
report). This module imports nothing from the package, so every module can use it.
"""

from __future__ import annotations


class CoopsimError(Exception):
    """Base class of coopsim's deliberate errors: bad input, named in the message."""
