"""Bad input anywhere in the API is a 4xx that says what is wrong, and the server stays healthy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from .circuits import bell_isa, params_for
from .http_helpers import (
    API,
    FINAL_STATES,
    GARBAGE_QPY,
    NO_SUCH_JOB,
    NOT_FOUND,
    bell_job,
    cancel,
    decode,
    get_json,
    slow_job,
    submit,
    wait_for_state,
)

# -- bad input --------------------------------------------------------------------------------


def _wide_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(6)
    qc.h(0)
    for q in range(5):
        qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def _parametrized_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(1)
    qc.rx(Parameter("theta"), 0)
    qc.measure_all()
    return qc


def _job(**changes: Any) -> Callable[[], str]:
    """A bell job body with fields changed (``None`` removes a field), as JSON."""

    def build() -> str:
        body: dict[str, Any] = bell_job()
        for key, value in changes.items():
            if value is None:
                body.pop(key)
            else:
                body[key] = value() if callable(value) else value
        return json.dumps(body)

    return build


def _post(body: Callable[[], str], status: int, *fragments: str, id: str) -> Any:
    return pytest.param("POST", ("jobs",), {}, body, status, fragments, id=id)


def _get(
    path: tuple[str, ...], query: dict[str, str], status: int, *fragments: str, id: str
) -> Any:
    return pytest.param("GET", path, query, None, status, fragments, id=id)


#: Bad requests: method, path under v1, query, body factory, status, fragments of the message.
BAD_REQUESTS = [
    _post(lambda: '{"program_id": ', 400, "not valid JSON", id="malformed-json"),
    _post(lambda: "[1, 2]", 400, "must be a JSON object", id="body-a-list"),
    _post(lambda: "", 400, "must be a JSON object", id="empty-body"),
    _post(_job(program_id=None), 400, "'program_id' is required", id="no-program-id"),
    _post(_job(backend=None), 400, "'backend' is required", id="no-backend"),
    _post(_job(params=None), 400, "'params' is required", id="no-params"),
    _post(_job(params="pubs"), 400, "'params' must be of type dict, not str", id="params-str"),
    _post(_job(program_id=7), 400, "'program_id' must be of type str, not int", id="program-int"),
    _post(_job(tags=["a", 1]), 400, "'tags' must be a list of strings", id="tags-not-strings"),
    _post(_job(tags="a"), 400, "'tags' must be of type list, not str", id="tags-a-string"),
    _post(_job(cost=-5), 400, "'cost'", "must be positive", id="cost-negative"),
    _post(_job(cost=True), 400, "'cost' must be of type int, not bool", id="cost-a-bool"),
    _post(_job(session_id=3), 400, "'session_id' must be of type str", id="session-id-int"),
    _post(_job(program_id="qaoa"), 404, "'qaoa'", "sampler", "estimator", id="unknown-program"),
    _post(
        _job(program_id="circuit-runner"),
        404,
        "does not run the program 'circuit-runner'",
        "sampler, estimator, executor, noise-learner",
        id="circuit-runner",
    ),
    _post(_job(program_id="calibrate"), 404, "'calibrate'", "executor", id="calibrate"),
    _post(
        _job(params=lambda: params_for([(bell_isa(),)], options={"default_shots": -5})),
        400,
        "options.default_shots must be a positive integer",
        id="shots-negative",
    ),
    _post(
        _job(params=lambda: params_for([(bell_isa(),)], options={"execution": {"meas_type": "x"}})),
        400,
        "options.execution.meas_type must be one of classified, kerneled, avg_kerneled",
        id="meas-type-unknown",
    ),
    _post(
        _job(backend="fake_nowhere@aer"),
        404,
        "'fake_nowhere@aer' does not exist",
        id="unknown-backend",
    ),
    _post(_job(params=GARBAGE_QPY), 400, "params could not be decoded", id="garbage-qpy"),
    _post(
        _job(params=lambda: params_for([])),
        400,
        "params.pubs must be a non-empty list",
        id="pubs-empty",
    ),
    _post(
        _job(params={"pubs": "circuit"}),
        400,
        "params.pubs must be a non-empty list",
        id="pubs-not-a-list",
    ),
    _post(
        _job(params={"pubs": [[1, 2]]}),
        400,
        "params.pubs[0] is not a valid sampler PUB",
        id="pub-not-a-circuit",
    ),
    _post(
        _job(params=lambda: params_for([(bell_isa(),)], options=[1])),
        400,
        "params.options must be a JSON object",
        id="options-not-an-object",
    ),
    _post(
        _job(params=lambda: params_for([(_wide_circuit(),)])),
        400,
        "circuit of 6 qubits",
        "the backend has 5",
        id="circuit-wider-than-backend",
    ),
    _post(
        _job(params=lambda: params_for([(_parametrized_circuit(),)])),
        400,
        "params.pubs[0] is not a valid sampler PUB",
        "number of parameters (1)",
        id="unbound-parameter",
    ),
    _post(
        _job(program_id="estimator", params=lambda: params_for([(bell_isa(),)])),
        400,
        "params.pubs[0] is not a valid estimator PUB",
        id="estimator-pub-without-observable",
    ),
    _post(_job(private="yes"), 400, "'private' must be of type bool, not str", id="private-str"),
    _get(("jobs",), {"limit": "abc"}, 400, "'limit' must be an integer", id="limit-abc"),
    _get(("jobs",), {"limit": "5000"}, 400, "'limit' must be between 0 and 1000", id="limit-big"),
    _get(("jobs",), {"offset": "-1"}, 400, "'offset' must be between 0 and", id="offset-negative"),
    _get(("jobs",), {"pending": "maybe"}, 400, "'pending' must be 'true' or", id="pending-maybe"),
    _get(("jobs", NO_SUCH_JOB), {}, 404, NOT_FOUND, id="unknown-job"),
    _get(("jobs", NO_SUCH_JOB, "results"), {}, 404, NOT_FOUND, id="unknown-job-results"),
    _get(("jobs", NO_SUCH_JOB, "logs"), {}, 404, NOT_FOUND, id="unknown-job-logs"),
    _get(("jobs", NO_SUCH_JOB, "metrics"), {}, 404, NOT_FOUND, id="unknown-job-metrics"),
    pytest.param(
        "POST",
        ("jobs", NO_SUCH_JOB, "cancel"),
        {},
        lambda: "",
        404,
        (NOT_FOUND,),
        id="unknown-job-cancel",
    ),
    _get(
        ("backends", "fake_manila@nowhere", "configuration"),
        {},
        404,
        "executors: aer, aer_ideal",
        id="unknown-executor",
    ),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "status", "fragments"), BAD_REQUESTS)
async def test_bad_request_is_a_4xx_that_says_what_is_wrong(
    jp_fetch, method, path, query, body, status, fragments
) -> None:
    """Each bad input is answered with the listed 4xx (never a 500) and an error body
    ``{"error": {"message", "code"}}`` whose message names the problem; no job is created."""
    response = await jp_fetch(
        *API,
        *path,
        method=method,
        params=query,
        body=body() if body is not None else None,
        raise_error=False,
    )
    assert response.code == status, response.body
    error = decode(response)["error"]
    assert isinstance(error["code"], int)
    assert isinstance(error["message"], str)
    for fragment in fragments:
        assert fragment in error["message"], error["message"]
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0


async def test_server_stays_healthy_after_every_bad_request(jp_fetch) -> None:
    """One server that was sent every bad request of the table still answers normal requests
    and accepts (and cancels) a valid job."""
    for case in BAD_REQUESTS:
        method, path, query, body, status, _ = case.values
        response = await jp_fetch(
            *API,
            *path,
            method=method,
            params=query,
            body=body() if body is not None else None,
            raise_error=False,
        )
        assert response.code == status, (case.id, response.body)
    assert (await get_json(jp_fetch))["api_version"] == "v1"
    assert len((await get_json(jp_fetch, "backends"))["devices"]) > 100
    assert (await get_json(jp_fetch, "jobs"))["count"] == 0
    job_id = await submit(jp_fetch, slow_job())
    assert await cancel(jp_fetch, job_id) == 204
    job = await wait_for_state(jp_fetch, job_id, FINAL_STATES)
    assert job["state"]["status"] == "Cancelled"
