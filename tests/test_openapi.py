"""The OpenAPI document: it is valid, it documents every route, and real answers fit its models."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Awaitable, Iterator
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, ValidationError
from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.routing import Router

from jupyter_qiskit_runtime import models as m
from jupyter_qiskit_runtime.execution.programs import PROGRAMS
from jupyter_qiskit_runtime.handlers.base import RuntimeHandler
from jupyter_qiskit_runtime.handlers.root import UnknownEndpointHandler
from jupyter_qiskit_runtime.openapi import ROUTES, openapi_document
from jupyter_qiskit_runtime.openapi.parameters import (
    CURSOR_DIGITS_MAX,
    DATE_TIME_PATTERN,
    cursor_schema,
)
from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog
from jupyter_qiskit_runtime.runtime.cursors import CURSOR_NUMBER_MAX, decode_cursor, encode_cursor
from jupyter_qiskit_runtime.runtime.jobs import (
    MAX_COST_SECONDS,
    MAX_TAGS,
    forbidden_character,
)
from jupyter_qiskit_runtime.runtime.listing import JOBS_OFFSET_MAX
from jupyter_qiskit_runtime.runtime.sessions import MAX_TTL_SECONDS

from .http_helpers import (
    API,
    APIKEY_GRANT,
    FINAL_STATES,
    IAM,
    bell_job,
    decode,
    get_json,
    wait_for_state,
)
from .servers import BASE_URL

METHODS = ("get", "post", "put", "patch", "delete")

Model = TypeVar("Model", bound=BaseModel)


def _registered_routes(router: Router) -> Iterator[tuple[re.Pattern[str], type[RuntimeHandler]]]:
    """Every route of the extension in a Tornado router, however deeply nested."""
    for rule in getattr(router, "rules", []):
        target = rule.target
        if isinstance(target, type) and issubclass(target, RuntimeHandler):
            yield rule.matcher.regex, target
        elif not isinstance(target, type):
            yield from _registered_routes(target)


def _sample(path: str) -> str:
    """A request path of the document's ``path`` under the test server, ids filled in."""
    return BASE_URL + "qiskit-runtime" + re.sub(r"{\w+}", "x1", path)


async def _error(request: Awaitable[HTTPResponse], status: int) -> dict[str, Any]:
    """Await a request that must fail with ``status``; its decoded error body."""
    with pytest.raises(HTTPClientError) as exc:
        await request
    assert exc.value.code == status
    assert exc.value.response is not None
    return dict(decode(exc.value.response))


def _fits(model: type[Model], data: Any) -> Model:
    """``data`` validated by ``model``, after checking it is a JSON object."""
    assert isinstance(data, dict)
    return model.model_validate(data)


# -- the document -----------------------------------------------------------------------------


async def test_served_document_is_valid_openapi_for_this_base_url(jp_fetch, anon_fetch) -> None:
    """``GET v1/openapi.json`` answers a valid OpenAPI 3.1 document whose server is this base URL;
    like every endpoint, it needs credentials."""
    response = await jp_fetch(*API, "openapi.json")
    document = decode(response)
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["servers"][0]["url"] == f"{BASE_URL}qiskit-runtime"
    assert set(document["paths"]) == set(ROUTES)
    for schemes in document["security"]:
        assert set(schemes) <= set(document["components"]["securitySchemes"])
    anonymous = await anon_fetch(*API, "openapi.json")
    assert anonymous.code == 403
    _fits(m.ErrorBody, json.loads(anonymous.body))


def test_document_refers_only_to_defined_schemas_and_documents_errors() -> None:
    """Every ``$ref`` resolves; every authenticated operation documents 403 with the error body."""
    document = openapi_document("/")
    text = json.dumps(document)
    schemas = document["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert refs and refs <= set(schemas)
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert operation["summary"], (method, path)
            assert answers["default"]["content"]["application/json"]["schema"] == error
            if path != "/iam/identity/token":
                assert answers["403"]["content"]["application/json"]["schema"] == error
    assert document["servers"][0]["url"] == "/qiskit-runtime"


def test_every_registered_route_and_method_is_documented(jp_serverapp) -> None:
    """Each route the extension registers, with each method its handler implements, has an
    operation in the document: no endpoint can be added without documenting it."""
    document = openapi_document(BASE_URL)
    routes = [
        (regex, handler)
        for regex, handler in _registered_routes(jp_serverapp.web_app.default_router)
        if handler is not UnknownEndpointHandler
    ]
    # Service, backends and jobs as built before this document, and the document itself.
    assert len(routes) >= 15, routes
    undocumented = []
    for regex, handler in routes:
        for method in METHODS:
            if getattr(handler, method) is getattr(RuntimeHandler, method):
                continue
            if not any(
                method in operations and regex.match(_sample(path))
                for path, operations in document["paths"].items()
            ):
                undocumented.append(f"{method.upper()} {regex.pattern} ({handler.__name__})")
    assert not undocumented, undocumented


# -- real answers fit the models --------------------------------------------------------------


async def test_service_and_backend_answers_fit_the_models(jp_fetch) -> None:
    """Root, usage, the backend listing, configurations, properties and status."""
    info = _fits(m.ServiceInfo, await get_json(jp_fetch))
    assert {p.id for p in info.programs} >= {"sampler"}
    _fits(m.Usage, await get_json(jp_fetch, "instances", "usage"))
    listing = _fits(m.BackendList, await get_json(jp_fetch, "backends"))
    assert len(listing.devices) > 100
    for name, simulator in (("fake_manila@aer", False), ("ideal_5q@aer_ideal", True)):
        raw = await get_json(jp_fetch, "backends", name, "configuration")
        conf = _fits(m.BackendConfiguration, raw)
        assert (conf.backend_name, conf.n_qubits, conf.simulator) == (name, 5, simulator)
        props = _fits(m.BackendProperties, await get_json(jp_fetch, "backends", name, "properties"))
        assert (props.qubits is None) == simulator
        _fits(m.BackendStatus, await get_json(jp_fetch, "backends", name, "status"))


async def test_job_answers_fit_the_models(jp_fetch) -> None:
    """The create answer, the job while pending and once completed, a page, and the metrics."""
    body = bell_job()
    _fits(m.JobCreateRequest, body)
    response = await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body))
    assert response.code == 201
    created = _fits(m.JobCreated, decode(response))
    pending = _fits(m.Job, await get_json(jp_fetch, "jobs", created.id))
    assert pending.params is not None
    await wait_for_state(jp_fetch, created.id, FINAL_STATES)
    job = _fits(m.Job, await get_json(jp_fetch, "jobs", created.id))
    assert (job.state.status, job.program.id) == ("Completed", "sampler")
    assert job.ended is not None
    page = _fits(m.JobList, await get_json(jp_fetch, "jobs", params={"limit": "5"}))
    assert [j.id for j in page.jobs] == [created.id]
    metrics = _fits(m.JobMetrics, await get_json(jp_fetch, "jobs", created.id, "metrics"))
    assert metrics.timestamps.finished is not None and metrics.num_qubits
    second = decode(await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body)))["id"]
    workloads = _fits(m.WorkloadList, await get_json(jp_fetch, "workloads", params={"limit": "1"}))
    assert workloads.total_count == 2 and workloads.next is not None
    assert [w.id for w in workloads.workloads] == [created.id]
    assert second != created.id


async def test_error_answers_fit_the_error_model(jp_fetch) -> None:
    """A 404 for an unknown backend and a 400 for a body that is not JSON."""
    not_found = _fits(
        m.ErrorBody, await _error(jp_fetch(*API, "backends", "nope@aer", "status"), 404)
    )
    assert not_found.error.code == 1211
    bad_json = _fits(
        m.ErrorBody, await _error(jp_fetch(*API, "jobs", method="POST", body="{not json"), 400)
    )
    assert bad_json.error.code == 1400


async def test_credential_answers_fit_the_models(jp_fetch, anon_fetch, jp_serverapp) -> None:
    """The IAM token exchange's answer and a runtime API key."""
    form = {"grant_type": APIKEY_GRANT, "apikey": jp_serverapp.identity_provider.token}
    _fits(m.TokenRequest, form)
    response = await anon_fetch(
        *IAM,
        method="POST",
        body=urllib.parse.urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.code == 200, response.body
    _fits(m.TokenResponse, decode(response))
    issued = await jp_fetch("qiskit-runtime", "iam", "apikeys", method="POST", body="")
    assert issued.code == 201
    _fits(m.ApiKeyResponse, decode(issued))


# -- the models are not vacuous ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (m.ErrorBody, {"error": {"message": "no code"}, "message": "no code"}),
        (m.ErrorBody, {"error": {"message": "x", "code": "1404"}, "message": "x"}),
        (m.JobState, {"status": "DONE"}),
        (m.BackendStatus, {"state": "true", "status": "active", "length_queue": 0,
                           "backend_version": "1"}),
        (m.JobCreateRequest, {"program_id": "sampler", "backend": "b", "params": {}, "cost": 0}),
        (m.SessionCreateRequest, {"mode": "interactive"}),
        (m.MetricsTimestamps, {"created": "yesterday", "running": None, "finished": None}),
    ],
)  # fmt: skip
def test_models_refuse_wrong_shapes(model: type[BaseModel], data: dict[str, Any]) -> None:
    """Missing fields, strings for numbers or booleans, unknown states and bad dates fail."""
    with pytest.raises(ValidationError):
        model.model_validate(data)


async def test_session_answers_fit_the_models(jp_fetch) -> None:
    """A batch created, read, closed to new jobs and cancelled, with the client's bodies."""
    create = {"mode": "batch", "backend": "fake_manila@aer", "max_ttl": 60}
    _fits(m.SessionCreateRequest, create)
    response = await jp_fetch(*API, "sessions", method="POST", body=json.dumps(create))
    assert response.code == 201
    created = _fits(m.SessionDetails, decode(response))
    assert created.mode == "batch"
    details = _fits(m.SessionDetails, await get_json(jp_fetch, "sessions", created.id))
    assert details.accepting_jobs is True
    update = {"accepting_jobs": False}
    _fits(m.SessionUpdate, update)
    patched = await jp_fetch(*API, "sessions", created.id, method="PATCH", body=json.dumps(update))
    assert patched.code == 204
    closed = _fits(m.SessionDetails, await get_json(jp_fetch, "sessions", created.id))
    assert closed.accepting_jobs is False
    cancelled = await jp_fetch(*API, "sessions", created.id, "close", method="DELETE")
    assert cancelled.code == 204
    missing = await _error(jp_fetch(*API, "sessions", "no-such-session"), 404)
    _fits(m.ErrorBody, missing)


def test_every_catalog_configuration_and_properties_fit_the_models() -> None:
    """The configuration and properties of every fake backend (and ideal one) the catalog has."""
    catalog = BackendCatalog()
    names = [name for name in catalog.names() if name.endswith("@aer")]
    assert len(names) > 50
    for name in names:
        _fits(m.BackendConfiguration, catalog.configuration(name))
        _fits(m.BackendProperties, catalog.properties(name) or {})


# -- the document states the server's rules ---------------------------------------------------


@pytest.mark.parametrize("kind", ["change", "seq"])
def test_cursor_pattern_is_the_cursors_the_server_takes(kind: str) -> None:
    """Every cursor the server hands out fits the document's cursor schema, and every string the
    schema allows is a cursor the server takes, of the number whose cursor it is."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    schema = cursor_schema(kind)
    pattern = re.compile(schema["pattern"])

    def allowed(cursor: str) -> bool:
        return pattern.fullmatch(cursor) is not None and len(cursor) <= schema["maxLength"]

    largest = 10**CURSOR_DIGITS_MAX - 1
    for number in [*range(2000), *range(10**5, 10**5 + 2000), largest, largest // 7]:
        assert allowed(encode_cursor(kind, number)), number
    assert largest <= CURSOR_NUMBER_MAX
    assert not allowed(encode_cursor(kind, largest + 1))
    assert not allowed(encode_cursor("other" if kind != "other" else "x", 1))
    assert not allowed(encode_cursor(kind, 1) + "=")

    @hypothesis.given(st.from_regex(pattern, fullmatch=True).filter(lambda c: allowed(c)))
    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    def round_trip(cursor: str) -> None:
        number = decode_cursor("since", cursor, kind, "")
        assert encode_cursor(kind, number) == cursor

    round_trip()


def test_text_pattern_is_what_the_server_stores() -> None:
    """``TEXT_PATTERN`` refuses exactly the characters the server refuses in stored text (the
    surrogates aside, which no pattern names and UTF-8 cannot carry)."""
    pattern = re.compile(m.TEXT_PATTERN)
    for code in range(0x3000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        assert (pattern.fullmatch(char) is not None) == (forbidden_character(char) is None), code


def test_document_states_the_servers_limits() -> None:
    """Each limit the server checks on one value is in the document, so a generated client never
    sends what it refuses: ids, tags, costs, session times, cursors, offsets, credentials."""
    document = openapi_document("/")
    schemas = document["components"]["schemas"]
    job = schemas["JobCreateRequest"]["properties"]
    assert job["program_id"]["enum"] == list(PROGRAMS)
    assert job["params"]["minProperties"] == 1
    tags = job["tags"]["anyOf"][0]
    assert tags["maxItems"] == MAX_TAGS
    assert tags["items"] == {"type": "string", "maxLength": 86, "pattern": m.TEXT_PATTERN}
    assert job["cost"]["anyOf"][0]["maximum"] == MAX_COST_SECONDS
    assert set(schemas["JobCreateRequest"]["required"]) == {"program_id", "backend", "params"}
    assert schemas["TagsUpdate"]["required"] == ["tags"]
    session = schemas["SessionCreateRequest"]
    assert session["required"] == ["backend"] and session["properties"]["backend"]["minLength"] == 1
    assert session["properties"]["mode"]["enum"] == ["dedicated", "batch"]
    for name in ("max_ttl", "interactive_ttl"):
        assert session["properties"][name]["anyOf"][0]["maximum"] == MAX_TTL_SECONDS
    assert schemas["SessionUpdate"]["properties"]["accepting_jobs"]["const"] is False
    apikey = re.compile(schemas["TokenRequest"]["properties"]["apikey"]["pattern"])
    for refused in ("", " ", "\x03", " \t\x1c\x1f\n"):
        assert not apikey.search(refused), refused
    assert all(apikey.search(key) for key in ("k", " k ", "\x03k", "\x7f"))

    def parameter(path: str, method: str, name: str) -> dict[str, Any]:
        found = document["paths"][path][method]["parameters"]
        return dict(next(p for p in found if p["name"] == name)["schema"])

    assert parameter("/v1/jobs", "get", "offset")["maximum"] == JOBS_OFFSET_MAX
    assert parameter("/v1/jobs/{job_id}", "get", "job_id")["pattern"] == "^[A-Za-z0-9_-]+$"
    assert parameter("/v1/jobs/changes", "get", "since") == cursor_schema("change")
    assert parameter("/v1/workloads", "get", "next") == cursor_schema("seq")
    links = document["paths"]["/v1/jobs"]["post"]["responses"]["201"]["links"]
    assert links["get_job"] == {
        "operationId": "get_job",
        "parameters": {"job_id": "$response.body#/id"},
    }
    operation_ids = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert {link["operationId"] for link in links.values()} <= operation_ids


def test_space_class_is_what_the_server_strips() -> None:
    """``SPACE_CLASS`` is exactly what the server drops around a stripped form field or query
    argument: Python's white space, and the control characters Tornado reads as spaces."""
    spaces = re.compile(f"[{m.SPACE_CLASS}]")
    tornado_spaces = re.compile(r"[\x00-\x08\x0e-\x1f]")
    for code in range(0x3100):
        char = chr(code)
        dropped = char.isspace() or tornado_spaces.fullmatch(char) is not None
        assert (spaces.fullmatch(char) is not None) == dropped, hex(code)


def test_date_time_pattern_is_what_the_server_reads() -> None:
    """Every date and time the document allows (its pattern, and a real calendar day, as
    ``format: date-time`` requires) is one the query arguments' parser takes."""
    hypothesis = pytest.importorskip("hypothesis")
    import datetime as dt

    from hypothesis import strategies as st

    from jupyter_qiskit_runtime.handlers.query import time_argument

    class Arguments:
        """The part of a request handler the query parsers read: one argument, as sent."""

        def __init__(self, value: str) -> None:
            self.request = SimpleNamespace(query_arguments={"created_after": [value.encode()]})

        def decode_argument(self, raw: bytes, name: str | None = None) -> str:
            return raw.decode("utf-8")

    def real_day(text: str) -> bool:
        try:
            dt.date.fromisoformat(text[:10])
        except ValueError:
            return False
        return True

    pattern = re.compile(DATE_TIME_PATTERN)
    for refused in ("0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z", "2020-01-01t00:00:00Z",
                    "2020-01-01T00:00:60Z", "2020-01-01T00:00:00z"):  # fmt: skip
        assert not pattern.fullmatch(refused), refused
    for edge in ("0001-01-02T00:00:00+23:59", "9999-12-30T23:59:59.999999999-23:59"):
        assert pattern.fullmatch(edge)
        assert time_argument(Arguments(edge), "created_after") is not None

    @hypothesis.given(st.from_regex(pattern, fullmatch=True).filter(real_day))
    @hypothesis.settings(max_examples=500, deadline=None, derandomize=True)
    def read(text: str) -> None:
        assert time_argument(Arguments(text), "created_after") is not None

    read()
