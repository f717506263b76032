"""The executor interface: what a simulation engine provides to run this server's programs.

An executor type is a subclass of ``Executor``. The server makes one instance per configured
executor (a name and a settings dict) at start: to check the settings, to learn whether it can run
on this machine (``availability``) and to describe it (``capabilities``, ``concurrency``). Each
worker process makes its own instance from the same plain JSON (the type's import path and the
settings, see ``registry.build_executor``) and, for each job, asks it to ``plan`` the simulation
and for the ``backend`` that runs it: a Qiskit ``BackendV2``, which the sampler, estimator and
executor programs drive exactly as IBM's local testing mode drives a fake backend.

Modules that define executors are imported by the server: they must not import Qiskit at import
time. Import it inside ``plan`` and ``backend``, which run only in worker processes.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from qiskit.circuit import QuantumCircuit
    from qiskit.providers import BackendV2

    from ..methods import SimulationPlan
    from ..options import PrimitiveSettings

__all__ = ["COMMON_SETTINGS", "Capabilities", "Executor", "ExecutorConfigError", "Setting"]


class ExecutorConfigError(ValueError):
    """An executor's configuration is invalid; the message says what to change."""


@dataclass(frozen=True)
class Setting:
    """One setting an executor type accepts: its type, default, meaning and allowed values.

    ``kind`` is ``bool``, ``int``, ``float`` or ``str`` (an ``int`` is accepted for a ``float``).
    A setting whose default is ``None`` also accepts ``None``.
    """

    kind: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def check(self, name: str, value: Any) -> Any:
        """``value`` as this setting holds it; ``ExecutorConfigError`` naming ``name`` when it
        is invalid."""
        if value is None and self.default is None:
            return None
        kinds: tuple[type, ...] = (int, float) if self.kind is float else (self.kind,)
        is_bool = isinstance(value, bool)  # a bool is an int to Python, not to a setting
        if (self.kind is bool) != is_bool or not any(isinstance(value, k) for k in kinds):
            raise ExecutorConfigError(
                f"setting '{name}' must be {_kind_name(self.kind)}, not {value!r}"
            )
        if self.choices and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ExecutorConfigError(f"setting '{name}' must be one of {allowed}, not {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ExecutorConfigError(f"setting '{name}' must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ExecutorConfigError(f"setting '{name}' must be at most {self.maximum}")
        return float(value) if self.kind is float else value


def _kind_name(kind: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        kind, kind.__name__
    )


#: The settings every executor type accepts (a type may change their defaults).
COMMON_SETTINGS: Mapping[str, Setting] = {
    "noise": Setting(
        bool,
        False,
        "Apply the fake backend's own noise model, as IBM's local testing mode does; false "
        "simulates without noise. A noise model sent by the client applies either way.",
    ),
    "default_shots": Setting(
        int,
        None,
        "Shots of a sampler PUB that sets none, when the job's options set no default_shots "
        "either; null keeps the primitive's own default (1024).",
        minimum=1,
    ),
    "max_concurrent_jobs": Setting(
        int,
        None,
        "Most jobs of this executor that run at once (the others wait in the queue); null: only "
        "QiskitRuntimeApp.pool_size limits them.",
        minimum=1,
    ),
}


@dataclass(frozen=True)
class Capabilities:
    """What an executor supports, as ``GET /v1`` lists it."""

    #: The devices it simulates on: ``CPU``, ``GPU``.
    devices: tuple[str, ...] = ("CPU",)
    #: The simulation methods it may use (Aer's names: ``statevector``, ``stabilizer``, ...).
    methods: tuple[str, ...] = ()
    #: Whether it can apply noise (the backend's noise model or one sent by the client).
    noise: bool = False
    #: The widest circuit it can run (after dropping idle qubits); ``None``: only memory limits.
    max_qubits: int | None = None
    #: The memory one job's simulation may use, in bytes; ``None``: the worker's memory budget
    #: (``QiskitRuntimeApp.worker_memory_limit``).
    memory_bytes: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        data = asdict(self)
        data["devices"], data["methods"] = list(self.devices), list(self.methods)
        return data


class Executor(abc.ABC):
    """A simulation engine. Subclass it, implement ``backend``, declare ``SETTINGS``; override
    ``plan`` to choose or refuse a simulation, ``availability`` to say when it cannot run here,
    ``capabilities`` and ``concurrency`` to describe it.

    Register the subclass in the entry-point group ``jupyter_qiskit_runtime.executors``; the
    entry point's name is the ``type`` administrators write in ``QiskitRuntimeApp.executors``.
    """

    #: A one-line description of the type (``describe`` may say more per instance).
    description: ClassVar[str] = "A simulator"
    #: The settings this type accepts, by name. Unknown names are refused at start.
    SETTINGS: ClassVar[Mapping[str, Setting]] = COMMON_SETTINGS
    #: Instances the server offers when ``QiskitRuntimeApp.executors`` is not set: executor name
    #: to settings. Each is added only where ``availability`` finds nothing missing.
    DEFAULT_INSTANCES: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        #: The executor's name: the part after ``@`` in its backends' names.
        self.name = name
        #: The settings, checked and completed with the defaults (plain JSON data).
        self.settings: dict[str, Any] = self.check_settings(settings or {})

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The settings completed with defaults; ``ExecutorConfigError`` for an unknown name or
        an invalid value."""
        if not isinstance(settings, Mapping):
            raise ExecutorConfigError(f"the settings must be a mapping, not {settings!r}")
        unknown = sorted(set(settings) - set(cls.SETTINGS))
        if unknown:
            raise ExecutorConfigError(
                f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                f"type {cls.__name__} takes: {', '.join(sorted(cls.SETTINGS))}"
            )
        return {
            key: spec.check(key, settings.get(key, spec.default))
            for key, spec in cls.SETTINGS.items()
        }

    @property
    def noisy(self) -> bool:
        """Whether it applies the fake backend's own noise model."""
        return bool(self.settings.get("noise", False))

    @property
    def default_shots(self) -> int | None:
        """Shots of a sampler PUB when neither the PUB nor the job's options set them."""
        shots = self.settings.get("default_shots")
        return int(shots) if shots else None

    # -- in the server, at start: no Qiskit, nothing slow -----------------------------------

    def availability(self) -> str | None:
        """Why this executor cannot run on this machine (a sentence that says what to install
        or change), or ``None`` when it can. May complete ``settings`` with what it detects:
        they travel to the workers."""
        return None

    def describe(self) -> str:
        """One line about this instance, shown in ``GET /v1`` and in backend descriptions."""
        return self.description

    def capabilities(self) -> Capabilities:
        """What this executor supports."""
        return Capabilities()

    def concurrency(self) -> tuple[str, int] | None:
        """A resource its jobs hold while they run, and how many may hold it at once; ``None``
        when only ``pool_size`` limits them. Executors naming the same resource (one GPU) share
        it, with the smallest of their limits."""
        limit = self.settings.get("max_concurrent_jobs")
        return (f"executor:{self.name}", int(limit)) if limit else None

    def worker_settings(self) -> dict[str, Any]:
        """The settings the workers' instances are made with."""
        return dict(self.settings)

    # -- in a worker process ----------------------------------------------------------------

    def plan(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        noisy: bool,
        shots: int | Sequence[int],
        budget_bytes: int,
        parameterized: Sequence[bool] | None = None,
    ) -> SimulationPlan:
        """How to simulate a job's circuits, or ``SimulationRefused`` saying why not.

        ``noisy`` is true when the executor applies the backend's noise or the client sent a
        noise model; ``budget_bytes`` is the worker's host memory budget. The default is
        ``methods.plan_simulation``: override to adjust its plan or to refuse."""
        from ..methods import plan_simulation

        return plan_simulation(
            circuits,
            noisy=noisy,
            shots=shots,
            budget_bytes=budget_bytes,
            parameterized=parameterized,
        )

    @abc.abstractmethod
    def backend(
        self, fake_backend: BackendV2 | None, options: PrimitiveSettings, method: str
    ) -> BackendV2:
        """The backend that runs one job.

        ``fake_backend`` is the fake backend the job's backend is named after (topology,
        calibration, noise model), or ``None`` for an ideal all-to-all simulator; ``options``
        are the job's options as the simulator applies them (``noise_model``, ``seed``, ...);
        ``method`` is the planned method (``automatic`` lets the simulator choose). The
        returned object may be cached and returned again for later jobs."""
