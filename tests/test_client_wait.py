"""Results as soon as they exist, through the official client against a real server process.

``connect()``'s jobs wait on the server (``GET /jobs/{id}/wait``) instead of polling; the stock
client, unchanged, finds a quick job final on its first status request (``quick_job_wait``).
Requests are counted on the client's own objects (per instance, restored after each test).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from qiskit_ibm_runtime import Batch, QiskitRuntimeService, RuntimeJobV2, SamplerV2
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import RuntimeInvalidStateError, RuntimeJobTimeoutError

from jupyter_qiskit_runtime.kernel.client import (
    LOCAL_INSTANCE,
    _environment,
    api_urls,
    request_api_key,
    resolve_url,
)
from jupyter_qiskit_runtime.kernel.jupyter_service import JupyterRuntimeJob, JupyterRuntimeService

from .circuits import bell_isa, endless_circuit, sampler_job_body
from .rest import RestClient
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class Counter:
    """Counts the calls of one method of one object, passing them on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
        self.calls: list[tuple[Any, ...]] = []
        original: Callable[..., Any] = getattr(target, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(args)
            return original(*args, **kwargs)

        monkeypatch.setattr(target, name, counting)


def wait_requests(counter: Counter) -> list[tuple[Any, ...]]:
    """The ``GET /jobs/{id}/wait`` requests among a session's ``get`` calls."""
    return [call for call in counter.calls if str(call[0]).endswith("/wait")]


def finished_at(job: RuntimeJobV2) -> datetime:
    """When the server says the job reached its final state."""
    return datetime.fromisoformat(job.metrics()["timestamps"]["finished"])


# -- connect() ----------------------------------------------------------------------------------


def test_connect_job_result_waits_on_the_server(service, monkeypatch) -> None:
    """``job.result()`` never polls the job's state: a job that the submission's answer says is
    final (it finished within the server's quick wait) sends no request to wait, any other one
    asks the server once to answer when the job is final; it returns after the job finished."""
    assert isinstance(service, JupyterRuntimeService)
    backend = service.backend("fake_manila@aer_ideal")
    job = SamplerV2(mode=backend).run([bell_isa()], shots=1024)
    assert type(job) is JupyterRuntimeJob
    final_at_submission = job._status == "DONE"
    polls = Counter(monkeypatch, job._api_client, "job_get")
    gets = Counter(monkeypatch, job._api_client._session, "get")
    counts = job.result()[0].data.meas.get_counts()
    returned = datetime.now(UTC)
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1024
    assert polls.calls == []
    assert len(wait_requests(gets)) == (0 if final_at_submission else 1)
    assert finished_at(job) <= returned
    assert job.status() == "DONE"


def test_connect_result_timeout_and_cancel(service) -> None:
    """On a job that runs on, ``result(timeout=...)`` raises the client's timeout error once the
    timeout has passed; after ``cancel()`` the wait reports the cancellation."""
    backend = service.backend("ideal_32q@aer_ideal")
    job = SamplerV2(mode=backend).run([endless_circuit()], shots=100_000)
    try:
        started = time.monotonic()
        with pytest.raises(RuntimeJobTimeoutError, match=r"after 1\.5 secs"):
            job.result(timeout=1.5)
        assert time.monotonic() - started >= 1.5
        assert job.status() in ("QUEUED", "RUNNING")
    finally:
        job.cancel()
    fresh = service.job(job.job_id())
    with pytest.raises(RuntimeInvalidStateError, match="cancelled"):
        fresh.result(timeout=60)
    assert fresh.status() == "CANCELLED"


def test_connect_jobs_read_back_and_in_a_batch_wait_on_the_server(service, monkeypatch) -> None:
    """``service.job(id)``, ``service.jobs()`` and jobs of a ``Batch`` are the waiting kind."""
    backend = service.backend("fake_manila@aer_ideal")
    with Batch(backend=backend) as batch:
        job = SamplerV2(mode=batch).run([bell_isa()], shots=100)
        assert type(job) is JupyterRuntimeJob and job.session_id == batch.session_id
        assert sum(job.result()[0].data.meas.get_counts().values()) == 100
    again = service.job(job.job_id())
    assert type(again) is JupyterRuntimeJob
    polls = Counter(monkeypatch, again._api_client, "job_get")
    assert sum(again.result()[0].data.meas.get_counts().values()) == 100
    assert polls.calls == []
    listed = service.jobs(limit=3)
    assert listed and all(type(j) is JupyterRuntimeJob for j in listed)
    assert job.job_id() in {j.job_id() for j in listed}


class FakeSession:
    """A client session of a server without ``/jobs/{id}/wait``."""

    def get(self, url: str, **kwargs: Any) -> Any:
        """Every request is a 404, as the stock client reports it."""
        raise RequestsApiError(f"404 Client Error: Not Found for url: {url}", 404)


class FakeApiClient:
    """The client's API client, answering ``job_get`` with a state sequence."""

    def __init__(self, states: list[str]) -> None:
        self._session = FakeSession()
        self.states = states

    def job_get(self, job_id: str, exclude_params: bool = True) -> dict[str, Any]:
        """The next state."""
        return {"state": {"status": self.states.pop(0)}}


def test_a_server_without_the_wait_endpoint_is_polled_as_before() -> None:
    """Against a server that cannot wait, the job falls back to the stock client's polling."""
    api = FakeApiClient(["Running", "Completed"])
    job = JupyterRuntimeJob(
        backend=None, api_client=api, job_id="j1", program_id="sampler", service=None
    )
    job.wait_for_final_state(poll_interval=0.1)
    assert job.status() == "DONE" and api.states == []


# -- the unmodified client ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose ``quick_job_wait`` is longer than a quick job takes, even with its worker's
    start: whether the first status request finds the job final does not depend on load."""
    with ServerProcess(
        tmp_path_factory.mktemp("patient"),
        "patient-token",
        "--QiskitRuntimeApp.pool_size=1",
        "--QiskitRuntimeApp.quick_job_wait=60",
    ) as proc:
        yield proc


def stock_service(server: ServerProcess) -> QiskitRuntimeService:
    """The client's own ``QiskitRuntimeService``, built with the documented recipe."""
    api_url, iam_url = api_urls(server.url)
    with _environment(IAM_URL=iam_url, QISKIT_FUNCTIONS_EXPERIMENTAL="1"):
        return QiskitRuntimeService(
            channel="ibm_quantum_platform",
            token=request_api_key(server.url, server.token),
            url=api_url,
            instance=LOCAL_INSTANCE,
            url_resolver=resolve_url,
        )


def test_stock_client_finds_a_quick_job_final_on_its_first_status_request(
    patient: ServerProcess, monkeypatch
) -> None:
    """The unmodified client asks for the job's state once: the answer is already Completed,
    so it never sleeps its poll interval."""
    service = stock_service(patient)
    assert type(service) is QiskitRuntimeService
    backend = service.backend("fake_manila@aer_ideal")
    job = SamplerV2(mode=backend).run([bell_isa()], shots=1024)
    assert type(job) is RuntimeJobV2
    polls = Counter(monkeypatch, job._api_client, "job_get")
    counts = job.result()[0].data.meas.get_counts()
    assert sum(counts.values()) == 1024
    assert len(polls.calls) == 1
    assert finished_at(job) <= datetime.now(UTC)


# -- per user -------------------------------------------------------------------------------------


def test_waits_and_changes_belong_to_their_user(two_users: ServerProcess) -> None:
    """Bob cannot wait for alice's job (404, as for a job that does not exist); his changes feed
    never shows her jobs, even while it waits as her job runs; his own job wakes it. (The server
    is shared: the jobs are deleted at the end.)"""
    alice, bob = RestClient(two_users, "alice-token"), RestClient(two_users, "bob-token")
    body = sampler_job_body("fake_manila@aer_ideal", bell_isa())
    bob_cursor = bob.get("jobs/changes").json()["cursor"]
    created: list[tuple[RestClient, str]] = []
    try:
        with ThreadPoolExecutor(1) as pool:
            bob_waits = pool.submit(
                bob.get, "jobs/changes", params={"since": bob_cursor, "timeout": "1"}
            )
            job_id = alice.submit(body)
            created.append((alice, job_id))
            assert bob_waits.result().json() == {"jobs": [], "cursor": bob_cursor, "more": False}
        missing = bob.get(f"jobs/{job_id}/wait", params={"timeout": "1"})
        assert missing.status_code == 404
        assert f"Job {job_id} was not found" in missing.json()["error"]["message"]
        done = alice.get(f"jobs/{job_id}/wait", params={"timeout": "60"}).json()
        assert done["state"]["status"] == "Completed"
        assert job_id in [j["id"] for j in alice.get("jobs/changes").json()["jobs"]]
        assert bob.get("jobs/changes", params={"since": bob_cursor}).json()["jobs"] == []

        with ThreadPoolExecutor(1) as pool:
            bob_waits = pool.submit(
                bob.get, "jobs/changes", params={"since": bob_cursor, "timeout": "60"}
            )
            own = bob.submit(body)
            created.append((bob, own))
            assert [j["id"] for j in bob_waits.result().json()["jobs"]] == [own]
        finished = bob.get(f"jobs/{own}/wait", params={"timeout": "60"}).json()
        assert finished["status"] == "Completed"
    finally:
        for user, made in created:
            user.get(f"jobs/{made}/wait", params={"timeout": "60"})
            assert user.request("DELETE", f"jobs/{made}").status_code == 204
