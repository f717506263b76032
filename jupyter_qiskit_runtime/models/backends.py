"""Backends: the listing, and a backend's configuration, calibration properties and status."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import Timestamp, WireModel


class BackendSummaryStatus(WireModel):
    """A backend's operational status in the listing (``least_busy`` reads ``name``)."""

    name: str = Field(description="``online`` for every backend of this server.")
    reason: str | None = None


class BackendSummary(WireModel):
    """One entry of ``GET /v1/backends``: only the fields the client reads.

    The entries come soonest first: among backends with the same ``queue_length``, the
    noise-free before the noisy, the wider before the narrower, virtual backends before IBM
    device names (the client's ``least_busy`` takes the first of the least busy).
    """

    name: str = Field(
        description="``<fake backend or ideal_<n>q>@<executor>``, or an IBM device name "
        "(``ibm_kingston``) that runs as the fake backend copying it on one executor."
    )
    qubits: int = Field(description="Number of qubits.")
    physical_qubits: int | None = Field(
        None, description="Number of physical qubits (``IBMBackend.physical_qubits``)."
    )
    status: BackendSummaryStatus
    queue_length: int = Field(
        description="Unfinished jobs (queued or running, across users) that a new job on this "
        "backend waits behind: those of every executor sharing its resource (the worker pool, "
        "or a GPU)."
    )
    executor: str | None = Field(None, description="The executor that runs it.")
    runs_as: str | None = Field(
        None, description="The virtual backend it runs as (itself, unless a device name)."
    )


class BackendList(WireModel):
    """``GET /v1/backends``."""

    devices: list[BackendSummary]


class BackendConfiguration(WireModel):
    """``GET /v1/backends/{name}/configuration``: a ``QasmBackendConfiguration`` dictionary.

    An open object: the fake backends' files carry many more fields (gates, timing, channels).
    """

    backend_name: str = Field(description="The name the client asked for (it names its backend).")
    backend_version: str
    n_qubits: int
    basis_gates: list[str]
    coupling_map: list[list[int]] | None = Field(description="Directed pairs; null: all-to-all.")
    simulator: bool = Field(description="True for ``ideal_*``: the client opens no session.")
    local: bool | None = None
    conditional: bool | None = None
    open_pulse: bool | None = None
    memory: bool | None = None
    max_shots: int | None = None
    max_experiments: int | None = None
    gates: list[dict[str, Any]] | None = None
    supported_instructions: list[str] | None = None
    description: str | None = None
    online_date: Timestamp | None = None
    processor_type: dict[str, Any] | None = None
    calibration_id: str | None = Field(None, description="The backend's one calibration.")


class Nduv(WireModel):
    """A calibrated quantity: name, date, unit, value."""

    name: str
    date: Timestamp
    unit: str
    value: float


class GateProperties(WireModel):
    """The calibration of one gate on some qubits."""

    gate: str
    qubits: list[int]
    parameters: list[Nduv]
    name: str | None = None


class BackendProperties(WireModel):
    """``GET /v1/backends/{name}/properties``: a ``BackendProperties`` dictionary.

    Empty (``{}``) for a noise-free ``ideal_*`` backend, which has no calibration.
    """

    backend_name: str | None = None
    backend_version: str | None = None
    last_update_date: Timestamp | None = None
    qubits: list[list[Nduv]] | None = Field(None, description="Per qubit: T1, T2, readout, ...")
    gates: list[GateProperties] | None = None
    general: list[Nduv] | None = None
    calibration_id: str | None = None


class BackendStatus(WireModel):
    """``GET /v1/backends/{name}/status``."""

    state: bool = Field(description="Operational.")
    status: str = Field(description="``active``; anything else makes the client warn.")
    message: str | None = None
    length_queue: int = Field(
        description="Unfinished jobs a new job on it waits behind (the listing's queue_length)."
    )
    backend_version: str
    executor: str | None = Field(None, description="The executor that runs it (not IBM's).")
    executor_queue_length: int | None = Field(
        None, description="Unfinished jobs of its executor on all its backends (not IBM's)."
    )
