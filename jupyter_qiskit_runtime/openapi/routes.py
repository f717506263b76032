"""The API's routes as the OpenAPI document describes them: ``ROUTES`` lists every operation, its
path relative to ``{base_url}qiskit-runtime``, method, summary, query parameters, request body,
responses, the errors it may answer and the links from its answers to other operations. The query
parameters' bounds, defaults and choices are the ones the handlers parse with, from
``runtime/listing.py``, ``runtime/watch.py`` and ``runtime/cursors.py``.

Every rule the server applies to one value is in that value's schema, so that a client generated
from the document never sends what will be refused; a rule between values (``created_after`` not
later than ``created_before``, ``next`` or ``previous`` but not both, a job's session on the job's
backend) is in its operation's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from .. import models as m
from ..runtime import listing
from ..runtime.jobs import WORKLOAD_STATUS
from ..runtime.watch import DEFAULT_CHANGES_WAIT_SECONDS, DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS
from .parameters import (
    BOOLEAN,
    DATE_TIME,
    TEXT,
    TEXTS,
    Query,
    choices,
    cursor_schema,
    integers,
    json_number,
)

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
    415: "The request body is not of the media type the operation reads (JSON in UTF-8).",
    429: "The user already has `max_pending_jobs_per_user` unfinished jobs, or too many "
    "requests waiting for job changes.",
    503: "The server cannot serve the request now: it is shutting down, or its job database "
    "cannot be read or written (a full or read-only disk). Try again later.",
}

#: Descriptions of the path parameters, by the name used in ``ROUTES``.
PATH_PARAMETERS = {
    "name": "A backend name, `<fake backend or ideal_<n>q>@<executor>`.",
    "job_id": "A job id.",
    "session_id": "A session or batch id.",
}


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
    #: OpenAPI links from the success answer: operation id to ``{parameter: expression}``.
    links: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


_JOB_FILTERS = (
    Query(
        "limit",
        f"Jobs per page ({listing.JOBS_LIMIT_DEFAULT}).",
        integers(listing.JOBS_LIMIT_MIN, listing.JOBS_LIMIT_MAX),
    ),
    Query("offset", "Jobs to skip (default 0).", integers(0, listing.JOBS_OFFSET_MAX)),
    Query("pending", "true: queued and running jobs; false: final ones.", BOOLEAN),
    Query("backend", "Only jobs on this backend.", TEXT),
    Query("program", "Only jobs of this program id.", TEXT),
    Query("tags", "Only jobs that carry every one of these tags.", TEXTS),
    Query("session_id", "Only jobs of this session.", TEXT),
    Query("created_after", "Only jobs created at or after this time (UTC); not later than "
          "`created_before`.", DATE_TIME),
    Query("created_before", "Only jobs created at or before this time (UTC); not earlier than "
          "`created_after`.", DATE_TIME),
    Query("sort", "ASC for oldest first; newest first otherwise.", choices(listing.JOBS_SORTS)),
    Query("exclude_params", "false: include each job's params (never a private job's).", BOOLEAN),
    Query("include_mocks", "Accepted; no backend is a mock.", BOOLEAN),
)  # fmt: skip

#: A workload's status as ``GET /workloads`` takes it: one of its names, or several separated by
#: commas (spaces around each and empty ones are ignored).
_STATUS_NAME = f"(?:{'|'.join(WORKLOAD_STATUS.values())})"
_SPACES = f"[{m.SPACE_CLASS}]*"
_WORKLOAD_STATUSES: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "string",
        "pattern": (
            f"^{_SPACES}(?:{_STATUS_NAME}{_SPACES})?(?:,{_SPACES}(?:{_STATUS_NAME}{_SPACES})?)*$"
        ),
    },
}

#: ``GET /workloads``'s page cursors, ``GET /jobs/changes``' change cursors.
_PAGE_CURSOR = cursor_schema("seq")
_CHANGE_CURSOR = cursor_schema("change")

_WORKLOAD_FILTERS = (
    Query("user", "Only `me`.", choices(listing.WORKLOADS_USERS)),
    Query("sort", "`-` prefix: descending.", choices(listing.WORKLOADS_SORTS)),
    Query(
        "limit",
        "Workloads per page.",
        integers(listing.WORKLOADS_LIMIT_MIN, listing.WORKLOADS_LIMIT_MAX),
    ),
    Query("previous", "Cursor to the previous page (from a `previous` link); not with `next`.",
          _PAGE_CURSOR),
    Query("next", "Cursor to the next page (from a `next` link); not with `previous`.",
          _PAGE_CURSOR),
    Query("backend", "Only workloads on this backend.", TEXT),
    Query("search", "Matches ids and tags.", TEXT),
    Query("status", "pending, in_progress, failed, completed or canceled; repeated, or "
          "separated by commas.", _WORKLOAD_STATUSES),
    Query("mode", "The workload's kind.", choices(listing.WORKLOADS_MODES)),
    Query("created_after", "Only workloads created at or after this time; not later than "
          "`created_before`.", DATE_TIME),
    Query("created_before", "Only workloads created at or before this time; not earlier than "
          "`created_after`.", DATE_TIME),
    Query("tags", "Only workloads with these tags.", TEXTS),
    Query("include_mocks", "Accepted; this server has no mock backends.", BOOLEAN),
)  # fmt: skip

_WAIT_SECONDS: dict[str, Any] = {
    "type": "number",
    "minimum": 0,
    "maximum": json_number(MAX_WAIT_SECONDS),
}

_CALIBRATION = Query(
    "calibration_id",
    "The backend's one calibration (`<metadata>-<last update, UTC>`, or `<metadata>-ideal`); "
    "any other id is a 404.",
)

#: The links from a new job's answer to the operations on it.
_JOB_LINKS = {
    op: {"job_id": "$response.body#/id"}
    for op in ("get_job", "delete_job", "wait_for_job", "get_job_results", "cancel_job",
               "get_job_logs", "get_job_metrics", "replace_job_tags")
}  # fmt: skip

#: The links from a new session's answer to the operations on it, and to its jobs.
_SESSION_LINKS = {
    **{
        op: {"session_id": "$response.body#/id"}
        for op in ("get_session", "update_session", "cancel_session")
    },
    "list_jobs": {"session_id": "$response.body#/id"},
}

#: Every operation of the API, by path relative to ``{base_url}qiskit-runtime``.
ROUTES: dict[str, tuple[Operation, ...]] = {
    "/v1": (
        Operation("GET", "get_service_info", "Version, programs and executors of this server",
                  "service", {200: m.ServiceInfo}),
    ),
    "/v1/openapi.json": (
        Operation("GET", "get_openapi", "This OpenAPI document", "service", {200: "openapi"}),
    ),
    "/v1/docs": (
        Operation("GET", "get_api_docs", "This API's reference, an HTML page (Swagger UI)",
                  "service", {200: None},
                  description="Renders this document with Swagger UI, served by this server "
                  "(no CDN); its files are under `/v1/docs/swagger-ui/` and `/v1/docs/static/`. "
                  "A browser without a Jupyter login is sent to the login page."),
    ),
    "/v1/instances/usage": (
        Operation("GET", "get_usage", "Instance usage (never limited here)", "service",
                  {200: m.Usage}),
    ),
    "/iam/identity/token": (
        Operation("POST", "create_token", "Trade an API key for a bearer token (IAM-compatible)",
                  "credentials", {200: m.TokenResponse}, (400, 401, 415), m.TokenRequest,
                  form=True, public=True,
                  description="Point the client's `IAM_URL` at `{base_url}qiskit-runtime/iam`. "
                  "The key in the form authenticates, not the request's headers or cookies."),
    ),
    "/iam/apikeys": (
        Operation("POST", "create_apikey", "Issue a runtime API key for this API only",
                  "credentials", {201: m.ApiKeyResponse}),
    ),
    "/v1/backends": (
        Operation("GET", "list_backends", "List the backends", "backends", {200: m.BackendList},
                  (400,),
                  query=(Query("include_mocks", "Accepted; no backend is a mock.", BOOLEAN),)),
    ),
    "/v1/backends/{name}/configuration": (
        Operation("GET", "get_backend_configuration", "A backend's configuration", "backends",
                  {200: m.BackendConfiguration}, (404,), query=(_CALIBRATION,)),
    ),
    "/v1/backends/{name}/properties": (
        Operation("GET", "get_backend_properties", "A backend's calibration properties",
                  "backends", {200: m.BackendProperties}, (400, 404),
                  query=(Query("updated_before", "ISO 8601; 404 if earlier than the calibration.",
                               DATE_TIME), _CALIBRATION)),
    ),
    "/v1/backends/{name}/status": (
        Operation("GET", "get_backend_status", "A backend's status and queue length", "backends",
                  {200: m.BackendStatus}, (404,)),
    ),
    "/v1/jobs": (
        Operation("POST", "create_job", "Run a program: queue a job", "jobs",
                  {201: m.JobCreated}, (400, 404, 409, 413, 415, 429, 503), m.JobCreateRequest,
                  location="The new job's URL.", links=_JOB_LINKS,
                  description="Answers at once; the job runs later. 404 names an unknown program "
                  "or backend (with close matches), or a `calibration_id` other than the "
                  "backend's. 400: `params` that do not decode as the program's input, or whose "
                  "circuits do not fit the backend; a `session_id` whose session runs on another "
                  "backend than `backend`. 409: the session takes no more jobs. 429: the user "
                  "already has `max_pending_jobs_per_user` unfinished jobs."),
        Operation("GET", "list_jobs", "A page of the user's jobs, newest first", "jobs",
                  {200: m.JobList}, (400, 503), query=_JOB_FILTERS,
                  links={"get_job": {"job_id": "$response.body#/jobs/0/id"}},
                  description="Every filter narrows the list; `tags` repeated selects jobs that "
                  "have all of them. `created_after` later than `created_before` is a 400 (no "
                  "job was created in between)."),
    ),
    "/v1/jobs/{job_id}": (
        Operation("GET", "get_job", "A job's state", "jobs", {200: m.Job}, (400, 404, 503),
                  query=(Query("exclude_params", "true: leave `params` out.", BOOLEAN),)),
        Operation("DELETE", "delete_job", "Delete a job with its result and logs", "jobs",
                  {204: None}, (404, 409, 503),
                  description="Only a final job is deleted; a queued or running one is a 409 "
                  "(cancel it first)."),
    ),
    "/v1/jobs/{job_id}/wait": (
        Operation("GET", "wait_for_job", "A job once it is final, or when the timeout passes",
                  "jobs", {200: m.Job}, (400, 404, 429, 503),
                  query=(Query("timeout", f"Seconds to wait, 0 to {MAX_WAIT_SECONDS:g} "
                               f"(default {DEFAULT_WAIT_SECONDS:g}).", _WAIT_SECONDS),
                         Query("exclude_params", "false: include `params` (default true).",
                               BOOLEAN)),
                  description="Answers as soon as the job reaches a final state, without "
                  "polling, or with its current state after `timeout` seconds: `state.status` "
                  "says which. `connect()`'s jobs wait with it."),
    ),
    "/v1/jobs/changes": (
        Operation("GET", "list_job_changes", "The user's jobs changed since a cursor", "jobs",
                  {200: m.JobChanges}, (400, 429, 503),
                  links={"list_job_changes": {"since": "$response.body#/cursor"}},
                  query=(Query("since", "The `cursor` of an earlier answer; none: all jobs.",
                               _CHANGE_CURSOR),
                         Query("timeout", "Seconds to wait for a change when there is none, 0 to "
                               f"{MAX_WAIT_SECONDS:g} (default {DEFAULT_CHANGES_WAIT_SECONDS:g}).",
                               _WAIT_SECONDS),
                         Query("limit",
                               "Most jobs in one answer (default "
                               f"{listing.CHANGES_LIMIT_DEFAULT}).",
                               integers(listing.CHANGES_LIMIT_MIN, listing.CHANGES_LIMIT_MAX))),
                  description="A long-polling feed of the user's jobs (from any client), for "
                  "live job lists. Cursors are numbers of the server's change counter, kept in "
                  "its database: they stay valid across restarts. Deleted jobs are not "
                  "reported."),
    ),
    "/v1/jobs/{job_id}/results": (
        Operation("GET", "get_job_results", "A job's result", "jobs", {200: "text"}, (404, 503),
                  description="`RuntimeEncoder` JSON of the `PrimitiveResult`, as text; for a "
                  "failed job, its error message (as `state.reason`; the traceback is in the "
                  "job's logs). A private job's result can be read once: then it is a 404."),
    ),
    "/v1/jobs/{job_id}/cancel": (
        Operation("POST", "cancel_job", "Cancel a queued or running job", "jobs", {204: None},
                  (404, 409, 503), description="A final job is a 409."),
    ),
    "/v1/jobs/{job_id}/logs": (
        Operation("GET", "get_job_logs", "A job's logs", "jobs", {200: "text"}, (404, 503)),
    ),
    "/v1/jobs/{job_id}/metrics": (
        Operation("GET", "get_job_metrics", "A job's timestamps, usage and queue position",
                  "jobs", {200: m.JobMetrics}, (404, 503)),
    ),
    "/v1/jobs/{job_id}/tags": (
        Operation("PUT", "replace_job_tags", "Replace a job's tags", "jobs", {204: None},
                  (400, 404, 413, 415, 503), m.TagsUpdate,
                  description="An empty list clears them."),
    ),
    "/v1/workloads": (
        Operation("GET", "list_workloads", "The user's jobs, as workloads of mode `job`", "jobs",
                  {200: m.WorkloadList}, (400, 503), query=_WORKLOAD_FILTERS,
                  description="Pages by cursor: follow a page's `next` or `previous` link. A "
                  "request with both `next` and `previous` is a 400, and so is `created_after` "
                  "later than `created_before`."),
    ),
    "/v1/sessions": (
        Operation("POST", "create_session", "Open a session or a batch", "sessions",
                  {201: m.SessionDetails}, (400, 404, 413, 415, 503), m.SessionCreateRequest,
                  location="The new session's URL.", links=_SESSION_LINKS,
                  description="404 names an unknown backend."),
    ),
    "/v1/sessions/{session_id}": (
        Operation("GET", "get_session", "A session's details", "sessions",
                  {200: m.SessionDetails}, (404, 503)),
        Operation("PATCH", "update_session", "Stop a session accepting new jobs", "sessions",
                  {204: None}, (400, 404, 413, 415, 503), m.SessionUpdate,
                  description="Its jobs still queued or running run; it closes once they are "
                  "done. A session cannot be reopened: `accepting_jobs` can only be `false`."),
    ),
    "/v1/sessions/{session_id}/close": (
        Operation("DELETE", "cancel_session", "Close a session and cancel its queued jobs",
                  "sessions", {204: None}, (404, 503)),
    ),
}  # fmt: skip
