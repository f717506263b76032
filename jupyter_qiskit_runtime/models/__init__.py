"""Pydantic models of the API's request and response bodies: the wire contract, by resource.

They describe what the server sends and accepts in the shapes of IBM's Qiskit Runtime REST API
(and IBM Cloud IAM's token exchange), and feed the OpenAPI document (``openapi``). The handlers
do not use them to build answers; the tests check real answers against them.

Models are strict (``"5"`` is not an integer) except for timestamps, which travel as ISO 8601
strings. Response models allow extra fields: the server, or IBM's API, may add more.

One module per resource: ``common`` (the base class, timestamps, the error body), ``root``
(``GET /v1`` and the usage), ``credentials``, ``backends``, ``jobs``, ``workloads`` and
``sessions``. Every public model is importable from this package.
"""

from __future__ import annotations

from .backends import (
    BackendConfiguration,
    BackendList,
    BackendProperties,
    BackendStatus,
    BackendSummary,
    BackendSummaryStatus,
    GateProperties,
    Nduv,
)
from .common import (
    SPACE_CLASS,
    TEXT_PATTERN,
    ErrorBody,
    ErrorDetail,
    Text,
    Timestamp,
    WireModel,
)
from .credentials import ApiKeyResponse, TokenRequest, TokenResponse
from .jobs import (
    JOB_STATES,
    PROGRAM_IDS,
    Job,
    JobChanges,
    JobCreated,
    JobCreateRequest,
    JobList,
    JobMetrics,
    JobProgram,
    JobState,
    JobStatus,
    MetricsBss,
    MetricsTimestamps,
    MetricsUsage,
    ProgramId,
    SimulatorMetrics,
    Tags,
    TagsUpdate,
)
from .root import (
    ExecutorCapabilities,
    ExecutorInfo,
    ProgramInfo,
    ServiceInfo,
    UnavailableExecutor,
    Usage,
)
from .sessions import (
    SessionCreateRequest,
    SessionDetails,
    SessionMode,
    SessionTimestamp,
    SessionUpdate,
)
from .workloads import PageLink, Workload, WorkloadList

__all__ = [
    "JOB_STATES",
    "PROGRAM_IDS",
    "SPACE_CLASS",
    "TEXT_PATTERN",
    "ApiKeyResponse",
    "BackendConfiguration",
    "BackendList",
    "BackendProperties",
    "BackendStatus",
    "BackendSummary",
    "BackendSummaryStatus",
    "ErrorBody",
    "ErrorDetail",
    "ExecutorCapabilities",
    "ExecutorInfo",
    "GateProperties",
    "Job",
    "JobChanges",
    "JobCreateRequest",
    "JobCreated",
    "JobList",
    "JobMetrics",
    "JobProgram",
    "JobState",
    "JobStatus",
    "MetricsBss",
    "MetricsTimestamps",
    "MetricsUsage",
    "Nduv",
    "PageLink",
    "ProgramId",
    "ProgramInfo",
    "ServiceInfo",
    "SessionCreateRequest",
    "SessionDetails",
    "SessionMode",
    "SessionTimestamp",
    "SessionUpdate",
    "SimulatorMetrics",
    "Tags",
    "TagsUpdate",
    "Text",
    "Timestamp",
    "TokenRequest",
    "TokenResponse",
    "UnavailableExecutor",
    "Usage",
    "WireModel",
    "Workload",
    "WorkloadList",
]
