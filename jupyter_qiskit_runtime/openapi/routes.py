"""The API's routes as the OpenAPI document describes them: ``ROUTES`` lists every operation, its
path relative to ``{base_url}qiskit-runtime``, method, summary, query parameters, request body,
responses and the errors it may answer. The query parameters' bounds, defaults and choices are the
ones the handlers parse with, from ``runtime/listing.py`` and ``runtime/watch.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from .. import models as m
from ..runtime import listing
from ..runtime.watch import DEFAULT_CHANGES_WAIT_SECONDS, DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS

#: Where a component schema lives; pydantic's ``$ref`` values point there.
REF_TEMPLATE = "#/components/schemas/{model}"

#: A response body: a model (JSON), ``"text"`` (plain text), ``"openapi"`` (this document), or
#: ``None`` (no body).
Body = type[BaseModel] | Literal["text", "openapi"] | None

#: What each error status means on this API.
ERROR_MEANINGS = {
    400: "Invalid request: bad JSON, a missing or wrong-typed field, a bad query argument.",
    401: "The API key is not a credential this server accepts.",
    403: "No credential, or one Jupyter refuses (Jupyter's own check; same error shape).",
    404: "Not found: the backend, program, job or session does not exist or is someone else's.",
    409: "The operation does not apply in the current state (e.g. the job is already final).",
    413: "The request body is larger than `QiskitRuntimeApp.max_payload_bytes`.",
    429: "The user already has `max_pending_jobs_per_user` unfinished jobs, or too many "
    "requests waiting for job changes.",
    503: "The server is shutting down and takes no new work.",
}

#: Descriptions of the path parameters, by the name used in ``ROUTES``.
PATH_PARAMETERS = {
    "name": "A backend name, `<fake backend or ideal_<n>q>@<executor>`.",
    "job_id": "A job id.",
    "session_id": "A session or batch id.",
}

#: The schema of a string.
STRING_SCHEMA: dict[str, Any] = {"type": "string"}
_BOOLEAN: dict[str, Any] = {"type": "boolean"}
_DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


def _number(value: float) -> int | float:
    """A bound as JSON writes it best: ``60``, not ``60.0``."""
    return int(value) if float(value).is_integer() else value


def _integers(low: int, high: int) -> dict[str, Any]:
    """The schema of an integer from ``low`` to ``high`` (inclusive)."""
    return {"type": "integer", "minimum": low, "maximum": high}


def _choices(choices: tuple[str, ...]) -> dict[str, Any]:
    """The schema of one of ``choices``."""
    return {"enum": list(choices)}


@dataclass(frozen=True)
class Query:
    """A query parameter: arrays are sent as the parameter repeated (``tags=a&tags=b``)."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: STRING_SCHEMA)

    def to_openapi(self) -> dict[str, Any]:
        """The parameter object."""
        parameter: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": dict(self.schema),
        }
        if self.schema.get("type") == "array":
            parameter.update(style="form", explode=True)
        return parameter


@dataclass(frozen=True)
class Operation:
    """One method on one path."""

    method: str
    operation_id: str
    summary: str
    tag: str
    responses: Mapping[int, Body]
    errors: tuple[int, ...] = ()
    request: type[BaseModel] | None = None
    form: bool = False
    query: tuple[Query, ...] = ()
    public: bool = False
    description: str | None = None
    #: What the ``Location`` header of a 201 answer points to, if it has one.
    location: str | None = None


_JOB_FILTERS = (
    Query(
        "limit",
        f"Jobs per page ({listing.JOBS_LIMIT_DEFAULT}).",
        _integers(listing.JOBS_LIMIT_MIN, listing.JOBS_LIMIT_MAX),
    ),
    Query("offset", "Jobs to skip (default 0).", {"type": "integer", "minimum": 0}),
    Query("pending", "true: queued and running jobs; false: final ones.", _BOOLEAN),
    Query("backend", "Only jobs on this backend."),
    Query("program", "Only jobs of this program id."),
    Query("tags", "Only jobs that carry every one of these tags.", _STRINGS),
    Query("session_id", "Only jobs of this session."),
    Query("created_after", "Only jobs created at or after this time (UTC).", _DATE_TIME),
    Query("created_before", "Only jobs created at or before this time (UTC).", _DATE_TIME),
    Query("sort", "ASC for oldest first; newest first otherwise.", _choices(listing.JOBS_SORTS)),
    Query("exclude_params", "false: include each job's params (never a private job's).", _BOOLEAN),
)

_WORKLOAD_FILTERS = (
    Query("user", "Only `me`.", _choices(listing.WORKLOADS_USERS)),
    Query("sort", "`-` prefix: descending.", _choices(listing.WORKLOADS_SORTS)),
    Query(
        "limit",
        "Workloads per page.",
        _integers(listing.WORKLOADS_LIMIT_MIN, listing.WORKLOADS_LIMIT_MAX),
    ),
    Query("previous", "Cursor to the previous page."),
    Query("next", "Cursor to the next page."),
    Query("backend", "Only workloads on this backend."),
    Query("search", "Matches ids and tags."),
    Query("status", "pending, in_progress, failed, completed or canceled.", _STRINGS),
    Query("mode", "The workload's kind.", _choices(listing.WORKLOADS_MODES)),
    Query("created_after", "Only workloads created after this time.", _DATE_TIME),
    Query("created_before", "Only workloads created before this time.", _DATE_TIME),
    Query("tags", "Only workloads with these tags.", _STRINGS),
    Query("include_mocks", "Accepted; this server has no mock backends.", _BOOLEAN),
)

_WAIT_SECONDS: dict[str, Any] = {
    "type": "number",
    "minimum": 0,
    "maximum": _number(MAX_WAIT_SECONDS),
}

_CALIBRATION = Query(
    "calibration_id",
    "The backend's one calibration (`<metadata>-<last update, UTC>`, or `<metadata>-ideal`); "
    "any other id is a 404.",
)

#: Every operation of the API, by path relative to ``{base_url}qiskit-runtime``.
ROUTES: dict[str, tuple[Operation, ...]] = {
    "/v1": (
        Operation("GET", "get_service_info", "Version, programs and executors of this server",
                  "service", {200: m.ServiceInfo}),
    ),
    "/v1/openapi.json": (
        Operation("GET", "get_openapi", "This OpenAPI document", "service", {200: "openapi"}),
    ),
    "/v1/instances/usage": (
        Operation("GET", "get_usage", "Instance usage (never limited here)", "service",
                  {200: m.Usage}),
    ),
    "/iam/identity/token": (
        Operation("POST", "create_token", "Trade an API key for a bearer token (IAM-compatible)",
                  "credentials", {200: m.TokenResponse}, (400, 401), m.TokenRequest, form=True,
                  public=True,
                  description="Point the client's `IAM_URL` at `{base_url}qiskit-runtime/iam`. "
                  "The key in the form authenticates, not the request's headers or cookies."),
    ),
    "/iam/apikeys": (
        Operation("POST", "create_apikey", "Issue a runtime API key for this API only",
                  "credentials", {201: m.ApiKeyResponse}),
    ),
    "/v1/backends": (
        Operation("GET", "list_backends", "List the backends", "backends", {200: m.BackendList},
                  query=(Query("include_mocks", "Accepted; no backend is a mock.", _BOOLEAN),)),
    ),
    "/v1/backends/{name}/configuration": (
        Operation("GET", "get_backend_configuration", "A backend's configuration", "backends",
                  {200: m.BackendConfiguration}, (404,), query=(_CALIBRATION,)),
    ),
    "/v1/backends/{name}/properties": (
        Operation("GET", "get_backend_properties", "A backend's calibration properties",
                  "backends", {200: m.BackendProperties}, (400, 404),
                  query=(Query("updated_before", "ISO 8601; 404 if earlier than the calibration.",
                               _DATE_TIME), _CALIBRATION)),
    ),
    "/v1/backends/{name}/status": (
        Operation("GET", "get_backend_status", "A backend's status and queue length", "backends",
                  {200: m.BackendStatus}, (404,)),
    ),
    "/v1/jobs": (
        Operation("POST", "create_job", "Run a program: queue a job", "jobs",
                  {201: m.JobCreated}, (400, 404, 409, 413, 429, 503), m.JobCreateRequest,
                  location="The new job's URL.",
                  description="Answers at once; the job runs later. 404 names an unknown program "
                  "or backend (with close matches); 409: its session takes no more jobs."),
        Operation("GET", "list_jobs", "A page of the user's jobs, newest first", "jobs",
                  {200: m.JobList}, (400,), query=_JOB_FILTERS),
    ),
    "/v1/jobs/{job_id}": (
        Operation("GET", "get_job", "A job's state", "jobs", {200: m.Job}, (404,),
                  query=(Query("exclude_params", "true: leave `params` out.", _BOOLEAN),)),
        Operation("DELETE", "delete_job", "Delete a job with its result and logs", "jobs",
                  {204: None}, (404, 409)),
    ),
    "/v1/jobs/{job_id}/wait": (
        Operation("GET", "wait_for_job", "A job once it is final, or when the timeout passes",
                  "jobs", {200: m.Job}, (400, 404, 429, 503),
                  query=(Query("timeout", f"Seconds to wait, 0 to {MAX_WAIT_SECONDS:g} "
                               f"(default {DEFAULT_WAIT_SECONDS:g}).", _WAIT_SECONDS),
                         Query("exclude_params", "false: include `params` (default true).",
                               _BOOLEAN)),
                  description="Answers as soon as the job reaches a final state, without "
                  "polling, or with its current state after `timeout` seconds: `state.status` "
                  "says which. `connect()`'s jobs wait with it."),
    ),
    "/v1/jobs/changes": (
        Operation("GET", "list_job_changes", "The user's jobs changed since a cursor", "jobs",
                  {200: m.JobChanges}, (400, 429, 503),
                  query=(Query("since", "The `cursor` of an earlier answer; none: all jobs."),
                         Query("timeout", "Seconds to wait for a change when there is none, 0 to "
                               f"{MAX_WAIT_SECONDS:g} (default {DEFAULT_CHANGES_WAIT_SECONDS:g}).",
                               _WAIT_SECONDS),
                         Query("limit",
                               "Most jobs in one answer (default "
                               f"{listing.CHANGES_LIMIT_DEFAULT}).",
                               _integers(listing.CHANGES_LIMIT_MIN, listing.CHANGES_LIMIT_MAX))),
                  description="A long-polling feed of the user's jobs (from any client), for "
                  "live job lists. Cursors are numbers of the server's change counter, kept in "
                  "its database: they stay valid across restarts. Deleted jobs are not "
                  "reported."),
    ),
    "/v1/jobs/{job_id}/results": (
        Operation("GET", "get_job_results", "A job's result", "jobs", {200: "text"}, (404,),
                  description="`RuntimeEncoder` JSON of the `PrimitiveResult`, as text; for a "
                  "failed job, the error with its traceback."),
    ),
    "/v1/jobs/{job_id}/cancel": (
        Operation("POST", "cancel_job", "Cancel a queued or running job", "jobs", {204: None},
                  (404, 409)),
    ),
    "/v1/jobs/{job_id}/logs": (
        Operation("GET", "get_job_logs", "A job's logs", "jobs", {200: "text"}, (404,)),
    ),
    "/v1/jobs/{job_id}/metrics": (
        Operation("GET", "get_job_metrics", "A job's timestamps, usage and queue position",
                  "jobs", {200: m.JobMetrics}, (404,)),
    ),
    "/v1/jobs/{job_id}/tags": (
        Operation("PUT", "replace_job_tags", "Replace a job's tags", "jobs", {204: None},
                  (400, 404), m.TagsUpdate),
    ),
    "/v1/workloads": (
        Operation("GET", "list_workloads", "The user's jobs, as workloads of mode `job`", "jobs",
                  {200: m.WorkloadList}, (400,), query=_WORKLOAD_FILTERS),
    ),
    "/v1/sessions": (
        Operation("POST", "create_session", "Open a session or a batch", "sessions",
                  {201: m.SessionDetails}, (400, 404, 413), m.SessionCreateRequest,
                  location="The new session's URL."),
    ),
    "/v1/sessions/{session_id}": (
        Operation("GET", "get_session", "A session's details", "sessions",
                  {200: m.SessionDetails}, (404,)),
        Operation("PATCH", "update_session", "Stop a session accepting new jobs", "sessions",
                  {204: None}, (400, 404, 413), m.SessionUpdate),
    ),
    "/v1/sessions/{session_id}/close": (
        Operation("DELETE", "cancel_session", "Close a session and cancel its queued jobs",
                  "sessions", {204: None}, (404,)),
    ),
}  # fmt: skip
