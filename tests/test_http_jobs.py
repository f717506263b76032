"""Jobs through Jupyter Server's real HTTP layer, with pytest-jupyter's in-process server.

Each test gets a fresh server (``jp_serverapp``) under base_url ``/a%40b/`` with its job database in
the test's temporary directory and one job at a time (``pool_size=1``, see ``conftest.py``). Tests
that run a job pay for spawning a worker process, so only a few do; the others cancel their jobs.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from qiskit.primitives import PrimitiveResult
from qiskit_ibm_runtime import RuntimeDecoder

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

# -- jobs -------------------------------------------------------------------------------------


async def test_bell_job_runs_end_to_end(jp_fetch) -> None:
    """A sampler job goes 201 → Completed; results decode to a PrimitiveResult of 00/11 only,
    logs are text, metrics have all three timestamps, and a finished job cannot be cancelled."""
    body = bell_job(shots=100)
    job_id = await submit(jp_fetch, body)

    job = await wait_for_state(jp_fetch, job_id, FINAL_STATES)
    assert job["state"]["status"] == "Completed", job
    assert job["backend"] == "fake_manila@aer_ideal"
    assert job["program"]["id"] == "sampler"
    full = await get_json(jp_fetch, "jobs", job_id)
    assert full["params"] == body["params"]

    response = await jp_fetch(*API, "jobs", job_id, "results")
    result = json.loads(response.body.decode(), cls=RuntimeDecoder)
    assert isinstance(result, PrimitiveResult)
    counts = result[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"}  # each has probability 1/2; 100 shots see both
    assert sum(counts.values()) == 100

    response = await jp_fetch(*API, "jobs", job_id, "logs")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "Running sampler on fake_manila@aer_ideal" in response.body.decode()

    metrics = await get_json(jp_fetch, "jobs", job_id, "metrics")
    stamps = metrics["timestamps"]
    assert all(stamps[k] for k in ("created", "running", "finished"))
    assert stamps["created"] <= stamps["running"] <= stamps["finished"]
    assert metrics["usage"]["status"] == "complete"
    assert metrics["position_in_queue"] is None

    listing = await get_json(jp_fetch, "jobs", params={"pending": "false"})
    assert listing["count"] == 1
    assert [j["id"] for j in listing["jobs"]] == [job_id]
    assert (await get_json(jp_fetch, "jobs", params={"pending": "true"}))["count"] == 0

    message = await error_of(cancel(jp_fetch, job_id), status=409)
    assert f"Job {job_id} is Completed and cannot be cancelled" in message


async def test_queued_and_running_jobs_can_be_cancelled(jp_fetch) -> None:
    """With one job slot busy, a second job waits in the queue and is cancelled at once (204);
    the running one is cancelled too; a cancelled job cannot be cancelled again (409)."""
    running_id = await submit(jp_fetch, slow_job())
    queued_id = await submit(jp_fetch, slow_job())
    try:
        await wait_for_state(jp_fetch, running_id, {"Running"})
        queued = await get_json(jp_fetch, "jobs", queued_id, params={"exclude_params": "true"})
        assert queued["state"]["status"] == "Queued"
        metrics = await get_json(jp_fetch, "jobs", queued_id, "metrics")
        assert metrics["position_in_queue"] == 1
        assert metrics["timestamps"]["running"] is None
        status = await get_json(jp_fetch, "backends", "ideal_32q@aer_ideal", "status")
        assert status["length_queue"] == 2
        pending = await get_json(jp_fetch, "jobs", params={"pending": "true"})
        assert pending["count"] == 2

        assert await cancel(jp_fetch, queued_id) == 204
        queued = await get_json(jp_fetch, "jobs", queued_id, params={"exclude_params": "true"})
        assert queued["state"]["status"] == "Cancelled"
        assert queued["state"]["reason"] == "Cancelled by the user."
    finally:
        assert await cancel(jp_fetch, running_id) == 204
    job = await wait_for_state(jp_fetch, running_id, FINAL_STATES)
    assert job["state"]["status"] == "Cancelled"

    message = await error_of(cancel(jp_fetch, queued_id), status=409)
    assert f"Job {queued_id} is Cancelled and cannot be cancelled" in message
    status = await get_json(jp_fetch, "backends", "ideal_32q@aer_ideal", "status")
    assert status["length_queue"] == 0


async def test_running_job_marks_server_activity(jp_fetch, jp_serverapp) -> None:
    """A running job records activity, so idle culling does not stop the server mid-job."""
    activity = jp_serverapp.web_app.settings["last_activity_times"]
    assert "qiskit_runtime" not in activity
    before = datetime.now(UTC)
    job_id = await submit(jp_fetch, slow_job())
    try:
        await wait_for_state(jp_fetch, job_id, {"Running"})
        stamp = activity.get("qiskit_runtime")
        assert isinstance(stamp, datetime)
        assert stamp.tzinfo is not None
        assert stamp >= before
    finally:
        assert await cancel(jp_fetch, job_id) == 204
    await wait_for_state(jp_fetch, job_id, FINAL_STATES)


# -- limits -----------------------------------------------------------------------------------


class TestPayloadLimit:
    """``QiskitRuntimeApp.max_payload_bytes`` bounds the size of a job submission."""

    LIMIT = 300

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        """The shared config with a small payload limit."""
        jp_server_config["QiskitRuntimeApp"]["max_payload_bytes"] = self.LIMIT
        return jp_server_config

    async def test_larger_body_is_413_naming_the_limit(self, jp_fetch) -> None:
        """A job body over the limit is 413 with a message naming the limit and the setting;
        a smaller (bad) body is judged on its content instead."""
        body = json.dumps(bell_job())
        assert len(body) > self.LIMIT
        message = await error_of(jp_fetch(*API, "jobs", method="POST", body=body), status=413)
        assert f"{len(body)} bytes" in message
        assert f"limit of {self.LIMIT} bytes" in message
        assert "max_payload_bytes" in message
        message = await error_of(jp_fetch(*API, "jobs", method="POST", body="{}"), status=400)
        assert "'program_id' is required" in message
        assert (await get_json(jp_fetch, "jobs"))["count"] == 0


class TestPendingJobLimit:
    """``QiskitRuntimeApp.max_pending_jobs_per_user`` bounds a user's unfinished jobs."""

    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        """The shared config allowing one unfinished job per user."""
        jp_server_config["QiskitRuntimeApp"]["max_pending_jobs_per_user"] = 1
        return jp_server_config

    async def test_second_job_is_429_until_the_first_finishes(self, jp_fetch) -> None:
        """With one job running, another is refused with 429 and a clear message (and not
        stored); once the first is cancelled, a new job is accepted."""
        first = await submit(jp_fetch, slow_job())
        await wait_for_state(jp_fetch, first, {"Running"})
        request = jp_fetch(*API, "jobs", method="POST", body=json.dumps(bell_job()))
        message = await error_of(request, status=429)
        assert "You already have 1 unfinished jobs" in message
        assert "max_pending_jobs_per_user" in message
        assert (await get_json(jp_fetch, "jobs"))["count"] == 1

        assert await cancel(jp_fetch, first) == 204
        await wait_for_state(jp_fetch, first, FINAL_STATES)
        # The job's slot is released just after its final state is stored: allow a few tries.
        response = None
        for _ in range(MAX_POLLS):
            response = await jp_fetch(
                *API, "jobs", method="POST", body=json.dumps(slow_job()), raise_error=False
            )
            if response.code != 429:
                break
            await asyncio.sleep(POLL_SECONDS)
        assert response is not None and response.code == 201, response and response.body
        second = decode(response)["id"]
        assert await cancel(jp_fetch, second) == 204
        await wait_for_state(jp_fetch, second, FINAL_STATES)
