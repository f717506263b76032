"""What every program shares in a worker: the ``ProgramRunner`` (fake backends and executors kept
for the next job), the ``Program`` entry of the registry, and the logging and metrics of a run.

Importing this module imports no Qiskit; a worker imports it when it runs its first task.
"""

from __future__ import annotations

import copy
import importlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..task import BackendRecipe, ExecutorRecipe, Task

if TYPE_CHECKING:
    from ..executors.base import Executor
    from ..options import PrimitiveSettings

__all__ = ["Program", "ProgramRunner", "Steps", "log_not_applied", "run_metrics", "versions"]


@dataclass(frozen=True)
class Program:
    """One IBM program this server runs (``sampler``, ``estimator``, ``executor``)."""

    #: The program id the client sends.
    name: str
    #: What it does, as ``GET /v1`` lists it.
    description: str
    #: Runs in the server (in a thread) at submission: raises ``ParamsError`` when the params
    #: (the client's JSON text) cannot run on a backend of the given number of qubits.
    validate: Callable[[str, int], None]
    #: Runs in a worker: the encoded result and the metrics of a task.
    run: Callable[[Task, ProgramRunner, logging.Logger], tuple[str, dict[str, Any]]]


class Steps:
    """Where a job's time goes in its worker: each ``lap`` adds the time since the previous one
    (or since the start) to a named step; ``seconds`` goes into the job's metrics
    (``worker_seconds``, read by benchmarks/worker_profile.py)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        """Count the time since the previous lap as ``step``."""
        now = time.perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - self._last
        self._last = now


def versions() -> dict[str, str]:
    """The versions of the packages that produce a result (Aer's from its module: its GPU
    build is another distribution, ``qiskit-aer-gpu``)."""
    from importlib.metadata import version

    import qiskit_aer

    return {
        "qiskit_version": version("qiskit"),
        "qiskit_aer_version": str(qiskit_aer.__version__),
        "qiskit_ibm_runtime_version": version("qiskit-ibm-runtime"),
    }


def log_not_applied(log: logging.Logger, names: Sequence[str]) -> None:
    """Name in the job's logs the options that are set and that this server does not apply."""
    if names:
        log.warning(
            "Options not applied by this server: %s (they have no meaning on a simulator).",
            ", ".join(names),
        )


class ProgramRunner:
    """Runs tasks in a worker process, keeping fake backends and executors for the next job."""

    def __init__(self) -> None:
        self._fake_backends: dict[str, Any] = {}
        self._executors: dict[tuple[str, str, str], Executor] = {}
        self._simulators: dict[int, tuple[Any, Any]] = {}
        self._estimators: dict[int, tuple[Any, Any]] = {}
        #: The versions of the packages that produce a result, read once per worker.
        self.versions = versions()

    def fake_backend(self, fake_class: str) -> Any:
        """The fake backend object of a ``module:ClassName``, built once per worker."""
        if fake_class not in self._fake_backends:
            module, cls = fake_class.split(":")
            self._fake_backends[fake_class] = getattr(importlib.import_module(module), cls)()
        return self._fake_backends[fake_class]

    def executor(self, recipe: ExecutorRecipe) -> Executor:
        """The executor a recipe describes, made once per worker for each distinct one."""
        from ..executors.registry import build_executor

        key = recipe.key()
        if key not in self._executors:
            self._executors[key] = build_executor(recipe)
        return self._executors[key]

    def backend(
        self,
        recipe: BackendRecipe,
        executor: Executor,
        settings: PrimitiveSettings,
        method: str,
    ) -> Any:
        """The ``BackendV2`` the executor gives for a job on the backend of ``recipe`` (its fake
        backend, or none for an ideal simulator) with ``settings`` and the planned ``method``."""
        fake = self.fake_backend(recipe.fake_class) if recipe.fake_class else None
        return executor.backend(fake, settings, method)

    def aer_simulator(self, backend: Any) -> Any:
        """An ``AerSimulator`` of its own for ``backend``, made once per backend object, as local
        testing mode's executor makes it: ``AerSimulator.from_backend`` for a fake backend (its
        noise model and target), a copy allowing any width for an ``AerSimulator``."""
        key = id(backend)
        if key not in self._simulators:
            from qiskit_aer import AerSimulator

            if isinstance(backend, AerSimulator):
                simulator = copy.deepcopy(backend)
                simulator.set_max_qubits(10000)
            else:
                simulator = AerSimulator.from_backend(backend)
            # The backend is kept with it so that its id is not reused by another object.
            self._simulators[key] = (backend, simulator)
        return self._simulators[key][1]

    def backend_estimator(self, backend: Any, options: dict[str, Any]) -> Any:
        """A ``BackendEstimatorV2`` on ``backend`` with ``options``. Making one builds a
        transpiler pass from the backend's target (tens of milliseconds, most of a small job's
        time on an ideal simulator, whose target Aer builds anew on each read), so one is made
        per backend object and each job gets a shallow copy with its own options."""
        from qiskit.primitives import BackendEstimatorV2
        from qiskit.primitives.backend_estimator_v2 import Options

        key = id(backend)
        if key not in self._estimators:
            self._estimators[key] = (backend, BackendEstimatorV2(backend=backend))
        estimator = copy.copy(self._estimators[key][1])
        estimator._options = Options(**options)
        return estimator


def run_metrics(
    runner: ProgramRunner, seconds: float, circuits: Sequence[Any], **extra: Any
) -> dict[str, Any]:
    """A job's metrics: simulation time, each circuit's width and depth, the package versions."""
    return {
        "usage_seconds": seconds,
        "num_qubits": [circuit.num_qubits for circuit in circuits],
        "circuit_depths": [circuit.depth() for circuit in circuits],
        **extra,
        **runner.versions,
    }
