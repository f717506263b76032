"""Pydantic models of the API's request and response bodies: the wire contract, in one place.

They describe what the server sends and accepts in the shapes of IBM's Qiskit Runtime REST API
(and IBM Cloud IAM's token exchange), and feed the OpenAPI document (``openapi.py``). The handlers
do not use them to build answers; the tests check real answers against them.

Models are strict (``"5"`` is not an integer) except for timestamps, which travel as ISO 8601
strings. Response models allow extra fields: the server, or IBM's API, may add more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

#: An ISO 8601 date and time, as a string on the wire.
Timestamp = Annotated[datetime, Strict(False)]

#: A job's status. The client reads it case-insensitively.
JobStatus = Literal["Queued", "Running", "Completed", "Failed", "Cancelled"]

#: A job's tags, as IBM limits them: at most 8 (duplicates dropped) of at most 86 characters.
Tags = Annotated[list[Annotated[str, Field(max_length=86)]], Field(max_length=8)]


class WireModel(BaseModel):
    """A body whose fields are all named here; unknown fields are kept, not refused."""

    model_config = ConfigDict(strict=True, extra="allow")


# -- errors and the service -------------------------------------------------------------------


class ErrorDetail(WireModel):
    """What went wrong, as the official client shows it."""

    message: str = Field(description="A sentence for the person who reads it in the client.")
    code: int = Field(
        description="A stable machine-readable code: 1400 invalid request, 1413 too large, "
        "1401 not authorized, 1404 not found (1211 backend, 1212 program, 1217 job, "
        "1219 session), "
        "1409 wrong state, 1429 too many unfinished jobs, 1503 shutting down; "
        "the HTTP status for an error Jupyter itself raises (403 without credentials)."
    )


class ErrorBody(WireModel):
    """Every error: the client appends ``error.message`` and ``error.code`` to its exception."""

    error: ErrorDetail
    message: str = Field(description="The same message, where Jupyter's own clients look.")


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
    usage_remaining_seconds: float | None = None
    usage_limit_reached: bool = Field(description="The client warns when true; never here.")
    usage_period: Any = Field(None, description="IBM's billing period; null here.")


# -- backends ---------------------------------------------------------------------------------


class BackendSummaryStatus(WireModel):
    """A backend's operational status in the listing (``least_busy`` reads ``name``)."""

    name: str = Field(description="``online`` for every backend of this server.")
    reason: str | None = None


class BackendSummary(WireModel):
    """One entry of ``GET /v1/backends``: only the fields the client reads."""

    name: str = Field(description="``<fake backend or ideal_<n>q>@<executor>``.")
    qubits: int = Field(description="Number of qubits.")
    status: BackendSummaryStatus
    queue_length: int = Field(description="Unfinished jobs on this backend, across users.")
    executor: str | None = Field(None, description="The executor that runs it.")


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
    length_queue: int = Field(description="Unfinished jobs on this backend, across users.")
    backend_version: str
    executor: str | None = Field(None, description="The executor that runs it (not IBM's).")
    executor_queue_length: int | None = Field(
        None, description="Unfinished jobs of its executor on all its backends (not IBM's)."
    )


# -- jobs -------------------------------------------------------------------------------------


class JobCreateRequest(WireModel):
    """``POST /v1/jobs``: run a program on a backend."""

    program_id: str = Field(description="``sampler`` or ``estimator``.")
    backend: str = Field(description="A backend name from ``GET /v1/backends``.")
    params: dict[str, Any] = Field(
        description="The program's inputs encoded by ``RuntimeEncoder`` (circuits as QPY): "
        "``pubs``, ``options``, ``version``, ``support_qiskit``."
    )
    tags: Tags | None = None
    session_id: str | None = Field(None, description="The session or batch the job runs in.")
    log_level: str | None = None
    runtime: str | None = Field(None, description="IBM's image name; recorded only.")
    cost: int | None = Field(None, gt=0, description="Maximum execution time in seconds.")
    private: bool | None = None
    start_session: bool | None = Field(None, description="Older clients: open a session.")
    session_time: int | None = Field(None, description="With ``start_session``: its length.")
    calibration_id: str | None = Field(None, description="A backend calibration to run on.")


class JobCreated(WireModel):
    """The answer to ``POST /v1/jobs`` (201, with the job's URL in ``Location``)."""

    id: str
    backend: str
    session_id: str | None = None


class JobState(WireModel):
    """A job's state; ``reason_code`` 1305 with ``Cancelled`` means it ran out of time."""

    status: JobStatus
    reason: str | None = Field(None, description="Why it failed or was cancelled.")
    reason_code: int | None = None


class JobProgram(WireModel):
    """The program a job runs."""

    id: str


class Job(WireModel):
    """``GET /v1/jobs/{id}``, and each entry of the job listing."""

    id: str
    backend: str
    state: JobState
    status: JobStatus = Field(description="The same as ``state.status``.")
    program: JobProgram
    created: Timestamp
    started: Timestamp | None = Field(
        None,
        description="When it last started running (not part of IBM's shape); null while queued "
        "and for a job cancelled before it ran.",
    )
    ended: Timestamp | None = Field(description="When it reached a final state; null before.")
    session_id: str | None
    tags: list[str]
    runtime: str
    private: bool
    cost: int | None = Field(description="Maximum execution time in seconds, if given.")
    user_id: str = Field(description="The owner.")
    calibration_id: str | None = None
    params: dict[str, Any] | None = Field(
        None, description="The submitted params; absent with ``exclude_params=true``."
    )


class JobList(WireModel):
    """``GET /v1/jobs``: one page of the user's jobs."""

    jobs: list[Job]
    count: int = Field(description="Jobs matching the filters, over all pages.")
    limit: int
    offset: int


class JobChanges(WireModel):
    """``GET /v1/jobs/changes``: the user's jobs changed since a cursor, and the next cursor."""

    jobs: list[Job] = Field(
        description="Each job changed since ``since`` once, as it is now (without params), in "
        "the order of their latest changes; empty if the timeout passed without a change."
    )
    cursor: str = Field(description="Send it as ``since`` to get the changes after these.")
    more: bool = Field(description="Whether ``limit`` left changed jobs out: ask again at once.")


class MetricsTimestamps(WireModel):
    """When a job was created, started running and finished."""

    created: Timestamp
    running: Timestamp | None
    finished: Timestamp | None


class MetricsUsage(WireModel):
    """Simulation time; ``job.usage()`` reads ``qpu_charge_time_seconds``."""

    quantum_seconds: float
    seconds: float
    qpu_charge_time_seconds: float
    status: str = Field(description="``pending`` until the job is final (counts as 0), then done.")


class MetricsBss(WireModel):
    """Billing seconds, as IBM reports them."""

    seconds: float


class SimulatorMetrics(WireModel):
    """How a job was simulated: Aer's method, why it was chosen, and its memory estimate."""

    executor: str | None = Field(None, description="The executor that ran it.")
    method: str | list[str] = Field(description="The Aer method used (stabilizer, ...).")
    device: str | list[str] | None = Field(None, description="Where Aer ran it: CPU or GPU.")
    planned_method: str = Field(description="The method chosen before the run.")
    reason: str = Field(description="Why that method was chosen.")
    active_qubits: int = Field(description="Qubits the simulation really used.")
    estimated_memory_bytes: int = Field(description="Estimated memory of the simulated state.")


class JobMetrics(WireModel):
    """``GET /v1/jobs/{id}/metrics``."""

    timestamps: MetricsTimestamps
    usage: MetricsUsage
    bss: MetricsBss | None = None
    position_in_queue: int | None = Field(description="1-based among the user's queued jobs.")
    estimated_start_time: Timestamp | None = None
    num_qubits: list[int] = Field(description="Width of each PUB's circuit.")
    circuit_depths: list[int] = Field(description="Depth of each PUB's circuit.")
    qiskit_version: str | None = None
    qiskit_aer_version: str | None = None
    qiskit_ibm_runtime_version: str | None = None
    simulator: SimulatorMetrics | None = Field(
        None, description="How the job was simulated (absent until it ran)."
    )


class TagsUpdate(WireModel):
    """``PUT /v1/jobs/{id}/tags``: the job's new tags, replacing the old ones."""

    tags: Tags


class Workload(WireModel):
    """One entry of ``GET /v1/workloads``: a job, session or batch."""

    id: str
    mode: str | None = Field(None, description="``job``, ``session`` or ``batch``.")
    backend: str | None = None
    status: str | None = Field(None, description="pending, in_progress, completed, ...")
    created: Timestamp | None = None
    ended: Timestamp | None = None
    tags: list[str] | None = None
    session_id: str | None = None
    user_id: str | None = None
    usage_seconds: float | None = Field(None, description="Null until it is final.")


class PageLink(WireModel):
    """A link to a neighbouring page of a listing."""

    href: str = Field(description="The page's URL, with its opaque cursor.")


class WorkloadList(WireModel):
    """``GET /v1/workloads``: a page of workloads with links to the pages around it."""

    workloads: list[Workload]
    total_count: int = Field(description="Workloads matching the filters, over all pages.")
    limit: int
    next: PageLink | None = None
    previous: PageLink | None = None


# -- sessions ---------------------------------------------------------------------------------


class SessionCreateRequest(WireModel):
    """``POST /v1/sessions``: open a session (``dedicated``) or a batch."""

    mode: Literal["dedicated", "batch"] | None = None
    backend: str | None = None
    instance: str | None = Field(None, description="The client's instance (CRN); recorded only.")
    max_ttl: int | None = Field(None, gt=0, description="Maximum session length in seconds.")
    interactive_ttl: int | None = Field(None, gt=0, description="Idle seconds between jobs.")


class SessionTimestamp(WireModel):
    """One state transition of a session."""

    status: str
    timestamp: Timestamp


class SessionDetails(WireModel):
    """``GET /v1/sessions/{id}`` (and the answer to ``POST /v1/sessions``)."""

    id: str
    backend_name: str | None = None
    interactive_ttl: int | None = Field(None, description="Idle seconds allowed between jobs.")
    max_ttl: int | None = Field(None, description="Maximum session length in seconds.")
    active_ttl: int | None = Field(None, description="Seconds the session may stay active.")
    state: str | None = Field(None, description="open, active, inactive, closed, pending_*.")
    accepting_jobs: bool | None = None
    last_job_started: Timestamp | None = None
    last_job_completed: Timestamp | None = None
    started_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    activated_at: Timestamp | None = None
    mode: Literal["dedicated", "batch"] | None = None
    elapsed_time: float | None = Field(None, description="Usage seconds (``usage_time``).")
    timestamps: list[SessionTimestamp] | None = None
    created_at: Timestamp | None = None
    user_id: str | None = Field(None, description="The owner.")


class SessionUpdate(WireModel):
    """``PATCH /v1/sessions/{id}``: ``{"accepting_jobs": false}`` closes it to new jobs."""

    accepting_jobs: bool


# -- credentials ------------------------------------------------------------------------------


class TokenRequest(WireModel):
    """``POST /iam/identity/token``, a form (``application/x-www-form-urlencoded``)."""

    grant_type: Literal["urn:ibm:params:oauth:grant-type:apikey"]
    apikey: str = Field(description="A runtime API key, or a Jupyter token.")


class TokenResponse(WireModel):
    """A bearer token, as IBM Cloud IAM answers."""

    access_token: str = Field(description="An HS256 JWT; send it as ``Authorization: Bearer``.")
    refresh_token: str
    token_type: str = Field(description="``Bearer``.")
    expires_in: int = Field(description="Lifetime in seconds.")
    expiration: int = Field(description="Expiry, in seconds since the epoch.")
    scope: str | None = None


class ApiKeyResponse(WireModel):
    """``POST /iam/apikeys``: a runtime API key that grants this API only, and does not expire."""

    apikey: str
    owner: str = Field(description="The user the key acts as.")
