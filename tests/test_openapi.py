"""The OpenAPI document: it is valid, it documents every route, and real answers fit its models."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, ValidationError
from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.routing import Router

from jupyter_qiskit_runtime import models as m
from jupyter_qiskit_runtime.handlers.base import RuntimeHandler
from jupyter_qiskit_runtime.handlers.root import UnknownEndpointHandler
from jupyter_qiskit_runtime.openapi import ROUTES, openapi_document
from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog

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
