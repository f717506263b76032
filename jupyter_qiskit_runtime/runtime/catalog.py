"""The backend catalog: virtual backends named ``<metadata>@<executor>``.

Metadata comes from the fake backends shipped with ``qiskit_ibm_runtime.fake_provider``
(topology, calibration, noise) plus a family of ideal all-to-all simulators; executors come from
configuration. The catalog reads the fake backends' JSON files directly and lazily, so building it
costs nothing until the API is first used, and it never instantiates a simulator.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import inspect
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..execution.executors.aer import AER_METHODS, AerExecutor
from ..execution.executors.base import Capabilities
from ..execution.task import BackendRecipe, ExecutorRecipe
from .errors import BackendNotFoundError, NotFoundError

#: Gates offered by the ideal all-to-all simulators: Qiskit standard gates that Aer runs natively.
IDEAL_BASIS_GATES = [
    "id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg",
    "rx", "ry", "rz", "p", "u", "cx", "cy", "cz", "ecr", "swap", "ccx",
    "rzz", "measure", "reset", "delay",
]  # fmt: skip

#: Widths of the ideal all-to-all simulator family, named ``ideal_<n>q``.
IDEAL_WIDTHS = (5, 20, 32)


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


@dataclass(frozen=True)
class Metadata:
    """Where one backend's topology and calibration come from."""

    name: str
    #: ``module:ClassName`` of the fake backend, or ``None`` for an ideal simulator.
    fake_class: str | None
    conf_path: Path | None
    props_path: Path | None
    n_qubits: int


@dataclass(frozen=True)
class VirtualBackend:
    """One entry of the catalog: a metadata source run by an executor."""

    name: str
    metadata: Metadata
    executor: ConfiguredExecutor

    def recipe(self) -> BackendRecipe:
        """What a worker process needs to build this backend's simulator (plain data)."""
        return BackendRecipe(
            name=self.name,
            fake_class=self.metadata.fake_class,
            n_qubits=self.metadata.n_qubits,
            executor=self.executor.recipe(),
        )


def _fake_backend_metadata() -> list[Metadata]:
    fake_provider = importlib.import_module("qiskit_ibm_runtime.fake_provider")
    base = fake_provider.fake_backend.FakeBackendV2
    found: dict[str, Metadata] = {}
    cls: Any
    for attr, cls in vars(fake_provider).items():
        if not (inspect.isclass(cls) and issubclass(cls, base) and cls is not base):
            continue
        name = str(getattr(cls, "backend_name", ""))
        dirname = getattr(cls, "dirname", None)
        conf_name = getattr(cls, "conf_filename", None)
        if not dirname or not conf_name or name in found:
            continue
        conf_path = Path(dirname) / conf_name
        props_name = getattr(cls, "props_filename", None)
        props_path = Path(dirname) / props_name if props_name else None
        with conf_path.open() as f:
            n_qubits = int(json.load(f)["n_qubits"])
        found[name] = Metadata(
            name=name,
            fake_class=f"{cls.__module__}:{attr}",
            conf_path=conf_path,
            props_path=props_path if props_path and props_path.exists() else None,
            n_qubits=n_qubits,
        )
    return sorted(found.values(), key=lambda m: m.name)


def _ideal_metadata() -> list[Metadata]:
    return [Metadata(f"ideal_{n}q", None, None, None, n) for n in IDEAL_WIDTHS]


def _ideal_configuration(name: str, n_qubits: int) -> dict[str, Any]:
    return {
        "backend_name": name,
        "backend_version": "1.0.0",
        "n_qubits": n_qubits,
        "basis_gates": list(IDEAL_BASIS_GATES),
        "gates": [],
        "local": True,
        "simulator": True,
        "conditional": True,
        "open_pulse": False,
        "memory": True,
        "max_shots": 1_000_000,
        "max_experiments": 300,
        "coupling_map": None,
        "supported_instructions": [*IDEAL_BASIS_GATES, "if_else", "while_loop", "for_loop"],
        "supported_features": ["qobj", "dynamic_circuits"],
        "meas_levels": [1, 2],
        "description": f"Ideal all-to-all simulator with {n_qubits} qubits",
        "online_date": "2024-01-01T00:00:00Z",
        "processor_type": {"family": "Simulator", "revision": "1"},
    }


def _per_executor(queue_lengths: dict[str, int]) -> dict[str, int]:
    """Unfinished jobs per executor, from those per backend."""
    counts: dict[str, int] = {}
    for backend, count in queue_lengths.items():
        executor = backend.rpartition("@")[2]
        counts[executor] = counts.get(executor, 0) + count
    return counts


class BackendCatalog:
    """Every virtual backend: each metadata source under each configured executor.

    Thread-safe and lazy: the fake backend files are read on first use and cached.
    """

    def __init__(
        self,
        executors: tuple[ConfiguredExecutor, ...] = DEFAULT_EXECUTORS,
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        self._executors = executors
        self._unavailable = dict(unavailable or {})
        self._lock = threading.Lock()
        self._backends: dict[str, VirtualBackend] | None = None
        self._configurations: dict[str, dict[str, Any]] = {}
        self._properties: dict[str, dict[str, Any] | None] = {}

    @property
    def executors(self) -> tuple[ConfiguredExecutor, ...]:
        """The configured executors that run here."""
        return self._executors

    @property
    def unavailable(self) -> dict[str, str]:
        """Executors that were configured (or are defaults) but cannot run here, with why."""
        return dict(self._unavailable)

    def _index(self) -> dict[str, VirtualBackend]:
        with self._lock:
            if self._backends is None:
                metadata = [*_fake_backend_metadata(), *_ideal_metadata()]
                self._backends = {
                    f"{m.name}@{e.name}": VirtualBackend(f"{m.name}@{e.name}", m, e)
                    for m in metadata
                    for e in self._executors
                }
            return self._backends

    def names(self) -> list[str]:
        """All backend names, sorted."""
        return sorted(self._index())

    def get(self, name: str) -> VirtualBackend:
        """The backend called ``name``; a ``BackendNotFoundError`` naming close matches if none."""
        backends = self._index()
        backend = backends.get(name)
        if backend is None:
            raise BackendNotFoundError(self._not_found_message(name, backends))
        return backend

    def _not_found_message(self, name: str, backends: dict[str, VirtualBackend]) -> str:
        candidates = list(backends)
        if "@" not in name:
            candidates = [n for n in candidates if n.startswith(f"{name}@")] or candidates
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        executors = ", ".join(e.name for e in self._executors)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        executor = name.rpartition("@")[2] if "@" in name else None
        if executor in self._unavailable:
            hint += (
                f" Executor '{executor}' cannot run on this server: {self._unavailable[executor]}."
            )
        elif executor is not None and all(e.name != executor for e in self._executors):
            hint += f" This server has no executor '{executor}'."
        return (
            f"Backend '{name}' does not exist.{hint} Backends are named "
            f"'<fake backend>@<executor>' with executors: {executors}."
        )

    def configuration(self, name: str) -> dict[str, Any]:
        """The backend's configuration in the shape of IBM's ``/configuration`` endpoint."""
        backend = self.get(name)
        meta = backend.metadata
        if meta.name not in self._configurations:
            if meta.conf_path is None:
                conf = _ideal_configuration(meta.name, meta.n_qubits)
            else:
                with meta.conf_path.open() as f:
                    conf = json.load(f)
            self._configurations[meta.name] = conf
        conf = copy.deepcopy(self._configurations[meta.name])
        # The client names its backend object after this field: it must be the name asked for.
        conf["backend_name"] = name
        conf["description"] = (
            f"{conf.get('description') or meta.name} ({backend.executor.description})"
        )
        # Aer runs control flow: a backend whose instructions include it runs dynamic circuits,
        # which is what the client's backends(dynamic_circuits=True) looks for.
        features = conf.setdefault("supported_features", [])
        if (
            "if_else" in conf.get("supported_instructions", [])
            and "dynamic_circuits" not in features
        ):
            features.append("dynamic_circuits")
        conf["calibration_id"] = self.calibration_id(name)
        return conf

    def _raw_properties(self, meta: Metadata) -> dict[str, Any] | None:
        """The metadata's calibration data as read (cached; not to be changed)."""
        if meta.name not in self._properties:
            props = None
            if meta.props_path is not None:
                with meta.props_path.open() as f:
                    props = json.load(f)
            self._properties[meta.name] = props
        return self._properties[meta.name]

    def properties(self, name: str) -> dict[str, Any] | None:
        """The backend's calibration data, or ``None`` for an ideal simulator."""
        backend = self.get(name)
        props = copy.deepcopy(self._raw_properties(backend.metadata))
        if props is not None:
            props["backend_name"] = name
            props["calibration_id"] = self.calibration_id(name)
        return props

    def calibrated_at(self, name: str) -> datetime | None:
        """When the backend's one calibration was taken (its properties' ``last_update_date``,
        in UTC), or ``None`` for a backend without calibration data."""
        props = self._raw_properties(self.get(name).metadata)
        if props is None or not props.get("last_update_date"):
            return None
        taken = datetime.fromisoformat(str(props["last_update_date"]))
        return (taken if taken.tzinfo else taken.replace(tzinfo=UTC)).astimezone(UTC)

    def calibration_id(self, name: str) -> str:
        """The id of the backend's one calibration; both executors of a metadata share it.

        A backend with calibration data has ``<metadata>-<last_update_date as YYYYMMDDTHHMMSSZ>``
        (``fake_manila-20240527T182723Z``); one without (the ideal simulators) has
        ``<metadata>-ideal``. The id changes only if the calibration data does.
        """
        taken = self.calibrated_at(name)
        stamp = taken.strftime("%Y%m%dT%H%M%SZ") if taken else "ideal"
        return f"{self.get(name).metadata.name}-{stamp}"

    def check_calibration(self, name: str, calibration_id: str | None) -> None:
        """Raise ``NotFoundError`` unless ``calibration_id`` is absent or the backend's own."""
        if calibration_id is None:
            return
        known = self.calibration_id(name)
        if calibration_id != known:
            raise NotFoundError(
                f"Backend {name} has no calibration '{calibration_id}'. It has one calibration, "
                f"'{known}'."
            )

    def status(self, name: str, queue_lengths: dict[str, int]) -> dict[str, Any]:
        """The backend's status in the shape the client reads, given the unfinished jobs per
        backend: its own, its executor and the executor's jobs on all its backends (the jobs
        that share its engine)."""
        executor = self.get(name).executor.name
        return {
            "state": True,
            "status": "active",
            "message": "available",
            "length_queue": queue_lengths.get(name, 0),
            "backend_version": "1.0.0",
            "executor": executor,
            "executor_queue_length": _per_executor(queue_lengths).get(executor, 0),
        }

    def executor_listing(
        self, queue_lengths: dict[str, int], worker_memory: int
    ) -> list[dict[str, Any]]:
        """The executors as ``GET /v1`` lists them: type, settings, capabilities and unfinished
        jobs (from the unfinished jobs per backend). An executor without memory of its own (a
        GPU's) gives a job the worker's memory budget, ``worker_memory`` bytes."""
        queued = _per_executor(queue_lengths)
        return [
            {
                "name": e.name,
                "type": e.type,
                "noisy": e.noisy,
                "description": e.description,
                "settings": dict(e.recipe().settings),
                "capabilities": {
                    **e.capabilities,
                    "memory_bytes": e.capabilities.get("memory_bytes") or worker_memory or None,
                },
                "max_concurrent_jobs": e.max_concurrent_jobs,
                "queue_length": queued.get(e.name, 0),
            }
            for e in self._executors
        ]

    def summaries(self, queue_lengths: dict[str, int]) -> list[dict[str, Any]]:
        """The ``/backends`` listing: only the fields the client reads, to keep it small."""
        return [
            {
                "name": b.name,
                "qubits": b.metadata.n_qubits,
                "status": {"name": "online", "reason": "available"},
                "queue_length": queue_lengths.get(b.name, 0),
                "executor": b.executor.name,
            }
            for b in self._index().values()
        ]
