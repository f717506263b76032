"""A configured executor as the server sees it, and the executors of a server without
configuration. Plain data: importing it imports no Qiskit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..execution.executors.aer import AER_METHODS, AerExecutor
from ..execution.executors.base import Capabilities
from ..execution.task import ExecutorRecipe

__all__ = ["AER_EXECUTOR_CLASS", "DEFAULT_EXECUTORS", "ConfiguredExecutor"]

#: The import path of the Aer CPU executor type, the type of the default executors.
AER_EXECUTOR_CLASS = "jupyter_qiskit_runtime.execution.executors.aer:AerExecutor"


@dataclass(frozen=True)
class ConfiguredExecutor:
    """A configured executor as the server sees it (``runtime/executor_config.py`` builds them
    from ``QiskitRuntimeApp.executors``): what the catalog, the scheduler and ``GET /v1`` need,
    and what a worker needs to make it (``recipe``), all plain data."""

    name: str
    #: Whether it applies the fake backend's own noise model.
    noisy: bool
    description: str
    #: The type's name (its entry point) and import path.
    type: str = "aer"
    class_path: str = AER_EXECUTOR_CLASS
    #: The settings, complete (empty: ``{"noise": noisy}``).
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: ``Capabilities.to_json()`` of the executor.
    capabilities: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: The resource its running jobs hold (``gpu:0``), and how many may hold it at once.
    concurrency_key: str | None = None
    max_concurrent_jobs: int | None = None

    def recipe(self) -> ExecutorRecipe:
        """What a worker process makes this executor from (``registry.build_executor``)."""
        return ExecutorRecipe(
            name=self.name,
            type=self.type,
            class_path=self.class_path,
            settings=dict(self.settings) or {"noise": self.noisy},
        )


def _aer_executor(name: str, noisy: bool, description: str) -> ConfiguredExecutor:
    return ConfiguredExecutor(
        name,
        noisy,
        description,
        settings=AerExecutor.check_settings({"noise": noisy}),
        capabilities=Capabilities(devices=("CPU",), methods=AER_METHODS, noise=True).to_json(),
    )


#: The executors of a server without configuration (where no GPU executor can run).
DEFAULT_EXECUTORS = (
    _aer_executor("aer", True, "Qiskit Aer on CPU with the backend's own noise model"),
    _aer_executor("aer_ideal", False, "Qiskit Aer on CPU, noise-free"),
)
