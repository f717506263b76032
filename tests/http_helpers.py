"""Helpers for the HTTP-layer tests: payloads as the client builds them, and request shortcuts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPResponse

from .circuits import bell_isa, endless_circuit, sampler_job_body
from .servers import BASE_URL

API = ("qiskit-runtime", "v1")
IAM = ("qiskit-runtime", "iam", "identity", "token")
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
FINAL_STATES = {"Completed", "Failed", "Cancelled"}

#: Upper bound on polls of a job's state: a guard against a hang, not a timing requirement.
MAX_POLLS = 1200
POLL_SECONDS = 0.05


def bell_job(backend: str = "fake_manila@aer_ideal", shots: int = 100) -> dict[str, Any]:
    """A ``POST /jobs`` body sampling the Bell circuit transpiled for fake_manila."""
    return sampler_job_body(backend, bell_isa(), shots)


def slow_job() -> dict[str, Any]:
    """A ``POST /jobs`` body for a job that stays running until it is cancelled."""
    return sampler_job_body("ideal_32q@aer_ideal", endless_circuit(), 100_000)


# -- helpers ----------------------------------------------------------------------------------


def decode(response: HTTPResponse) -> Any:
    """The JSON body of a response."""
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


async def get_json(jp_fetch: Callable[..., Awaitable[HTTPResponse]], *parts: str, **kw: Any) -> Any:
    """``GET`` an API path and decode its JSON."""
    return decode(await jp_fetch(*API, *parts, **kw))


async def submit(jp_fetch: Callable[..., Awaitable[HTTPResponse]], body: dict[str, Any]) -> str:
    """``POST /jobs``; the new job's id (after checking the 201 answer)."""
    response = await jp_fetch(*API, "jobs", method="POST", body=json.dumps(body))
    assert response.code == 201
    created = decode(response)
    assert created["backend"] == body["backend"]
    assert response.headers["Location"] == f"{BASE_URL}qiskit-runtime/v1/jobs/{created['id']}"
    return str(created["id"])


async def cancel(jp_fetch: Callable[..., Awaitable[HTTPResponse]], job_id: str) -> int:
    """``POST /jobs/{id}/cancel``; the status code."""
    response = await jp_fetch(*API, "jobs", job_id, "cancel", method="POST", body="")
    return int(response.code)


async def wait_for_state(
    jp_fetch: Callable[..., Awaitable[HTTPResponse]], job_id: str, states: set[str]
) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until the job is in one of ``states``; the job."""
    job: dict[str, Any] = {}
    for _ in range(MAX_POLLS):
        job = await get_json(jp_fetch, "jobs", job_id, params={"exclude_params": "true"})
        if job["state"]["status"] in states:
            return job
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"job {job_id} never reached {states}; last seen {job}")


async def error_of(request: Awaitable[HTTPResponse], status: int) -> str:
    """Await a request that must fail with ``status``; the message of its error body."""
    with pytest.raises(HTTPClientError) as exc:
        await request
    response = exc.value.response
    assert response is not None
    assert exc.value.code == status, response.body
    error = decode(response)["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["code"], int)
    return str(error["message"])


NO_SUCH_JOB = "0123456789abcdef0123"
NOT_FOUND = f"Job {NO_SUCH_JOB} was not found"
GARBAGE_QPY = {"pubs": [[{"__type__": "QuantumCircuit", "__value__": "garbage"}]]}
