"""The backend catalog: virtual backends named ``<metadata>@<executor>``, and IBM device names.

Metadata comes from the fake backends shipped with ``qiskit_ibm_runtime.fake_provider``
(topology, calibration, noise) plus a family of ideal all-to-all simulators (``metadata.py``);
executors come from configuration. The catalog reads the fake backends' JSON files directly and
lazily, so building it costs nothing until the API is first used, and it never instantiates a
simulator. Each answer is serialized once and served as bytes from then on.

A fake backend copies an IBM device (``fake_kingston`` copies ``ibm_kingston``); the device's
name is an alias of the fake backend on one executor (``device_executor``, ``aer`` by default):
``ibm_kingston`` is listed as a backend of its own, and a job or session on it runs on, and is
recorded as, ``fake_kingston@aer``.

The listing is ordered so that, among backends with the same queue length, the one that runs a
user's job soonest comes first (the client's ``least_busy`` takes the first of the least busy):
the noise-free before the noisy (no noise model to build and apply), then the wider before the
narrower (any circuit that fits a backend fits it, and Aer drops the qubits a circuit leaves
idle, so width costs a noise-free simulation nothing), then virtual backends before IBM device
names, then the executors in their configured order. See docs/backends.md.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..execution.task import BackendRecipe
from .configured import AER_EXECUTOR_CLASS, DEFAULT_EXECUTORS, ConfiguredExecutor
from .errors import BackendNotFoundError, NotFoundError
from .metadata import (
    IDEAL_BASIS_GATES,
    IDEAL_WIDTHS,
    Answers,
    Metadata,
    fake_backend_metadata,
    ideal_metadata,
    load_answers,
    splice,
)

__all__ = [
    "AER_EXECUTOR_CLASS",
    "DEFAULT_DEVICE_EXECUTOR",
    "DEFAULT_EXECUTORS",
    "IDEAL_BASIS_GATES",
    "IDEAL_WIDTHS",
    "BackendCatalog",
    "ConfiguredExecutor",
    "Metadata",
    "VirtualBackend",
]


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


#: The executor that runs IBM device names when the server is not told otherwise.
DEFAULT_DEVICE_EXECUTOR = "aer"


def _per_executor(queue_lengths: Mapping[str, int]) -> dict[str, int]:
    """Unfinished jobs per executor, from those per backend."""
    counts: dict[str, int] = {}
    for backend, count in queue_lengths.items():
        executor = backend.rpartition("@")[2]
        counts[executor] = counts.get(executor, 0) + count
    return counts


@dataclass
class _Index:
    """The catalog's tables, built once."""

    #: Virtual backends by name.
    backends: dict[str, VirtualBackend]
    #: IBM device name to the virtual backend it runs on.
    devices: dict[str, VirtualBackend]
    #: Every name (virtual backends and device names) in listing order.
    listing: list[str]


class BackendCatalog:
    """Every virtual backend: each metadata source under each configured executor, and each
    IBM device name on the executor ``device_executor`` (none when it is empty or not one of
    ``executors``).

    Thread-safe and lazy: the fake backend files are read on first use and cached.
    """

    def __init__(
        self,
        executors: tuple[ConfiguredExecutor, ...] = DEFAULT_EXECUTORS,
        unavailable: Mapping[str, str] | None = None,
        device_executor: str | None = DEFAULT_DEVICE_EXECUTOR,
    ) -> None:
        self._executors = executors
        self._unavailable = dict(unavailable or {})
        self._device_executor = device_executor or None
        self._lock = threading.Lock()
        self._index_cache: _Index | None = None
        self._answers: dict[str, Answers] = {}
        self._configurations: dict[str, bytes] = {}
        # The executors that share a resource (a GPU) wait for each other; the others share
        # the worker pool ("").
        self._groups = {e.name: e.concurrency_key or "" for e in executors}

    @property
    def executors(self) -> tuple[ConfiguredExecutor, ...]:
        """The configured executors that run here."""
        return self._executors

    @property
    def unavailable(self) -> dict[str, str]:
        """Executors that were configured (or are defaults) but cannot run here, with why."""
        return dict(self._unavailable)

    @property
    def device_executor(self) -> str | None:
        """The executor that runs IBM device names, or ``None`` if they are not offered."""
        if any(e.name == self._device_executor for e in self._executors):
            return self._device_executor
        return None

    def _index(self) -> _Index:
        with self._lock:
            if self._index_cache is None:
                metadata = [*fake_backend_metadata(), *ideal_metadata()]
                backends = {
                    f"{m.name}@{e.name}": VirtualBackend(f"{m.name}@{e.name}", m, e)
                    for m in metadata
                    for e in self._executors
                }
                runner = self.device_executor
                devices = {
                    m.device_name: backends[f"{m.name}@{runner}"]
                    for m in metadata
                    if runner and m.device_name and m.device_name not in backends
                }
                rank = {e.name: i for i, e in enumerate(self._executors)}

                def soonest_first(name: str) -> tuple[Any, ...]:
                    b = devices.get(name) or backends[name]
                    return (b.executor.noisy, -b.metadata.n_qubits, name in devices,
                            rank[b.executor.name], name)  # fmt: skip

                listing = sorted([*backends, *devices], key=soonest_first)
                self._index_cache = _Index(backends, devices, listing)
            return self._index_cache

    def names(self) -> list[str]:
        """All virtual backend names, sorted (IBM device names are not among them)."""
        return sorted(self._index().backends)

    def device_names(self) -> dict[str, str]:
        """IBM device names and the virtual backend each runs on."""
        return {alias: b.name for alias, b in self._index().devices.items()}

    def get(self, name: str) -> VirtualBackend:
        """The backend called ``name`` (for an IBM device name, the one it runs on); a
        ``BackendNotFoundError`` naming close matches if none."""
        index = self._index()
        backend = index.backends.get(name) or index.devices.get(name)
        if backend is None:
            raise BackendNotFoundError(self._not_found_message(name, index))
        return backend

    def resolve(self, name: str) -> str:
        """The virtual backend's name for ``name``: itself, or the one an IBM device name runs
        on (``ibm_kingston`` → ``fake_kingston@aer``). Jobs and sessions record this name."""
        return self.get(name).name

    def canonical(self, name: str | None) -> str | None:
        """``resolve`` for a filter: the virtual backend of an IBM device name, and any other
        name (known or not: it then selects nothing) as it is."""
        device = self._index().devices.get(name) if name else None
        return device.name if device is not None else name

    def _not_found_message(self, name: str, index: _Index) -> str:
        candidates = [*index.backends, *index.devices]
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
        devices = (
            f" IBM device names such as {next(iter(sorted(index.devices)))} run as the fake "
            f"backend that copies the device, on '{self.device_executor}'."
            if index.devices
            else ""
        )
        return (
            f"Backend '{name}' does not exist.{hint} Backends are named "
            f"'<fake backend>@<executor>' with executors: {executors}.{devices}"
        )

    def _answers_of(self, meta: Metadata) -> Answers:
        answers = self._answers.get(meta.name)
        if answers is None:
            answers = load_answers(meta)  # two threads may both read: the result is the same
            self._answers[meta.name] = answers
        return answers

    def configuration_json(self, name: str) -> bytes:
        """The backend's configuration in the shape of IBM's ``/configuration`` endpoint, as
        JSON; ``backend_name`` is ``name`` (the client names its backend object after it)."""
        text = self._configurations.get(name)
        if text is None:
            backend = self.get(name)
            answers = self._answers_of(backend.metadata)
            alias = f"; IBM device name of {backend.name}" if name != backend.name else ""
            own = {
                "backend_name": name,
                "description": f"{answers.description} ({backend.executor.description}{alias})",
                "calibration_id": self.calibration_id(name),
            }
            text = splice(own, answers.configuration)
            self._configurations[name] = text
        return text

    def configuration(self, name: str) -> dict[str, Any]:
        """``configuration_json``, decoded (a fresh copy)."""
        result: dict[str, Any] = json.loads(self.configuration_json(name))
        return result

    def properties_json(self, name: str) -> bytes | None:
        """The backend's calibration data as JSON, or ``None`` for an ideal simulator."""
        answers = self._answers_of(self.get(name).metadata)
        if answers.properties is None:
            return None
        own = {"backend_name": name, "calibration_id": self.calibration_id(name)}
        return splice(own, answers.properties)

    def properties(self, name: str) -> dict[str, Any] | None:
        """``properties_json``, decoded (a fresh copy)."""
        text = self.properties_json(name)
        return None if text is None else json.loads(text)

    def calibrated_at(self, name: str) -> datetime | None:
        """When the backend's one calibration was taken (its properties' ``last_update_date``,
        in UTC), or ``None`` for a backend without calibration data."""
        return self._answers_of(self.get(name).metadata).calibrated_at

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

    def pending_work(self, queue_lengths: Mapping[str, int]) -> dict[str, int]:
        """Per executor, the unfinished jobs (queued or running) a new job on it waits behind:
        those of every executor that shares its resource (a GPU's executors share the GPU; the
        others share the worker pool)."""
        per_executor = _per_executor(queue_lengths)
        per_group: dict[str, int] = {}
        for executor, count in per_executor.items():
            group = self._groups.get(executor)
            if group is not None:
                per_group[group] = per_group.get(group, 0) + count
        return {name: per_group.get(group, 0) for name, group in self._groups.items()}

    def status(self, name: str, queue_lengths: Mapping[str, int]) -> dict[str, Any]:
        """The backend's status in the shape the client reads, given the unfinished jobs per
        backend: ``length_queue`` is its executor's ``pending_work``; ``executor_queue_length``
        the executor's own unfinished jobs."""
        executor = self.get(name).executor.name
        return {
            "state": True,
            "status": "active",
            "message": "available",
            "length_queue": self.pending_work(queue_lengths).get(executor, 0),
            "backend_version": "1.0.0",
            "executor": executor,
            "executor_queue_length": _per_executor(queue_lengths).get(executor, 0),
        }

    def executor_listing(
        self, queue_lengths: Mapping[str, int], worker_memory: int
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

    def summaries(self, queue_lengths: Mapping[str, int]) -> list[dict[str, Any]]:
        """The ``/backends`` listing, soonest first (see the module): only the fields the client
        reads, to keep it small. ``queue_length`` is the executor's ``pending_work``."""
        index = self._index()
        pending = self.pending_work(queue_lengths)
        listed = []
        for name in index.listing:
            backend = index.devices.get(name) or index.backends[name]
            listed.append(
                {
                    "name": name,
                    "qubits": backend.metadata.n_qubits,
                    "physical_qubits": backend.metadata.n_qubits,
                    "status": {"name": "online", "reason": "available"},
                    "queue_length": pending.get(backend.executor.name, 0),
                    "executor": backend.executor.name,
                    "runs_as": backend.name,
                }
            )
        return listed
