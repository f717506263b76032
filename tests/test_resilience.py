"""Jupyter stays responsive and whole while simulations run, crash, or outgrow their memory.

These run against a real server process with one job slot and a 1 GiB worker memory limit.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator

import psutil
import pytest
import requests
from qiskit import transpile
from qiskit_ibm_runtime import SamplerV2
from qiskit_ibm_runtime.exceptions import RuntimeJobMaxTimeoutError

from jupyter_qiskit_runtime import connect
from jupyter_qiskit_runtime.execution.workers import WorkerFailed, WorkerPool

from .circuits import bell_circuit, entangling_circuit, params_for, sampler_job_body, slow_circuit
from .rest import FINAL, RestClient
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WIDE = "ideal_32q@aer_ideal"


@pytest.fixture(scope="module")
def solo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that runs one job at a time, with a worker memory limit of 1 GiB."""
    with ServerProcess(
        tmp_path_factory.mktemp("solo"),
        "solo-token",
        "--QiskitRuntimeApp.pool_size=1",
        "--QiskitRuntimeApp.prestart_workers=1",
        f"--QiskitRuntimeApp.worker_memory_limit={2**30}",
    ) as proc:
        yield proc


@pytest.fixture(scope="module")
def rest(solo: ServerProcess) -> RestClient:
    """REST access to the solo server."""
    return RestClient(solo)


@pytest.fixture(scope="module")
def slow_body() -> dict:
    """A job body that simulates for several seconds."""
    return sampler_job_body(WIDE, slow_circuit())


def worker_processes(server: ServerProcess) -> list[psutil.Process]:
    """The server's worker processes (spawned multiprocessing children)."""
    assert server.process is not None
    children = psutil.Process(server.process.pid).children(recursive=True)
    return [p for p in children if "spawn_main" in " ".join(p.cmdline())]


def test_cancel_queued_job_through_the_client(
    solo: ServerProcess, rest: RestClient, slow_body
) -> None:
    """A job queued behind a running one is cancelled at once; the running one is stopped too."""

    service = connect(solo.url, solo.token)
    running = rest.submit(slow_body)
    rest.wait_for(running, {"Running"})
    backend = service.backend("fake_manila@aer_ideal")
    queued = SamplerV2(mode=backend).run([transpile(bell_circuit(), backend=backend)])
    assert queued.status() == "QUEUED"
    queued.cancel()
    assert queued.status() == "CANCELLED"
    assert rest.status(running) == "Running"
    assert rest.post(f"jobs/{running}/cancel").status_code == 204
    assert rest.wait_for(running, FINAL)["state"]["status"] == "Cancelled"


def test_server_answers_promptly_during_a_long_simulation(
    solo: ServerProcess, rest: RestClient, slow_body
) -> None:
    """While a worker simulates, Jupyter's /api/status and job status requests are answered
    in a small fraction of the simulation's time (Aer would freeze the server in-process)."""
    done = rest.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit()))
    rest.wait_for(done, FINAL)
    slow = rest.submit(slow_body)
    rest.wait_for(slow, {"Running"})
    latencies = []
    for _ in range(10):
        for url, params in (
            (f"{solo.url}api/status", None),
            (f"{solo.api}/jobs/{done}", {"exclude_params": "true"}),
        ):
            started = time.perf_counter()
            response = requests.get(url, headers=rest.headers, params=params, timeout=60)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
        time.sleep(0.1)
    assert rest.status(slow) == "Running", "the requests must have been made during the run"
    job = rest.wait_for(slow, FINAL)
    assert job["state"]["status"] == "Completed"
    metrics = rest.get(f"jobs/{slow}/metrics").json()
    run_seconds = metrics["usage"]["seconds"]
    assert run_seconds > 1.0, "the simulation must be long enough to matter"
    assert max(latencies) < run_seconds / 5, (latencies, run_seconds)


def test_killed_worker_fails_only_its_job(solo: ServerProcess, rest: RestClient, slow_body) -> None:
    """Killing the worker mid-job fails that job with a reason; the next job runs normally."""
    victim = rest.submit(slow_body)
    rest.wait_for(victim, {"Running"})
    workers = worker_processes(solo)
    assert len(workers) == 1
    os.kill(workers[0].pid, signal.SIGKILL)
    job = rest.wait_for(victim, FINAL)
    assert job["state"]["status"] == "Failed"
    assert "died unexpectedly" in job["state"]["reason"]
    after = rest.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit()))
    assert rest.wait_for(after, FINAL)["state"]["status"] == "Completed"
    assert requests.get(f"{solo.url}api/status", headers=rest.headers, timeout=10).ok


def test_job_over_the_memory_budget_fails_before_allocating(
    solo: ServerProcess, rest: RestClient
) -> None:
    """A 27-qubit entangling circuit needs a 2 GiB statevector, over the 1 GiB budget, and no
    matrix-product-state bound fits either: the job fails at once with the memory it needs and
    what to change, without the worker ever growing, and the server carries on."""
    job_id = rest.submit(sampler_job_body(WIDE, entangling_circuit(27), shots=10))
    job = rest.wait_for(job_id, FINAL)
    assert job["state"]["status"] == "Failed"
    reason = job["state"]["reason"]
    assert "needs about 2 GiB" in reason and "the budget is 1 GiB" in reason, reason
    assert "worker_memory_limit" in reason
    assert all(p.memory_info().rss < 2**30 for p in worker_processes(solo))
    after = rest.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit()))
    assert rest.wait_for(after, FINAL)["state"]["status"] == "Completed"


def test_worker_over_its_resident_memory_limit_is_stopped() -> None:
    """The backstop behind the estimate: a worker whose resident memory passes the limit is
    killed and the job fails with the figure. An idle worker already holds more than 64 MiB
    (Python, Qiskit, Aer), so a 64 MiB limit trips it during a seconds-long job."""
    pool = WorkerPool(1)
    try:
        worker = pool.acquire()
        task = {
            "job_id": "rss-test",
            "program_id": "sampler",
            "backend": {"name": WIDE, "fake_class": None, "n_qubits": 32, "noisy": False},
            "params": json.dumps(params_for([(slow_circuit(),)])),
            "memory_budget": 0,
        }
        with pytest.raises(WorkerFailed, match="more than the worker limit of 64 MiB"):
            worker.run(task, should_stop=lambda: False, memory_limit=64 * 2**20)
        pool.release(worker)
    finally:
        pool.close()


def test_job_over_its_maximum_execution_time_is_stopped(
    solo: ServerProcess, rest: RestClient
) -> None:
    """A job whose ``cost`` (maximum execution seconds) runs out is stopped and reported as IBM
    does, so the client raises its RuntimeJobMaxTimeoutError."""
    body = sampler_job_body(WIDE, slow_circuit())
    body["cost"] = 1
    job_id = rest.submit(body)
    job = rest.wait_for(job_id, FINAL)
    assert job["state"]["status"] == "Cancelled"
    assert job["state"]["reason_code"] == 1305
    service = connect(solo.url, solo.token)
    with pytest.raises(RuntimeJobMaxTimeoutError, match="maximum execution time of 1 s"):
        service.job(job_id).result()
