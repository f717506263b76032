"""Jobs: submitting one, its state, the job listing, the changes feed, metrics and tags.

A job's states, the limits on its tags and its ``cost``, and the programs it may run are the
server's (``runtime/store.py``, ``runtime/jobs.py``, ``execution/programs``), imported here, not
repeated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from ..execution.programs import PROGRAMS
from ..runtime.jobs import MAX_COST_SECONDS, MAX_JSON_DEPTH, MAX_TAG_LENGTH, MAX_TAGS
from ..runtime.records import CANCELLED, COMPLETED, FAILED, QUEUED, RUNNING
from .common import Text, Timestamp, WireModel

#: Every state of a job, in the order the schema lists them.
JOB_STATES = (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED)

#: The programs a job may run, by id.
PROGRAM_IDS = tuple(PROGRAMS)

if TYPE_CHECKING:
    JobStatus = str
    ProgramId = str
else:
    #: A job's status, one of ``JOB_STATES``. The client reads it case-insensitively. (A
    #: ``Literal`` of the store's constants, built at run time: to mypy, a ``str``.)
    JobStatus = Literal[JOB_STATES]
    #: A program this server runs, one of ``PROGRAM_IDS`` (built at run time, as ``JobStatus``).
    ProgramId = Literal[PROGRAM_IDS]

#: A job's tags, as IBM limits them: at most ``MAX_TAGS``, counted as sent (duplicates are
#: dropped after counting), each of at most ``MAX_TAG_LENGTH`` characters without control
#: characters.
Tags = Annotated[
    list[Annotated[Text, Field(max_length=MAX_TAG_LENGTH)]],
    Field(
        max_length=MAX_TAGS,
        description=f"At most {MAX_TAGS} tags (counted as sent; duplicates are then dropped), "
        f"each of at most {MAX_TAG_LENGTH} characters, without control characters or unpaired "
        "surrogates.",
    ),
]


class JobCreateRequest(WireModel):
    """``POST /v1/jobs``: run a program on a backend.

    Besides each field's own schema, the server refuses (so a client should not send):
    ``params`` that do not decode as the program's input or whose circuits do not fit the
    backend (400); a ``session_id`` whose session runs on another backend than ``backend``
    (400), or that no longer accepts jobs (409); a ``calibration_id`` other than the backend's
    one (404).
    """

    program_id: ProgramId = Field(
        description="The program to run: ``sampler``, ``estimator`` or ``executor``; any other "
        "is a 404."
    )
    backend: str = Field(
        description="A backend name from ``GET /v1/backends``; any other is a 404.",
        examples=["fake_manila@aer_ideal"],
    )
    params: dict[str, Any] = Field(
        min_length=1,
        description="The program's inputs encoded by ``RuntimeEncoder`` (circuits as QPY): "
        "``pubs`` (a non-empty list), ``options``, ``version``, ``support_qiskit`` for the "
        "sampler and the estimator; ``schema_version`` and ``quantum_program`` for the executor. "
        f"Arrays and objects nest at most {MAX_JSON_DEPTH} levels deep in the whole body.",
    )
    tags: Tags | None = None
    session_id: str | None = Field(
        None,
        description="The session or batch the job runs in: it must run on ``backend`` and "
        "accept jobs.",
    )
    log_level: Text | None = None
    runtime: Text | None = Field(None, description="IBM's image name; recorded only.")
    cost: int | None = Field(
        None, gt=0, le=MAX_COST_SECONDS, description="Maximum execution time in seconds."
    )
    private: bool | None = None
    start_session: Any = Field(None, description="Older clients: accepted and ignored.")
    session_time: Any = Field(None, description="Older clients: accepted and ignored.")
    calibration_id: str | None = Field(
        None, description="The backend's calibration (its one); any other is a 404."
    )


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
