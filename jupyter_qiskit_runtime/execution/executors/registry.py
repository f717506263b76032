"""Executor types: this package's own, and plug-ins found in the entry-point group
``jupyter_qiskit_runtime.executors``; and making a worker's executor from its recipe.

A plug-in is any installed distribution with an entry point in that group whose name is the type
(``example = "example_executor:ExampleExecutor"``) and whose value is an ``Executor`` subclass.
One that cannot be imported, or is not an ``Executor``, is logged and skipped: it never stops
the server. The built-in names (``aer``, ``custatevec``) cannot be taken by a plug-in.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ..task import ExecutorRecipe
from .base import Executor, ExecutorConfigError

__all__ = [
    "BUILTIN_TYPES",
    "ENTRY_POINT_GROUP",
    "ExecutorType",
    "build_executor",
    "discover_executor_types",
    "load_executor_class",
]

#: The entry-point group where executor types register.
ENTRY_POINT_GROUP = "jupyter_qiskit_runtime.executors"

#: This package's own types (also registered as entry points in pyproject.toml; listed here so
#: that they work from a source tree whose entry points are not installed).
BUILTIN_TYPES = {
    "aer": "jupyter_qiskit_runtime.execution.executors.aer:AerExecutor",
    "custatevec": "jupyter_qiskit_runtime.execution.executors.custatevec:CuStateVecExecutor",
}

#: Who provides the built-in types.
BUILTIN_SOURCE = "jupyter-qiskit-runtime"


@dataclass(frozen=True)
class ExecutorType:
    """An executor type: its name (the ``type`` in configuration), import path and class."""

    name: str
    #: ``module:Class``: what a worker imports.
    ref: str
    cls: type[Executor]
    #: The distribution that provides it.
    source: str


def load_executor_class(ref: str) -> type[Executor]:
    """The ``Executor`` subclass at ``module:Class``; ``ExecutorConfigError`` if it is not one.
    Errors raised by importing the module propagate."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ExecutorConfigError(f"'{ref}' is not an import path of the form 'module:Class'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, Executor)):
        raise ExecutorConfigError(f"{ref} is not a subclass of {Executor.__module__}.Executor")
    return obj


def _entry_points() -> Iterable[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def discover_executor_types(log: logging.Logger) -> dict[str, ExecutorType]:
    """Every executor type that can be loaded, by name: the built-in ones first, then the
    plug-ins in name order. A plug-in that fails to load is logged (warning) and skipped."""
    types = {
        name: ExecutorType(name, ref, load_executor_class(ref), BUILTIN_SOURCE)
        for name, ref in BUILTIN_TYPES.items()
    }
    for ep in _entry_points():
        source = ep.dist.name if ep.dist is not None else "an unknown distribution"
        taken = types.get(ep.name)
        if taken is not None:
            if taken.ref != ep.value:
                log.warning(
                    "Executor plug-in '%s' = %s (from %s) is skipped: the type name '%s' is "
                    "taken by %s.",
                    ep.name, ep.value, source, ep.name, taken.source,
                )  # fmt: skip
            continue
        try:
            cls = load_executor_class(ep.value)
        except (Exception, SystemExit) as exc:  # a broken plug-in must never stop the server
            log.warning(
                "Executor plug-in '%s' = %s (from %s) could not be loaded and is skipped: "
                "%s: %s",
                ep.name, ep.value, source, type(exc).__name__, exc,
            )  # fmt: skip
            continue
        types[ep.name] = ExecutorType(ep.name, ep.value, cls, source)
    return types


def build_executor(recipe: ExecutorRecipe) -> Executor:
    """A worker's executor from its recipe (``ConfiguredExecutor.recipe``)."""
    cls = load_executor_class(recipe.class_path)
    return cls(recipe.name, dict(recipe.settings))
