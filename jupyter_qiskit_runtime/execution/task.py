"""What crosses from the server to a worker and back: a ``Task`` and its ``TaskOutcome``.

Both are plain, picklable dataclasses of strings, numbers and mappings: no Qiskit or Aer object
and nothing live. Any worker, a local worker process or a remote one, can be handed a ``Task``
and answer with a ``TaskOutcome``. Importing this module imports no Qiskit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BackendRecipe", "ExecutorRecipe", "Task", "TaskOutcome"]


@dataclass(frozen=True)
class ExecutorRecipe:
    """What a worker makes a job's executor (the simulation engine) from."""

    #: The executor's name, the part of backend names after ``@`` (``aer_ideal``).
    name: str
    #: The executor type's name (``aer``, ``custatevec``, a plug-in's).
    type: str
    #: ``module:Class`` of the ``Executor`` subclass, which the worker imports.
    class_path: str
    #: The executor's complete settings, as ``Executor.worker_settings`` gives them.
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def key(self) -> tuple[str, str, str]:
        """What identifies one executor in a worker, which keeps it for the next job."""
        return (self.name, self.class_path, repr(sorted(self.settings.items())))


@dataclass(frozen=True)
class BackendRecipe:
    """The backend's part of a task: what a worker builds the job's simulator from."""

    #: The virtual backend's name, ``<metadata>@<executor>``.
    name: str
    #: ``module:ClassName`` of the fake backend, or ``None`` for an ideal simulator.
    fake_class: str | None
    n_qubits: int
    executor: ExecutorRecipe


@dataclass(frozen=True)
class Task:
    """One job, as a worker runs it."""

    job_id: str
    #: The IBM program: ``sampler``, ``estimator`` or ``executor``.
    program_id: str
    backend: BackendRecipe
    #: The params exactly as the client sent them (RuntimeEncoder JSON text).
    params: str
    #: Memory the simulation may use, in bytes; 0 means no budget.
    memory_budget: int = 0


@dataclass
class TaskOutcome:
    """What a worker answers for one task: the encoded result, or the error and traceback."""

    ok: bool
    result: str | None = None
    logs: str = ""
    #: A failed task's error, ``TypeName: message``: what the client sees.
    error: str | None = None
    #: A failed task's traceback, for the server's log (the job's logs hold it too), never sent
    #: to the client as the job's reason or results.
    traceback: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
