"""The bursts of the throughput scenario (throughput.py): a raw HTTP burst, a burst from one
``connect()`` process, the in-process baseline, and what each run measured (``Phase``)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from benchmarks.report import Stats
from benchmarks.server import BenchmarkServer, cpu_seconds

BACKEND = "fake_manila@aer_ideal"
FINAL = {"Completed", "Failed", "Cancelled"}


def worker_pids(server_pid: int) -> list[int]:
    """The server's child processes (its job workers and multiprocessing's helpers)."""
    import psutil

    return [p.pid for p in psutil.Process(server_pid).children(recursive=True)]


@dataclass
class Phase:
    """One way of running jobs, over the runs."""

    rates: list[float] = field(default_factory=list)
    lost: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    #: CPU milliseconds per job, per run: {"server": ..., "workers": ..., "clients": ...}.
    cpu: list[dict[str, float]] = field(default_factory=list)
    #: Milliseconds each of a sample of the jobs spent simulating (from their metrics).
    simulating: list[float] = field(default_factory=list)

    def cpu_median(self, part: str) -> float:
        return Stats.of([c[part] for c in self.cpu]).median


def final_states(server: BenchmarkServer, ids: list[str]) -> dict[str, str]:
    """Each job's status as the server has it now ("missing" for a 404)."""
    import requests

    states = {}
    with requests.Session() as session:
        session.headers.update(server.headers)
        for job_id in ids:
            answer = session.get(f"{server.api}/jobs/{job_id}", timeout=60)
            states[job_id] = answer.json()["status"] if answer.status_code == 200 else "missing"
    return states


def count_outcome(phase: Phase, expected: int, states: dict[str, str], errors: list[str]) -> None:
    """Add a run's lost and failed jobs to the phase."""
    not_final = sum(1 for s in states.values() if s not in FINAL)
    phase.lost += (expected - len(states)) + not_final
    phase.failed += sum(1 for s in states.values() if s in FINAL and s != "Completed")
    if errors:
        phase.failed += len(errors)
        phase.errors += errors[:3]


def run_burst(
    server: BenchmarkServer, body: bytes, count: int, submitters: int, phase: Phase
) -> None:
    """One raw HTTP burst: submit ``count`` jobs from ``submitters`` threads, wait for all."""
    import requests

    local = threading.local()
    headers = {**server.headers, "Content-Type": "application/json"}

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(headers)
        return local.session

    def submit(_: int) -> str | None:
        try:
            answer = session().post(f"{server.api}/jobs", data=body, timeout=120)
        except requests.RequestException:
            return None
        return str(answer.json()["id"]) if answer.status_code == 201 else None

    pids = {"server": [server.pid], "workers": worker_pids(server.pid), "clients": [os.getpid()]}
    before = {part: cpu_seconds(p) for part, p in pids.items()}
    start = time.monotonic()
    with ThreadPoolExecutor(submitters) as pool:
        submitted = list(pool.map(submit, range(count)))
    ids = [job_id for job_id in submitted if job_id]
    states: dict[str, str] = {}
    waiter = session()
    for job_id in ids:
        status = "missing"
        for _ in range(10):  # each wait is at most 60 s
            answer = waiter.get(f"{server.api}/jobs/{job_id}/wait?timeout=60", timeout=90)
            if answer.status_code != 200:
                break
            status = answer.json()["status"]
            if status in FINAL:
                break
        states[job_id] = status
    end = time.monotonic()
    after = {part: cpu_seconds(p) for part, p in pids.items()}
    completed = sum(1 for s in states.values() if s == "Completed")
    phase.rates.append(completed / (end - start))
    phase.cpu.append({part: (after[part] - before[part]) * 1e3 / count for part in pids})
    count_outcome(phase, count, states, [])
    for job_id in ids[:: max(len(ids) // 20, 1)]:
        metrics = waiter.get(f"{server.api}/jobs/{job_id}/metrics", timeout=60).json()
        phase.simulating.append(float(metrics["usage"]["seconds"]) * 1e3)


def run_connect_burst(
    server: BenchmarkServer, circuit: Any, count: int, shots: int, phase: Phase
) -> None:
    """``count`` jobs submitted at once from this process through ``connect()``, then each
    result."""
    from qiskit_ibm_runtime import SamplerV2

    from jupyter_qiskit_runtime import connect

    sampler = SamplerV2(mode=connect(server.url, server.token).backend(BACKEND))
    sampler.run([circuit], shots=shots).result()  # warm: the backend's properties
    pids = {"server": [server.pid], "workers": worker_pids(server.pid), "clients": [os.getpid()]}
    before = {part: cpu_seconds(p) for part, p in pids.items()}
    start = time.monotonic()
    jobs, errors = [], []
    for _ in range(count):
        try:
            jobs.append(sampler.run([circuit], shots=shots))
        except Exception as exc:  # a failure is a result here
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
    for job in jobs:
        try:
            counts = job.result()[0].data.meas.get_counts()
            if sum(counts.values()) != shots:
                errors.append(f"{job.job_id()}: {sum(counts.values())} shots")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
    end = time.monotonic()
    after = {part: cpu_seconds(p) for part, p in pids.items()}
    phase.rates.append((len(jobs) - len(errors)) / (end - start))
    phase.cpu.append({part: (after[part] - before[part]) * 1e3 / count for part in pids})
    count_outcome(phase, count, final_states(server, [j.job_id() for j in jobs]), errors)


def run_baseline(circuit: Any, count: int, shots: int, phase: Phase) -> None:
    """The same jobs one after another in this process."""
    from qiskit.primitives import BackendSamplerV2
    from qiskit_aer import AerSimulator

    sampler = BackendSamplerV2(backend=AerSimulator())
    sampler.run([circuit], shots=shots).result()
    before = cpu_seconds([os.getpid()])
    start = time.monotonic()
    for _ in range(count):
        counts = sampler.run([circuit], shots=shots).result()[0].data.meas.get_counts()
        if sum(counts.values()) != shots:
            phase.failed += 1
    end = time.monotonic()
    phase.rates.append(count / (end - start))
    phase.cpu.append({"clients": (cpu_seconds([os.getpid()]) - before) * 1e3 / count})


def request_cpu(server: BenchmarkServer, path: str = "api/status", count: int = 200) -> float:
    """Milliseconds of the server process's CPU for one plain request to ``path`` (below the
    server's URL): what Jupyter Server and Tornado cost a request before any of this API."""
    import requests

    with requests.Session() as session:
        session.headers.update(server.headers)
        for _ in range(20):
            session.get(f"{server.url}{path}", timeout=60)
        before = cpu_seconds([server.pid])
        for _ in range(count):
            session.get(f"{server.url}{path}", timeout=60)
        return (cpu_seconds([server.pid]) - before) * 1e3 / count
