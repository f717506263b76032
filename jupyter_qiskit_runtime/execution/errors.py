"""Errors of the execution layer, shared by the programs and the server-side validation."""

from __future__ import annotations


class ParamsError(ValueError):
    """The params cannot be decoded or do not describe valid input for the program."""


class SimulationRefused(RuntimeError):
    """The simulation cannot run as asked (too much memory, no method fits); the message says why
    and what to change. Raised before anything big is allocated."""
