"""Waiting for jobs through Jupyter Server's real HTTP layer: ``GET /jobs/{id}/wait``,
``GET /jobs/changes``, and the short wait of ``GET /jobs/{id}`` for a job just submitted.

Each test gets a fresh in-process server (see ``conftest.py``) whose ``quick_job_wait`` is 0 unless
the test sets it (``quick_job_wait`` fixture), so that ``GET /jobs/{id}`` answers at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from jupyter_qiskit_runtime.app import QiskitRuntimeApp
from jupyter_qiskit_runtime.runtime.qiskit_runtime import QiskitRuntime

from .http_helpers import (
    API,
    FINAL_STATES,
    MAX_POLLS,
    POLL_SECONDS,
    bell_job,
    cancel,
    decode,
    error_of,
    get_json,
    slow_job,
    submit,
    wait_for_state,
)
from .servers import BASE_URL

PENDING_STATES = {"Queued", "Running"}


@pytest.fixture
def quick_job_wait() -> float:
    """``QiskitRuntimeApp.quick_job_wait`` for the test's server; tests parametrize it."""
    return 0.0


@pytest.fixture
def jp_server_config(tmp_path: Path, quick_job_wait: float) -> dict[str, Any]:
    """The shared configuration, with this test's ``quick_job_wait``."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_qiskit_runtime": True}},
        "QiskitRuntimeApp": {
            "db_path": str(tmp_path / "jobs.sqlite3"),
            "pool_size": 1,
            "quick_job_wait": quick_job_wait,
        },
    }


def extension(jp_serverapp: Any) -> QiskitRuntimeApp:
    """The extension app of the test's server."""
    (app,) = jp_serverapp.extension_manager.extension_apps["jupyter_qiskit_runtime"]
    assert isinstance(app, QiskitRuntimeApp)
    return app


def runtime_of(jp_serverapp: Any) -> QiskitRuntime:
    """The runtime of the test's server."""
    return extension(jp_serverapp).runtime


def utc(text: str) -> datetime:
    """An ISO 8601 timestamp of the API as an aware datetime."""
    return datetime.fromisoformat(text)


async def until(condition: Any) -> None:
    """Wait until ``condition()`` is true (bounded; a guard against a hang, not a timing check)."""
    for _ in range(MAX_POLLS):
        if condition():
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("the condition never became true")


async def wait_request(jp_fetch: Any, job_id: str, timeout: str) -> HTTPResponse:
    """``GET /jobs/{id}/wait?timeout=...``."""
    return await jp_fetch(*API, "jobs", job_id, "wait", params={"timeout": timeout})


# -- GET /jobs/{id}/wait ------------------------------------------------------------------------


async def test_wait_answers_when_the_job_is_final(jp_fetch, jp_serverapp) -> None:
    """One request, asked to wait up to a minute, answers with the final job (in the shape of
    ``GET /jobs/{id}``) once it finished: after its end, and sooner after it than the job took."""
    created = datetime.now(UTC)
    job_id = await submit(jp_fetch, bell_job())
    response = await wait_request(jp_fetch, job_id, "60")
    answered = datetime.now(UTC)
    job = decode(response)
    assert job["state"]["status"] == "Completed", job
    assert job["id"] == job_id and "params" not in job
    ended = utc(job["ended"])
    assert created <= ended <= answered
    # The job took seconds (its worker started); the answer came within a fraction of that.
    assert (answered - ended) < (ended - created)
    assert job == await get_json(jp_fetch, "jobs", job_id, params={"exclude_params": "true"})
    assert runtime_of(jp_serverapp).events.waiting == 0


async def test_wait_times_out_on_a_long_job_and_sees_it_cancelled(jp_fetch, jp_serverapp) -> None:
    """On a job that runs on, the wait answers its current state once the timeout passes (not
    before); a wait under way when the job is cancelled answers Cancelled. No waiter is left."""
    job_id = await submit(jp_fetch, slow_job())
    await wait_for_state(jp_fetch, job_id, {"Running"})
    started = time.monotonic()
    job = decode(await wait_request(jp_fetch, job_id, "0.5"))
    assert time.monotonic() - started >= 0.5
    assert job["state"]["status"] == "Running"
    assert decode(await wait_request(jp_fetch, job_id, "0"))["state"]["status"] == "Running"

    waiting = asyncio.ensure_future(wait_request(jp_fetch, job_id, "60"))
    runtime = runtime_of(jp_serverapp)
    await until(lambda: runtime.events.waiting == 1)
    assert not waiting.done()
    assert await cancel(jp_fetch, job_id) == 204
    job = decode(await waiting)
    assert job["state"]["status"] == "Cancelled"
    assert runtime.events.waiting == 0


@pytest.mark.parametrize(
    "timeout", ["-1", "60.5", "1e9", "nan", "inf", "soon", ""], ids=lambda t: t or "empty"
)
async def test_wait_refuses_a_bad_timeout(jp_fetch, timeout: str) -> None:
    """A timeout that is not a number from 0 to 60 is a 400 naming the argument."""
    message = await error_of(wait_request(jp_fetch, "0123456789abcdef0123", timeout), 400)
    assert "'timeout' must be a number between 0 and 60" in message


async def test_wait_for_an_unknown_job_is_404(jp_fetch) -> None:
    """An unknown job is a 404, as for ``GET /jobs/{id}``."""
    message = await error_of(wait_request(jp_fetch, "0123456789abcdef0123", "1"), 404)
    assert "Job 0123456789abcdef0123 was not found" in message


async def test_waiter_is_freed_when_the_client_goes_away(
    jp_serverapp, jp_fetch, jp_http_port
) -> None:
    """A client that closes its connection during a wait frees its waiter at once, not when the
    wait's timeout passes."""
    job_id = await submit(jp_fetch, slow_job())
    runtime = runtime_of(jp_serverapp)
    token = jp_serverapp.identity_provider.token
    _reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    path = f"{BASE_URL}qiskit-runtime/v1/jobs/{job_id}/wait?timeout=60"
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{jp_http_port}\r\n"
        f"Authorization: token {token}\r\n\r\n".encode()
    )
    await writer.drain()
    await until(lambda: runtime.events.waiting == 1)
    writer.close()
    await until(lambda: runtime.events.waiting == 0)
    assert await cancel(jp_fetch, job_id) == 204
    await wait_for_state(jp_fetch, job_id, FINAL_STATES)


async def test_stopping_the_server_ends_waits(jp_fetch, jp_serverapp) -> None:
    """Stopping the extension answers waiting requests with 503 and does not wait for them."""
    job_id = await submit(jp_fetch, slow_job())
    runtime = runtime_of(jp_serverapp)
    waits = [
        asyncio.ensure_future(error_of(wait_request(jp_fetch, job_id, "60"), 503)),
        asyncio.ensure_future(
            error_of(jp_fetch(*API, "jobs", "changes", params={"since": "Y2hhbmdlOjk5OQ",
                                                                "timeout": "60"}), 503)
        ),
    ]  # fmt: skip
    await until(lambda: runtime.events.waiting == 2)
    await extension(jp_serverapp).stop_extension()
    for message in await asyncio.gather(*waits):
        assert "shutting down" in message
    assert runtime.events.waiting == 0


# -- GET /jobs/{id}: the quick wait -------------------------------------------------------------


@pytest.mark.parametrize("quick_job_wait", [60.0])
async def test_state_of_a_job_just_submitted_waits_for_it(jp_fetch) -> None:
    """With ``quick_job_wait`` longer than the job takes (here, with its worker's start), the
    first ``GET /jobs/{id}`` after submitting finds the job final."""
    job_id = await submit(jp_fetch, bell_job())
    job = await get_json(jp_fetch, "jobs", job_id, params={"exclude_params": "true"})
    assert job["state"]["status"] == "Completed"


async def test_state_is_answered_at_once_without_quick_wait(jp_fetch) -> None:
    """With ``quick_job_wait`` 0, the state of a job just submitted is answered at once."""
    job_id = await submit(jp_fetch, slow_job())
    job = await get_json(jp_fetch, "jobs", job_id, params={"exclude_params": "true"})
    assert job["state"]["status"] in PENDING_STATES
    assert await cancel(jp_fetch, job_id) == 204


@pytest.mark.parametrize("quick_job_wait", [0.3])
async def test_quick_wait_ends_at_the_jobs_age(jp_fetch) -> None:
    """A job that runs longer than ``quick_job_wait`` is answered, still pending, once it is that
    old, and not before."""
    started = datetime.now(UTC)
    job_id = await submit(jp_fetch, slow_job())
    job = await get_json(jp_fetch, "jobs", job_id, params={"exclude_params": "true"})
    answered = datetime.now(UTC)
    assert job["state"]["status"] in PENDING_STATES
    created = utc(job["created"])
    assert started <= created
    assert (answered - created).total_seconds() >= 0.3
    assert await cancel(jp_fetch, job_id) == 204


# -- GET /jobs/changes ----------------------------------------------------------------------------


async def changes(jp_fetch: Any, **params: str) -> dict[str, Any]:
    """``GET /jobs/changes`` with query arguments."""
    return dict(await get_json(jp_fetch, "jobs", "changes", params=params))


async def test_changes_list_jobs_after_a_cursor_and_long_poll(jp_fetch) -> None:
    """Without ``since``, every job; after its cursor, nothing until a job changes; a long poll
    under way answers with the change; following cursors ends with the final state."""
    first = await submit(jp_fetch, slow_job())
    everything = await changes(jp_fetch)
    assert [j["id"] for j in everything["jobs"]] == [first]
    assert everything["more"] is False
    cursor = everything["cursor"]
    assert await cancel(jp_fetch, first) == 204
    await wait_for_state(jp_fetch, first, FINAL_STATES)
    after_cancel = await changes(jp_fetch, since=cursor)
    assert [(j["id"], j["state"]["status"]) for j in after_cancel["jobs"]] == [(first, "Cancelled")]
    cursor = after_cancel["cursor"]
    quiet = await changes(jp_fetch, since=cursor, timeout="0.2")
    assert quiet == {"jobs": [], "cursor": cursor, "more": False}

    polling = asyncio.ensure_future(changes(jp_fetch, since=cursor, timeout="60"))
    await asyncio.sleep(0.2)
    assert not polling.done(), "nothing changed: the long poll must still wait"
    second = await submit(jp_fetch, bell_job())
    answer = await polling
    assert [j["id"] for j in answer["jobs"]] == [second]
    assert "params" not in answer["jobs"][0]
    seen = answer["jobs"][0]["state"]["status"]
    cursor = answer["cursor"]
    for _ in range(10):  # Queued, Running, Completed: a few changes at most
        if seen in FINAL_STATES:
            break
        answer = await changes(jp_fetch, since=cursor, timeout="60")
        assert [j["id"] for j in answer["jobs"]] == [second]
        seen, cursor = answer["jobs"][0]["state"]["status"], answer["cursor"]
    assert seen == "Completed"
    everything = await changes(jp_fetch)
    assert [j["id"] for j in everything["jobs"]] == [first, second]
    assert everything["cursor"] == cursor


async def test_changes_are_paged_by_limit(jp_fetch) -> None:
    """``limit`` bounds an answer; ``more`` says to ask again with its cursor."""
    ids = [await submit(jp_fetch, slow_job()) for _ in range(3)]
    try:
        page = await changes(jp_fetch, limit="2")
        assert page["more"] is True
        rest = await changes(jp_fetch, since=page["cursor"], limit="2")
        assert rest["more"] is False
        assert [j["id"] for j in page["jobs"] + rest["jobs"]] == ids
    finally:
        for job_id in reversed(ids):
            assert await cancel(jp_fetch, job_id) == 204


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"since": "bm90IGEgY3Vyc29y"}, "'since' is not a cursor this server gave out"),
        ({"since": "c2VxOjU"}, "'since' is not a cursor"),  # a workloads cursor
        ({"since": "%%%"}, "'since' is not a cursor"),
        ({"timeout": "61"}, "'timeout' must be a number between 0 and 60"),
        ({"timeout": "-0.1"}, "'timeout' must be a number between 0 and 60"),
        ({"limit": "0"}, "'limit' must be between 1 and 1000"),
    ],
)
async def test_changes_refuse_bad_arguments(jp_fetch, params: dict[str, str], text: str) -> None:
    """A cursor this server did not give out, a bad timeout or limit: 400 naming it."""
    request = jp_fetch(*API, "jobs", "changes", params=params)
    assert text in await error_of(request, 400)


async def test_changes_route_does_not_shadow_job_ids(jp_fetch) -> None:
    """``/jobs/changes`` is routed before ``/jobs/{id}``, which still reads jobs."""
    job_id = await submit(jp_fetch, slow_job())
    try:
        assert (await get_json(jp_fetch, "jobs", job_id))["id"] == job_id
        response = await jp_fetch(*API, "jobs", "changes", params={"timeout": "0"})
        assert json.loads(response.body)["jobs"][0]["id"] == job_id
    finally:
        assert await cancel(jp_fetch, job_id) == 204
