"""Helpers for the HTTP-layer tests: payloads as the client builds them, and request shortcuts."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import RuntimeEncoder
from qiskit_ibm_runtime.fake_provider import FakeManilaV2
from tornado.httpclient import HTTPClientError, HTTPResponse

from .servers import BASE_URL

API = ("qiskit-runtime", "v1")
IAM = ("qiskit-runtime", "iam", "identity", "token")
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
FINAL_STATES = {"Completed", "Failed", "Cancelled"}

#: Upper bound on polls of a job's state: a guard against a hang, not a timing requirement.
MAX_POLLS = 1200
POLL_SECONDS = 0.05

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# -- payloads ---------------------------------------------------------------------------------


@cache
def bell_isa() -> QuantumCircuit:
    """A measured Bell circuit transpiled for fake_manila (an ISA circuit, as the client sends)."""
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = FakeManilaV2()
    pm = generate_preset_pass_manager(optimization_level=1, backend=backend, seed_transpiler=7)
    return pm.run(bell)


@cache
def slow_circuit(n_qubits: int = 20) -> QuantumCircuit:
    """A circuit that takes the simulator far longer than any test waits.

    Its mid-circuit measurements make Aer simulate every shot separately over a 2^20 statevector,
    so 100,000 shots take hours (about 0.75 s a shot here) unless cancelled.
    """
    qc = QuantumCircuit(n_qubits, n_qubits)
    for layer in range(6):
        qc.h(range(n_qubits))
        for q in range(n_qubits - 1):
            qc.cx(q, q + 1)
            qc.rz(0.1 * (layer + q + 1), q + 1)
        qc.measure(layer % n_qubits, layer % n_qubits)
    qc.measure(range(n_qubits), range(n_qubits))
    return qc


def params_for(pubs: list[Any], **overrides: Any) -> dict[str, Any]:
    """Params as the client builds them: RuntimeEncoder JSON, loaded back into a dict."""
    params = {"pubs": pubs, "options": {}, "version": 2, "support_qiskit": True, **overrides}
    return json.loads(json.dumps(params, cls=RuntimeEncoder))


def bell_job(backend: str = "fake_manila@aer_ideal", shots: int = 100) -> dict[str, Any]:
    """A ``POST /jobs`` body sampling the Bell circuit."""
    return {
        "program_id": "sampler",
        "backend": backend,
        "params": params_for([(bell_isa(), None, shots)]),
    }


def slow_job() -> dict[str, Any]:
    """A ``POST /jobs`` body for a job that stays running until it is cancelled."""
    return {
        "program_id": "sampler",
        "backend": "ideal_32q@aer_ideal",
        "params": params_for([(slow_circuit(), None, 100_000)]),
    }


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
