"""Sessions and batches through the real client and the REST API of a real server process."""

from __future__ import annotations

import time
from typing import Any

import pytest
from qiskit import transpile
from qiskit_ibm_runtime import Batch, SamplerV2, Session

from jupyter_qiskit_runtime import connect

from .circuits import bell_circuit, bell_isa, manila_blocker, sampler_job_body, slow_circuit
from .rest import FINAL, RestClient
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MANILA = "fake_manila@aer_ideal"
#: Every field ``Session.details()`` reads.
DETAIL_FIELDS = {
    "id", "backend_name", "interactive_ttl", "max_ttl", "active_ttl", "state", "accepting_jobs",
    "last_job_started", "last_job_completed", "started_at", "closed_at", "activated_at", "mode",
    "elapsed_time", "timestamps",
}  # fmt: skip


@pytest.fixture(scope="module")
def rest(server: ServerProcess) -> RestClient:
    """REST access to the shared server."""
    return RestClient(server)


def open_session(rest: RestClient, **fields: Any) -> str:
    """Create a session over REST; its id."""
    response = rest.post("sessions", json={"backend": MANILA, "mode": "dedicated", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def session_job(session_id: str, backend: str = MANILA, shots: int | None = None) -> dict:
    """A job bound to a session: a Bell pair, or with ``shots`` a job that runs for minutes."""
    if shots is None:
        body = sampler_job_body(backend, bell_isa())
    else:
        body = sampler_job_body(backend, manila_blocker(), shots=shots)
    return {**body, "session_id": session_id}


def test_session_runs_jobs_and_reports_its_life(service, rest: RestClient) -> None:
    """A Session on a fake backend runs several jobs bound to it; its details carry every field
    the client reads, it is active while used and closed after the ``with`` block."""
    backend = service.backend("fake_manila@aer")
    isa = transpile(bell_circuit(), backend=backend, seed_transpiler=3)
    with Session(backend=backend) as session:
        assert session.session_id is not None
        assert session.details()["state"] == "open"
        sampler = SamplerV2(mode=session)
        jobs = [sampler.run([isa], shots=100) for _ in range(3)]
        for job in jobs:
            assert sum(job.result()[0].data.meas.get_counts().values()) == 100
            assert job.session_id == session.session_id
        assert set(rest.get(f"sessions/{session.session_id}").json()) >= DETAIL_FIELDS
        details = session.details()
        assert details["max_time"] == 28800 and details["interactive_timeout"] == 60
        assert details["state"] == "active" and details["mode"] == "dedicated"
        assert details["backend_name"] == "fake_manila@aer"
        assert details["started_at"] <= details["last_job_started"] <= details["last_job_completed"]
        assert session.status() == "In progress, accepting new jobs"
        assert session.usage() > 0
    assert session.details()["state"] == "closed"
    assert session.details()["closed_at"] is not None


def test_batch_cancel_cancels_its_pending_jobs(service, rest: RestClient) -> None:
    """Cancelling a Batch closes it and cancels its queued and running jobs; the server then
    refuses jobs for it with 409."""
    backend = service.backend("fake_manila@aer")
    with Batch(backend=backend) as batch:
        assert batch.details()["mode"] == "batch"
        blockers = [
            rest.submit(session_job(batch.session_id, "fake_manila@aer", 10**6)) for _ in range(3)
        ]
        rest.wait_for(blockers[0], {"Running"})
        batch.cancel()
        states = {rest.wait_for(job_id, FINAL)["state"]["status"] for job_id in blockers}
        assert states == {"Cancelled"}
        assert batch.details()["state"] == "closed"
    refused = rest.post("jobs", json=session_job(batch.session_id))
    assert refused.status_code == 409
    assert "does not accept jobs" in refused.json()["error"]["message"]


def test_stop_accepting_lets_pending_jobs_finish_then_closes(rest: RestClient) -> None:
    """``PATCH accepting_jobs=false`` refuses new jobs at once; the session's running job still
    completes, and then the session is closed."""
    session_id = open_session(rest)
    running = rest.submit(session_job(session_id, shots=10_000))
    rest.wait_for(running, {"Running"})
    response = rest.request("PATCH", f"sessions/{session_id}", {"accepting_jobs": False})
    assert response.status_code == 204
    assert rest.get(f"sessions/{session_id}").json()["state"] == "pending_closed"
    assert rest.post("jobs", json=session_job(session_id)).status_code == 409
    assert rest.wait_for(running, FINAL)["state"]["status"] == "Completed"
    assert rest.get(f"sessions/{session_id}").json()["state"] == "closed"


def test_interactive_timeout_makes_a_session_inactive_until_its_next_job(
    rest: RestClient,
) -> None:
    """With no job for longer than ``interactive_ttl`` the session is inactive; a new job
    makes it active again."""
    session_id = open_session(rest, interactive_ttl=1)
    rest.wait_for(rest.submit(session_job(session_id)), FINAL)
    time.sleep(1.5)
    assert rest.get(f"sessions/{session_id}").json()["state"] == "inactive"
    rest.wait_for(rest.submit(session_job(session_id)), FINAL)
    assert rest.get(f"sessions/{session_id}").json()["state"] == "active"


def test_max_ttl_closes_the_session_and_cancels_its_queued_jobs(rest: RestClient) -> None:
    """Once ``max_ttl`` has passed since its first job started, the session is closed: its job
    still queued is cancelled with that reason, and new jobs are refused."""
    session_id = open_session(rest, max_ttl=1)
    first = rest.submit(session_job(session_id, shots=10**6))
    rest.wait_for(first, {"Running"})
    # Both job slots are now busy, so this session's next job waits in the queue past max_ttl.
    other = rest.submit(sampler_job_body("ideal_32q@aer_ideal", slow_circuit(layers=10)))
    queued = rest.submit(session_job(session_id))
    cancelled = rest.wait_for(queued, FINAL)
    assert cancelled["state"]["status"] == "Cancelled"
    assert "reached its maximum time of 1 s" in cancelled["state"]["reason"]
    assert rest.get(f"sessions/{session_id}").json()["state"] == "closed"
    assert rest.post("jobs", json=session_job(session_id)).status_code == 409
    for job_id in (first, other):
        assert rest.request("POST", f"jobs/{job_id}/cancel").status_code in (204, 409)
        rest.wait_for(job_id, FINAL)


BAD_SESSION_REQUESTS = [
    ("POST", "sessions", {"mode": "dedicated"}, 400, "'backend' is required"),
    ("POST", "sessions", {"backend": MANILA, "mode": "exclusive"}, 400, "dedicated, batch"),
    ("POST", "sessions", {"backend": "fake_manla@aer", "mode": "batch"}, 404, "fake_manila@aer"),
    ("POST", "sessions", {"backend": MANILA, "max_ttl": -5}, 400, "'max_ttl' must be a positive"),
    ("POST", "sessions", {"backend": MANILA, "max_ttl": True}, 400, "'max_ttl' must be a positive"),
    ("POST", "sessions", {"backend": MANILA, "interactive_ttl": "1m"}, 400, "'interactive_ttl'"),
    ("POST", "sessions", [MANILA], 400, "must be a JSON object"),
    ("GET", "sessions/nosuchsession", None, 404, "Session nosuchsession was not found"),
    ("PATCH", "sessions/nosuchsession", {"accepting_jobs": False}, 404, "was not found"),
    ("DELETE", "sessions/nosuchsession/close", None, 404, "was not found"),
    ("POST", "jobs", {**sampler_job_body(MANILA, bell_circuit()), "session_id": "nosuch"}, 404,
     "Session nosuch was not found"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "fragment"), BAD_SESSION_REQUESTS)
def test_bad_session_request_is_a_4xx_that_says_what_is_wrong(
    rest: RestClient, method: str, path: str, body: Any, status: int, fragment: str
) -> None:
    """Each bad session request is answered with its 4xx and a message naming the problem."""
    response = rest.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]


def test_session_rules_for_jobs_and_updates(rest: RestClient) -> None:
    """A job on another backend than its session's is a 400; a session cannot be reopened."""
    session_id = open_session(rest)
    wrong = rest.post("jobs", json={**sampler_job_body("fake_lima@aer_ideal", bell_circuit()),
                                    "session_id": session_id})  # fmt: skip
    assert wrong.status_code == 400
    assert f"runs on {MANILA}" in wrong.json()["error"]["message"]
    reopen = rest.request("PATCH", f"sessions/{session_id}", {"accepting_jobs": True})
    assert reopen.status_code == 400
    assert "cannot be reopened" in reopen.json()["error"]["message"]


def test_sessions_belong_to_their_user(two_users: ServerProcess) -> None:
    """Bob can neither read, close, cancel nor submit jobs to alice's session."""
    alice, bob = RestClient(two_users, "alice-token"), RestClient(two_users, "bob-token")
    session_id = open_session(alice)
    assert bob.get(f"sessions/{session_id}").status_code == 404
    assert (
        bob.request("PATCH", f"sessions/{session_id}", {"accepting_jobs": False}).status_code == 404
    )
    assert bob.request("DELETE", f"sessions/{session_id}/close").status_code == 404
    assert bob.post("jobs", json=session_job(session_id)).status_code == 404
    assert alice.get(f"sessions/{session_id}").json()["state"] == "open"
    bob_service = connect(two_users.url, "bob-token")
    backend = bob_service.backend("fake_manila@aer")
    with Session(backend=backend) as session:
        assert alice.get(f"sessions/{session.session_id}").status_code == 404
