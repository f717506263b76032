"""The OpenAPI 3.1 document of the API, built from the models and a table of the routes.

``ROUTES`` lists every operation: its path relative to ``{base_url}qiskit-runtime``, method,
summary, query parameters, request body, responses and the errors it may answer. Schemas come from
the pydantic models in ``models``; every error answers ``ErrorBody``. ``openapi_document`` adds
the server's actual base URL. Importing this module imports pydantic, so the handler imports it
only when the document is first asked for.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from http.client import responses as reasons
from typing import Any, Literal

from jupyter_server.utils import url_path_join
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import models as m
from ._version import __version__

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

_STRING: dict[str, Any] = {"type": "string"}
_BOOLEAN: dict[str, Any] = {"type": "boolean"}
_DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Query:
    """A query parameter: arrays are sent as the parameter repeated (``tags=a&tags=b``)."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: _STRING)

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
    Query("limit", "Jobs per page (10).", {"type": "integer", "minimum": 0, "maximum": 1000}),
    Query("offset", "Jobs to skip (default 0).", {"type": "integer", "minimum": 0}),
    Query("pending", "true: queued and running jobs; false: final ones.", _BOOLEAN),
    Query("backend", "Only jobs on this backend."),
    Query("program", "Only jobs of this program id."),
    Query("tags", "Only jobs that carry every one of these tags.", _STRINGS),
    Query("session_id", "Only jobs of this session."),
    Query("created_after", "Only jobs created at or after this time (UTC).", _DATE_TIME),
    Query("created_before", "Only jobs created at or before this time (UTC).", _DATE_TIME),
    Query("sort", "ASC for oldest first; newest first otherwise.", {"enum": ["ASC", "DESC"]}),
    Query("exclude_params", "false: include each job's params (never a private job's).", _BOOLEAN),
)

_WORKLOAD_FILTERS = (
    Query("user", "Only `me`.", {"enum": ["me"]}),
    Query("sort", "`-` prefix: descending.", {"enum": ["createdAt", "-createdAt"]}),
    Query("limit", "Workloads per page.", {"type": "integer", "minimum": 1, "maximum": 50}),
    Query("previous", "Cursor to the previous page."),
    Query("next", "Cursor to the next page."),
    Query("backend", "Only workloads on this backend."),
    Query("search", "Matches ids and tags."),
    Query("status", "pending, in_progress, failed, completed or canceled.", _STRINGS),
    Query("mode", "The workload's kind.", {"enum": ["job", "session", "batch"]}),
    Query("created_after", "Only workloads created after this time.", _DATE_TIME),
    Query("created_before", "Only workloads created before this time.", _DATE_TIME),
    Query("tags", "Only workloads with these tags.", _STRINGS),
    Query("include_mocks", "Accepted; this server has no mock backends.", _BOOLEAN),
)

_WAIT_SECONDS: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 60}

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
                  query=(Query("timeout", "Seconds to wait, 0 to 60 (default 30).", _WAIT_SECONDS),
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
                               "60 (default 0).", _WAIT_SECONDS),
                         Query("limit", "Most jobs in one answer (default 100).",
                               {"type": "integer", "minimum": 1, "maximum": 1000})),
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

#: Schemes the server accepts; any one of them authenticates a request.
SECURITY_SCHEMES: dict[str, Any] = {
    "jupyterToken": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Authorization: token <Jupyter token>` (or a Jupyter login cookie, "
        "with Jupyter's XSRF check for other methods than GET).",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A token from `POST /iam/identity/token`, or a Jupyter token.",
    },
    "apikey": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Authorization: apikey <runtime API key or Jupyter token>`: the "
        "official client's fallback when it has no bearer token.",
    },
}


def _body_content(body: Body, schemas: Mapping[type[BaseModel], dict[str, Any]]) -> Any:
    if isinstance(body, type):
        return {"application/json": {"schema": schemas[body]}}
    if body == "text":
        return {"text/plain": {"schema": {"type": "string"}}}
    if body == "openapi":
        return {"application/json": {"schema": {"type": "object"}}}
    return None


def _operation(
    path: str, op: Operation, schemas: Mapping[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    error = {"application/json": {"schema": schemas[m.ErrorBody]}}
    answers: dict[str, Any] = {}
    for status, body in op.responses.items():
        answer: dict[str, Any] = {"description": reasons.get(status, "Success")}
        content = _body_content(body, schemas)
        if content is not None:
            answer["content"] = content
        if status == 201 and op.location:
            answer["headers"] = {"Location": {"description": op.location, "schema": _STRING}}
        answers[str(status)] = answer
    codes = sorted({*op.errors, *(() if op.public else (403,))})
    for status in codes:
        answers[str(status)] = {"description": ERROR_MEANINGS[status], "content": error}
    answers["default"] = {"description": "Any other error, in the same shape.", "content": error}
    parameters = [
        {"name": name, "in": "path", "required": True, "description": PATH_PARAMETERS[name],
         "schema": _STRING}
        for name in re.findall(r"{(\w+)}", path)
    ] + [q.to_openapi() for q in op.query]  # fmt: skip
    result: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": answers,
    }
    if op.description:
        result["description"] = op.description
    if parameters:
        result["parameters"] = parameters
    if op.request is not None:
        media = "application/x-www-form-urlencoded" if op.form else "application/json"
        result["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schemas[op.request]}},
        }
    if op.public:
        result["security"] = []
    return result


def _models() -> list[type[BaseModel]]:
    """Every model the routes use, the error body first, without repeats."""
    found: dict[type[BaseModel], None] = {m.ErrorBody: None}
    for operations in ROUTES.values():
        for op in operations:
            bodies = [op.request, *op.responses.values()]
            found.update((b, None) for b in bodies if isinstance(b, type))
    return list(found)


@cache
def _document() -> dict[str, Any]:
    """The document without its ``servers``; built once."""
    refs, top = models_json_schema(
        [(model, "validation") for model in _models()], ref_template=REF_TEMPLATE
    )
    schemas: dict[type[BaseModel], dict[str, Any]] = {
        model: ref for (model, _mode), ref in refs.items() if issubclass(model, BaseModel)
    }
    paths = {
        path: {op.method.lower(): _operation(path, op, schemas) for op in operations}
        for path, operations in ROUTES.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Qiskit Runtime API (jupyter-qiskit-runtime)",
            "version": __version__,
            "description": "IBM's Qiskit Runtime REST API, served by a Jupyter Server extension "
            "and run on local simulators. The official client's `Service-CRN` and "
            "`IBM-API-Version` headers are accepted and not needed.",
        },
        "tags": [
            {"name": "service", "description": "The server itself."},
            {"name": "credentials", "description": "Bearer tokens and runtime API keys."},
            {"name": "backends", "description": "Virtual backends `<metadata>@<executor>`."},
            {"name": "jobs", "description": "Programs run on backends, per user."},
            {"name": "sessions", "description": "Sessions and batches."},
        ],
        "paths": paths,
        "components": {"schemas": top.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
        "security": [{name: []} for name in SECURITY_SCHEMES],
    }


def openapi_document(base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document, its server at ``{base_url}qiskit-runtime``."""
    document = copy.deepcopy(_document())
    document["servers"] = [
        {
            "url": url_path_join(base_url, "qiskit-runtime"),
            "description": "This Jupyter server (paths relative to its base URL).",
        }
    ]
    return document
