"""The API's root: ``GET /v1`` (version, programs, executors) and ``GET /v1/instances/usage``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import WireModel


class ProgramInfo(WireModel):
    """A program this server runs."""

    id: str = Field(description="The program id to send as ``program_id``, e.g. ``sampler``.")
    description: str


class ExecutorCapabilities(WireModel):
    """What an executor supports."""

    devices: list[str] = Field(description="Where it simulates: ``CPU``, ``GPU``.")
    methods: list[str] = Field(description="Simulation methods it may use (Aer's names).")
    noise: bool = Field(description="Whether it can apply noise (the backend's or the client's).")
    max_qubits: int | None = Field(
        None, description="The widest circuit it runs (idle qubits dropped); null: memory decides."
    )
    memory_bytes: int | None = Field(
        None, description="Memory one job's simulation may use (a GPU's share, or the worker's)."
    )


class ExecutorInfo(WireModel):
    """An executor: the second half of a backend name ``<metadata>@<executor>``."""

    name: str = Field(description="e.g. ``aer``, ``aer_ideal`` or ``custatevec``.")
    type: str | None = Field(None, description="Its type: ``aer``, ``custatevec`` or a plug-in's.")
    noisy: bool = Field(description="Whether it applies the fake backend's noise model.")
    description: str
    settings: dict[str, Any] | None = Field(None, description="Its settings, defaults included.")
    capabilities: ExecutorCapabilities | None = None
    max_concurrent_jobs: int | None = Field(
        None, description="Most of its jobs that run at once; null: only the pool size limits."
    )
    queue_length: int | None = Field(
        None, description="Its unfinished jobs (queued or running) on all its backends."
    )


class UnavailableExecutor(WireModel):
    """An executor that is configured (or a default) but cannot run on this server."""

    name: str
    reason: str = Field(description="Why, and what to install or change.")


class ServiceInfo(WireModel):
    """``GET /v1``: this server's version, programs and executors."""

    name: str = Field(description="Always ``jupyter-qiskit-runtime``.")
    version: str = Field(description="The extension's version.")
    api_version: str = Field(description="The API's version, ``v1``.")
    programs: list[ProgramInfo]
    executors: list[ExecutorInfo]
    unavailable_executors: list[UnavailableExecutor] = Field(
        default_factory=list, description="Executors left out at start, with the reason."
    )


class Usage(WireModel):
    """``GET /v1/instances/usage``, in IBM's shape: a local server never reaches a limit."""

    instance_id: str | None = None
    plan_id: str | None = None
    usage_consumed_seconds: float = Field(description="Seconds used; 0 here.")
    usage_limit_seconds: float | None = Field(None, description="No limit: null.")
    usage_allocation_seconds: float | None = None
    usage_remaining_seconds: int = Field(
        description="An int, as IBM's: 2**31 - 1 here, as no limit applies."
    )
    usage_limit_reached: bool = Field(description="The client warns when true; never here.")
    usage_period: Any = Field(None, description="IBM's billing period; null here.")
